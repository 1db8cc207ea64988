"""The Latent page's editor in the browser (issue #29): frames per second while a slider is dragged, and the old
server path beside it, in one run of real headless Chromium.

    python bench/browser_morph.py [--models mnist_dcgan,faces_rgb64] [--seconds 5] [--rate 60] [--today REV]

For each model: drags z[0], then PC1, with the mouse, `--rate` mouse moves a second for `--seconds` s, and prints
the frames drawn per second, the render time per frame (generator call + drawing, p50/p95, from the component's
own clock), the Streamlit websocket frames the page sent during the drag (0 expected) and in the 1.5 s after the
release (1 expected); then switches the page to the server path ("Morph in this browser" off) and times 20 arrow
key presses on z[0] until the new image is on screen (p50), as bench/browser_latency.py does. Then: the first
image after opening the page (server-drawn, and the browser's first frame) against today's app (`--today REV`,
default the parent of the commit that added the component, run from a `git archive` of it), and the size of the
component's assets.
Mid-drag screenshots go to /tmp/morph_shots/. Figures only: nothing is asserted.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPONENT_INIT = ROOT / "explorer_ui" / "components" / "latent_morph" / "__init__.py"  # its first commit's parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from browser_helpers import Sent  # noqa: E402
from browser_latency import CHROMIUM, one_move, start_server  # noqa: E402

ASSETS = ROOT / "explorer_ui" / "components" / "latent_morph" / "frontend"
SHOTS = Path("/tmp/morph_shots")
GOALS = "goals: >= 50 frames/s, render p50 <= 12 ms, p95 <= 25 ms; 0 messages while dragging, 1 after release"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))] if ordered else float("nan")


def wait_editor(page, previous: str | None = None, timeout: int = 300_000) -> str:
    page.wait_for_function("""(previous) => { const m = window.__latentMorph, s = m && m.editor();
        return s && !s.root.hidden && s.frameNo > 0 && !s.busy && s.data.model.sha256 !== previous; }""",
                           arg=previous, timeout=timeout)
    page.wait_for_timeout(1500)
    return page.evaluate("() => window.__latentMorph.editor().data.model.sha256")


def drag(page, label: str, seconds: float, rate: float, sent: Sent, shot: Path) -> dict:
    """Mouse down on the thumb, then `rate` moves a second back and forth across the slider, then up."""
    slider = page.locator(f'input[type="range"][aria-label="{label}"]')
    box = slider.bounding_box()
    lo, hi = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    value = float(slider.input_value())
    left, width = box["x"] + 8, box["width"] - 16
    x0, y = left + (value - lo) / (hi - lo) * width, box["y"] + box["height"] / 2
    page.evaluate("() => window.__latentMorph.reset()")
    frames0 = page.evaluate("() => window.__latentMorph.editor().frameNo")
    page.mouse.move(x0, y)
    page.mouse.down()
    sent_before = sent.count
    n = int(seconds * rate)
    start = time.perf_counter()
    for i in range(1, n + 1):
        phase = (i / n * 4) % 2  # two sweeps back and forth over the middle 80% of the slider
        x = left + width * (0.1 + 0.8 * (phase if phase <= 1 else 2 - phase))
        page.mouse.move(x, y)
        if i == n // 2:
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    page.wait_for_function("() => !window.__latentMorph.editor().busy")
    elapsed = time.perf_counter() - start
    during = sent.count - sent_before
    stats = page.evaluate("() => { const m = window.__latentMorph; "
                          "return {renders: m.stats.renders, inputs: m.stats.inputs, frames: m.editor().frameNo}; }")
    page.mouse.up()
    page.wait_for_timeout(1500)
    renders = stats["renders"]
    return {"label": label, "seconds": elapsed, "inputs": stats["inputs"], "frames": stats["frames"] - frames0,
            "fps": (stats["frames"] - frames0) / elapsed, "p50": statistics.median(renders) if renders else 0,
            "p95": percentile(renders, 0.95), "sent_during": during, "sent_after": sent.count - sent_before - during}


def drag_in_page(page, label: str, seconds: float, rate: float, sent: Sent) -> dict:
    """The same drag as input events dispatched in the page by a timer at `rate`/s: what the component sustains
    when the events come on time (the mouse driver above is a DevTools round trip per move, slow on a busy machine)."""
    page.evaluate("() => window.__latentMorph.reset()")
    sent_before = sent.count
    result = page.evaluate("""async ([label, seconds, rate]) => {
        const m = window.__latentMorph, s = m.editor();
        const input = s.root.querySelector(`input[type="range"][aria-label="${label}"]`);
        const lo = Number(input.min), hi = Number(input.max), frames0 = s.frameNo, n = Math.round(seconds * rate);
        const start = performance.now();
        await new Promise((done) => {
            let i = 0;
            const tick = () => {
                i += 1;
                const phase = (i / n * 4) % 2;
                input.value = String(lo + (hi - lo) * (0.1 + 0.8 * (phase <= 1 ? phase : 2 - phase)));
                input.dispatchEvent(new Event("input", { bubbles: true }));
                if (i >= n) { done(); return; }
                setTimeout(tick, Math.max(0, start + (i * 1000) / rate - performance.now()));
            };
            tick();
        });
        while (s.busy) await s.busy;
        const elapsed = (performance.now() - start) / 1000;
        const frames = s.frameNo - frames0;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        return { seconds: elapsed, inputs: m.stats.inputs, frames, renders: m.stats.renders };
    }""", [label, seconds, rate])
    during = sent.count - sent_before
    page.wait_for_timeout(1500)
    renders = result["renders"]
    return {"label": label, "seconds": result["seconds"], "inputs": result["inputs"], "frames": result["frames"],
            "fps": result["frames"] / result["seconds"], "p50": statistics.median(renders) if renders else 0,
            "p95": percentile(renders, 0.95), "sent_during": during, "sent_after": sent.count - sent_before - during}


def server_path(page, moves: int) -> float:
    """Turn the browser editor off and time arrow-key moves on the server's z[0] slider: p50 in ms."""
    page.get_by_text("Morph in this browser", exact=True).click()
    page.locator('[data-testid="stSlider"]', has_text="z[0]").wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    thumb = page.locator('[data-testid="stSlider"]', has_text="z[0]").get_by_role("slider")
    times = [one_move(page, thumb, i) for i in range(moves)]
    page.get_by_text("Morph in this browser", exact=True).click()  # back on, for the next model
    return statistics.median(times) * 1000


def pick_model(page, name: str, sha: str | None) -> str:
    if name == "mnist_dcgan" and sha is None:
        return wait_editor(page)
    page.locator('[data-testid="stSelectbox"]', has_text="Model").click()
    page.get_by_role("option", name=f"{name} (pretrained)").click()
    return wait_editor(page, sha)


def first_image(browser, url: str, browser_frame: bool) -> tuple[float, float | None]:
    """Seconds from opening /latent to the first server-drawn image, and to the browser's first frame."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.perf_counter()
    page.goto(f"{url}/latent")
    if browser_frame:
        page.wait_for_function("""() => { const m = window.__latentMorph, s = m && m.editor();
            return s && !s.root.hidden && s.frameNo > 0; }""", timeout=300_000)
    else:
        page.locator('img[alt="Generated image"]').first.wait_for(timeout=300_000)
    seconds = time.perf_counter() - start
    page.close()
    return seconds


def today_checkout(rev: str, into: Path) -> Path:
    """`git archive REV` of this repository, unpacked: the app as it was before the browser editor."""
    data = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def assets_size() -> tuple[int, list[tuple[str, int]]]:
    files = sorted(p for p in ASSETS.rglob("*") if p.is_file())
    sizes = [(str(p.relative_to(ASSETS)), p.stat().st_size) for p in files]
    return sum(s for _, s in sizes), sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mnist_dcgan,faces_rgb64")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=60.0)
    parser.add_argument("--server-moves", type=int, default=20)
    parser.add_argument("--today", default=None, help="git revision of the app before the browser editor (default: "
                        "the parent of the commit that added explorer_ui/components/latent_morph)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", str(COMPONENT_INIT)], cwd=ROOT,
                           capture_output=True, text=True).stdout.split()
    rev = args.today or (f"{added[-1]}^" if added else "HEAD")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; headless Chromium, wasm on CPU")
    print(GOALS)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        os.environ["GAN_EXPLORER_CACHE"] = str(tmp / "cache")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        (tmp / "runs").mkdir()
        proc, url = start_server("tuned", tmp / "runs", tmp / "server.log")
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            sent = Sent(page)
            page.goto(f"{url}/latent")
            sha = None
            for name in args.models.split(","):
                sha = pick_model(page, name, sha)
                rows = [("mouse", drag(page, "z[0]", args.seconds, args.rate, sent, SHOTS / f"{name}_z0_middrag.png")),
                        ("timer", drag_in_page(page, "z[0]", args.seconds, args.rate, sent))]
                page.locator('select[aria-label="Sliders"]').select_option("Principal directions")
                label = page.locator('input[type="range"][aria-label^="PC1 · "]').get_attribute("aria-label")
                rows.append(("mouse", drag(page, label, args.seconds, args.rate, sent,
                                           SHOTS / f"{name}_pc1_middrag.png")))
                rows.append(("timer", drag_in_page(page, label, args.seconds, args.rate, sent)))
                page.locator('select[aria-label="Sliders"]').select_option("z dimensions")
                server_p50 = server_path(page, args.server_moves)
                sha = wait_editor(page)
                for how, r in rows:
                    print(f"{name:12s} {how} drag {r['label']:<14s} {r['inputs']:4d} input events in "
                          f"{r['seconds']:.1f} s: "
                          f"{r['fps']:5.1f} frames/s, render p50 {r['p50']:5.1f} ms, p95 {r['p95']:5.1f} ms; "
                          f"messages to the server: {r['sent_during']} during, {r['sent_after']} after release")
                print(f"{name:12s} server path (browser editor off): slider -> new image p50 {server_p50:.0f} ms "
                      f"({args.server_moves} arrow-key moves)")
            page.close()
            browser_first = first_image(browser, url, True)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        (tmp / "runs-today").mkdir()
        today = today_checkout(rev, tmp / "today")
        proc, url = start_server("tuned", tmp / "runs-today", tmp / "today.log", today)
        try:
            first_image(browser, url, False)  # its first visit loads TensorFlow and the model: not counted
            today_first = first_image(browser, url, False)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        browser.close()
    print(f"first image after opening /latent (server warm, model converted and cached): today's app ({rev[:8]}, "
          f"server-drawn) {today_first:.2f} s; this app (model sent, runtime started, first frame in the browser) "
          f"{browser_first:.2f} s ({browser_first - today_first:+.2f} s)")
    total, sizes = assets_size()
    print(f"component assets: {total / 1e6:.2f} MB in {len(sizes)} files: "
          + ", ".join(f"{name} {size / 1e3:.0f} kB" for name, size in sizes))
    print(f"mid-drag screenshots: {', '.join(str(p) for p in sorted(SHOTS.glob('*_middrag.png')))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
