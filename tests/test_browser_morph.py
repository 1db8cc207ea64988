"""The Latent page's editor in a real browser (issue #29): the generator runs in Chromium (onnxruntime-web, wasm)
on every slider input event, so the canvas changes while the thumb is dragged, with no message to the server until
the release; the canvas equals Generator.images_uint8 within one grey level for every shipped latent model.

The pixel checks use the component's test hook `window.__latentMorph` (frontend/morph.js): `draw(z, psi, cls)`
sets z on the page's editor, draws it and returns the canvas's RGBA bytes; `drawMoved(z, k, value)` moves z along
principal direction k as the PC slider does first. Drags use the real mouse on the real <input type="range">.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gan_core import latent_space
from gan_core.explore import directions
from gan_core.inference import Generator
from browser_helpers import CHROMIUM, Sent, chromium_page, settle, start_app, stop_app

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "pretrained"
LATENT_MODELS = ("mnist_dcgan", "mnist_dense", "fashion_dcgan", "digits32", "mnist_cdcgan", "faces_gray64",
                 "faces_rgb64")
SEEDS = range(16)
WAIT_MS = 120_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def start_morph_app(tmp: Path, extra_path: str = "") -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` over an empty runs folder (the shipped pretrained models only)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"no chromium at {CHROMIUM}")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    (tmp / "runs").mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (extra_path, str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "GAN_EXPLORER_RUNS": str(tmp / "runs"), "GAN_EXPLORER_CACHE": str(tmp / "cache"),
           "PYTHONPATH": path, "GAN_EXPLORER_BROWSER_MORPH": "1"}
    return start_app(env, tmp / "streamlit.log", timeout=120)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    proc, url = start_morph_app(tmp_path_factory.mktemp("morph"))
    yield url
    stop_app(proc)


def wait_editor(page, previous_sha: str | None = None) -> str:
    """Until the browser editor shows a frame (of another model than `previous_sha`); returns its sha256."""
    page.wait_for_function("""(previous) => { const m = window.__latentMorph, s = m && m.editor();
        return s && !s.root.hidden && s.frameNo > 0 && !s.busy && s.data.model.sha256 !== previous; }""",
                           arg=previous_sha, timeout=WAIT_MS)
    settle(page)
    return page.evaluate("() => window.__latentMorph.editor().data.model.sha256")


def open_latent(page, url: str) -> str:
    page.goto(f"{url}/latent")
    return wait_editor(page)


def pick_model(page, name: str, sha: str | None) -> str:
    page.locator('[data-testid="stSelectbox"]', has_text="Model").click()
    page.get_by_role("option", name=f"{name} (pretrained)").click()
    return wait_editor(page, sha)


def canvas(page, which: str = "editor") -> np.ndarray:
    return np.array(page.evaluate(f"() => window.__latentMorph.pixels('{which}')"), np.int16)


def frames(page) -> int:
    return page.evaluate("() => window.__latentMorph.editor().frameNo")


def drag(page, label: str, moves: int = 12) -> list[np.ndarray]:
    """Press on the slider's thumb and move right in steps, reading the canvas after each; returns the readings
    taken while the button is still down (the caller releases it)."""
    slider = page.locator(f'input[type="range"][aria-label="{label}"]')
    box = slider.bounding_box()
    lo, hi = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    value = float(slider.input_value())
    x = box["x"] + 8 + (value - lo) / (hi - lo) * (box["width"] - 16)
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    readings = [canvas(page)]
    step = max(min(box["x"] + box["width"] - 4 - x, box["width"] * 0.6), -box["width"] * 0.6) / moves
    if abs(step) < 2:  # the thumb is at the right end: drag left
        step = -box["width"] * 0.6 / moves
    for i in range(1, moves + 1):
        page.mouse.move(x + step * i, y)
        page.wait_for_timeout(40)
        readings.append(canvas(page))
    return readings


def test_dragging_z_pc_and_psi_morphs_the_canvas_with_no_message_until_release(app):
    from playwright.sync_api import expect

    with chromium_page(WAIT_MS) as page:
        sent = Sent(page)
        open_latent(page, app)
        for label in ("z[0]", "Truncation ψ"):
            before_sent, before_frames = sent.count, frames(page)
            readings = drag(page, label)
            changes = sum(np.abs(a - b).max() > 0 for a, b in zip(readings, readings[1:]))
            assert changes >= 3, f"dragging {label}: the canvas changed {changes} times while the button was down"
            assert frames(page) - before_frames >= 3
            assert sent.count == before_sent, f"dragging {label} sent {sent.count - before_sent} messages"
            page.mouse.up()
            page.wait_for_timeout(1500)
            assert sent.count == before_sent + 1, "the release sends exactly one message"
            settle(page)
        # principal directions: the same, from the mode menu
        page.locator('select[aria-label="Sliders"]').select_option("Principal directions")
        expect(page.locator('input[type="range"][aria-label^="PC1 · "]')).to_be_visible()
        label = page.locator('input[type="range"][aria-label^="PC1 · "]').get_attribute("aria-label")
        before_sent = sent.count
        readings = drag(page, label)
        assert sum(np.abs(a - b).max() > 0 for a, b in zip(readings, readings[1:])) >= 3
        assert sent.count == before_sent
        page.mouse.up()
        page.wait_for_timeout(1500)
        assert sent.count == before_sent + 1
        settle(page)
        # Python has the dragged z: the caption says edited, and the walk starts from exactly that z
        dragged = page.evaluate("() => window.__latentMorph.z()")
        expect(page.locator('[data-testid="latentMorph"] .morph-caption')).to_contain_text("(edited)")
        page.wait_for_function("() => window.__latentMorph.walk() && window.__latentMorph.walk().frameNo > 0")
        walk_a = page.evaluate("() => Array.from(window.__latentMorph.walk().walkA)")
        assert walk_a == dragged
        # the walk's first frame is the editor's image at psi = 1 (the scrubber at t = 0)
        psi = page.evaluate("() => window.__latentMorph.editor().psi")
        page.evaluate("(z) => window.__latentMorph.draw(z, 1, 0)", dragged)
        assert np.abs(canvas(page, "walk") - canvas(page)).max() == 0
        page.evaluate(f"(z) => window.__latentMorph.draw(z, {psi}, 0)", dragged)
        # Play renders frames in the browser without the server
        before_sent, walk_frames = sent.count, page.evaluate("() => window.__latentMorph.walk().frameNo")
        page.get_by_role("button", name="Play").click()
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Pause").click()
        assert page.evaluate("() => window.__latentMorph.walk().frameNo") - walk_frames >= 10
        assert sent.count == before_sent


def test_a_second_tab_keeps_its_own_z(app):
    with chromium_page(WAIT_MS) as page:
        open_latent(page, app)
        other = page.context.browser.new_context().new_page()  # its own tab and its own Streamlit session
        other.set_default_timeout(WAIT_MS)
        open_latent(other, app)
        z_other, image_other = other.evaluate("() => window.__latentMorph.z()"), canvas(other)
        readings = drag(page, "z[1]")
        page.mouse.up()
        assert np.abs(readings[-1] - readings[0]).max() > 0
        page.wait_for_timeout(1500)
        settle(page)
        z_page = page.evaluate("() => window.__latentMorph.z()")
        assert z_page != z_other
        assert other.evaluate("() => window.__latentMorph.z()") == z_other
        assert np.abs(canvas(other) - image_other).max() == 0
        # and the second tab's own drag moves its image, not the first tab's z
        other.bring_to_front()
        readings = drag(other, "z[2]")
        other.mouse.up()
        assert np.abs(readings[-1] - readings[0]).max() > 0
        other.wait_for_timeout(1500)
        settle(other)
        assert page.evaluate("() => window.__latentMorph.z()") == z_page


def _expected(name: str) -> Generator:
    path = sorted((PRETRAINED / name / "generators").glob("epoch_*[0-9].keras"))[-1]
    return Generator.load(path)


def test_the_canvas_equals_images_uint8_for_every_shipped_latent_model(app):
    """Seeds 0..15 per model, truncation psi = 0.6 on four of them and a PC1 move on four: max |diff| <= 1."""
    table = []
    with chromium_page(WAIT_MS) as page:
        sha = open_latent(page, app)
        for name in LATENT_MODELS:
            if name != "mnist_dcgan":
                sha = pick_model(page, name, sha)
            g = _expected(name)
            worst = {"seeds": 0, "truncation": 0, "PC1": 0}
            found = directions.load_or_compute(g)
            for seed in SEEDS:
                z = latent_space.z_from_seed(seed, g.noise_dim, g.noise)
                cls = seed % g.num_classes if g.conditional else None
                cases = [("seeds", z, 1.0)]
                if seed < 4:
                    cases.append(("truncation", z, 0.6))
                for case, zz, psi in cases:
                    got = page.evaluate("([z, psi, cls]) => window.__latentMorph.draw(z, psi, cls)",
                                        [zz.astype(float).tolist(), psi, cls or 0])
                    want = g.images_uint8(latent_space.truncate(zz, psi, g.noise)[None], cls)[0]
                    worst[case] = max(worst[case], _diff(got, want))
                if seed < 4:
                    value = 1.5
                    moved = found.move(z, 0, value - found.coordinates(z, latent_space.centre(g.noise))[0])
                    got = page.evaluate("([z, v, cls]) => window.__latentMorph.drawMoved(z, 0, v, 1, cls)",
                                        [z.astype(float).tolist(), value, cls or 0])
                    worst["PC1"] = max(worst["PC1"], _diff(got, g.images_uint8(moved[None], cls)[0]))
            table.append((name, worst))
    print("\nmodel            seeds 0..15  truncation 0.6  PC1 -> 1.5   (max |canvas - images_uint8|)")
    for name, worst in table:
        print(f"{name:<16} {worst['seeds']:>11}  {worst['truncation']:>14}  {worst['PC1']:>11}")
    assert all(v <= 1 for _, worst in table for v in worst.values()), table


def _diff(rgba: list[int], want: np.ndarray) -> int:
    h, w, c = want.shape
    got = np.array(rgba, np.int16).reshape(h, w, 4)[..., :3]
    want = np.repeat(want, 3, axis=-1) if c == 1 else want
    return int(np.abs(got - want.astype(np.int16)).max())


def test_a_generator_that_will_not_convert_keeps_the_server_path_with_one_line(tmp_path):
    """tf2onnx missing (a stand-in package that refuses to import): the fallback line, and the server's sliders
    still move the image."""
    blocker = tmp_path / "blocker" / "tf2onnx"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ImportError("tf2onnx is blocked for this test")\n')
    proc, url = start_morph_app(tmp_path / "app", extra_path=str(tmp_path / "blocker"))
    try:
        with chromium_page(WAIT_MS) as page:
            page.goto(f"{url}/latent")
            line = page.get_by_text("Drawn on the server:", exact=False)
            line.wait_for(timeout=WAIT_MS)
            assert "tf2onnx" in line.inner_text()
            settle(page)
            image = page.locator('[data-testid="stImage"] img').first
            before = image.get_attribute("src")
            thumb = page.locator('[data-testid="stSlider"]', has_text="z[0]").get_by_role("slider")
            thumb.focus()
            thumb.press("End")
            page.wait_for_function("(src) => document.querySelector('[data-testid=stImage] img').src !== src",
                                   arg=before, timeout=WAIT_MS)
    finally:
        stop_app(proc)
