"""The drawing canvas in a real browser: draw with the mouse on the Translate page (the translation follows each
stroke) and on the Latent page's projection.
"""
import importlib.util
import re

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, ROOT, chromium_page, open_page, pixels, screenshot, set_projection, settle


pytestmark = [pytest.mark.browser, pytest.mark.slow]


def draw_stroke(page, surface, points) -> None:
    """One pen stroke with the real mouse over `surface` (the canvas's top layer), through `points` given as
    fractions of its width and height: press, move in small steps, release (the canvas sends its picture then)."""
    box = surface.bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()


SEVEN_OUTLINE = ([(0.28, 0.23), (0.68, 0.23), (0.40, 0.77)],  # both sides of a 7's strokes, as an edge map has them
                 [(0.36, 0.31), (0.76, 0.31), (0.48, 0.83)])


def test_drawing_on_the_canvas_translates_and_projects_in_a_real_browser(app_url):
    """Draw your own input, with a real mouse on streamlit-drawable-canvas (a Components v2 element: in the page's
    DOM, in a shadow root Playwright's locators see into, no iframe). Translate: each stroke of an edge map reaches
    the shipped Pix2Pix model and the translation on screen changes. Latent space: a drawn digit is projected and
    the editor starts from its z. Screenshots: tests/artifacts/canvas_translate.png, canvas_latent.png."""
    import shutil

    from playwright.sync_api import expect

    if importlib.util.find_spec("streamlit_drawable_canvas") is None:  # not imported: it needs a running Streamlit
        pytest.skip('the canvas extra is not installed: pip install ".[canvas]"')
    url, runs_dir = app_url
    for number, name in ((1, "pix2pix_edges_digits"), (2, "mnist_dcgan")):  # mnist_dcgan: the newest latent run
        shipped = ROOT / "pretrained" / name
        if not (shipped / "generators").is_dir():
            pytest.skip(f"the shipped model {shipped} is absent")
        shutil.copytree(shipped, runs_dir / f"{number:05d}-{name}")
    with chromium_page(120_000) as page:
        open_page(page, f"{url}/translate", "L1 to the original")
        page.locator(".st-key-translate_source").get_by_text("Draw", exact=True).click()
        settle(page)
        surface = page.locator("canvas.upper-canvas")
        expect(surface).to_have_count(1)
        expect(surface).to_be_visible()
        expect(page.get_by_text("Nothing drawn yet", exact=False)).to_be_visible()
        images = page.locator('[data-testid="stImage"]')
        expect(images).to_have_count(0)  # nothing to translate yet

        draw_stroke(page, surface, SEVEN_OUTLINE[0])
        captions = page.locator('[data-testid="stImageCaption"]')
        expect(captions).to_have_text(["edge map", "image"])
        settle(page)
        output = images.filter(has_text=re.compile(r"^image$")).locator("img")
        before, src = output.screenshot(), output.get_attribute("src")

        draw_stroke(page, surface, SEVEN_OUTLINE[1])  # the other side of the strokes: a whole 7's edge map
        page.wait_for_function(
            """old => { const imgs = [...document.querySelectorAll('[data-testid=stImage] img')];
                        return imgs.length === 2 && imgs[1].src !== old && imgs[1].complete
                               && imgs[1].naturalWidth > 0; }""", arg=src)
        settle(page)
        after = output.screenshot()
        change = np.abs(pixels(before) - pixels(after)).mean()
        assert change > 1, f"the second stroke did not change the translation (mean |change| {change:.2f})"
        screenshot(page, "canvas_translate")
        assert (pixels(after) > 128).mean() > 0.03, "the translation of a 7's edge map is (nearly) black"

        # Latent space: draw a digit, project it, edit from its z
        open_page(page, f"{url}/latent", "Project an image")
        heading = page.get_by_role("heading", name="Project an image")
        heading.scroll_into_view_if_needed()
        page.locator(".st-key-project_source").get_by_text("Draw", exact=True).click()
        settle(page)
        project_button = page.get_by_role("button", name=re.compile(r"\bProject$"))
        expect(project_button).to_be_disabled()  # nothing drawn yet
        surface = page.locator("canvas.upper-canvas")
        surface.scroll_into_view_if_needed()
        draw_stroke(page, surface, [(0.30, 0.27), (0.68, 0.27), (0.45, 0.78)])  # a 7
        preview = page.locator('[data-testid="stImage"]').filter(
            has=page.locator('[data-testid="stImageCaption"]', has_text="to project")).locator("img")
        expect(preview).to_be_visible()
        expect(project_button).to_be_enabled()
        settle(page)
        set_projection(page, steps=100, restarts=2)
        project_button.click()
        metric = page.locator('[data-testid="stMetric"]', has_text="Pixel error (MSE)")
        expect(metric).to_be_visible()
        settle(page)
        editor = page.locator('img[alt="Generated image"]')
        src = editor.get_attribute("src")
        page.get_by_role("button", name="Edit from here").click()
        page.wait_for_function(
            """old => { const img = document.querySelector('img[alt="Generated image"]');
                        return img && img.src !== old && img.complete && img.naturalWidth > 0; }""", arg=src)
        settle(page)
        caption = page.locator('[data-testid="stImage"]').filter(has=editor).locator('[data-testid="stImageCaption"]')
        expect(caption).to_contain_text("projection of your drawing")
        # the page as tall as its content, so Streamlit's header bar covers no part of either picture
        viewport = page.viewport_size
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], height + 200)})
        page.wait_for_timeout(500)
        page.locator('[data-testid="stHorizontalBlock"]').filter(has=editor).first.screenshot(
            path=str(ARTIFACTS / "canvas_latent_edit.png"))
        section = page.locator('[data-testid="stVerticalBlock"]').filter(has=heading).filter(has=metric).last
        section.screenshot(path=str(ARTIFACTS / "canvas_latent.png"))  # canvas, target | reconstruction | error
        page.set_viewport_size(viewport)
