"""Every page of the app in a real browser: `streamlit run app.py` driven by Playwright on Debian's chromium.

Visits every page (a screenshot of each goes to tests/artifacts/), trains a tiny run from the Train page and watches
it stream in, times how long a latent slider move takes to reach the screen as a new image, and moves z along a
principal direction.
"""
import json
import re
import statistics
import time

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, chromium_page, open_page, pixels, screenshot, settle

from gan_core import runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SLIDER_MOVES = 5


def test_every_page_in_a_real_browser(app_url, shared_data):
    from playwright.sync_api import expect

    url, runs_dir = app_url
    with chromium_page(60_000) as page:
        # A fresh server's first visit goes straight to a page: it must still get app.py's navigation
        # (Streamlit's old pages/ mode would show a menu of file names such as "latent").
        open_page(page, f"{url}/train", "Start training")
        nav = page.locator('[data-testid="stSidebarNav"]')
        expect(nav.get_by_text("Latent space", exact=True)).to_be_visible()
        expect(nav.get_by_text("latent", exact=True)).to_have_count(0)

        open_page(page, url, "TensorFlow sees")
        expect(page.get_by_text("00000-tiny").first).to_be_visible()
        screenshot(page, "home")

        # Train: start a tiny run; the live view follows it until its chart and first grid are on screen
        open_page(page, f"{url}/train", "Start training")
        page.get_by_label("Data file or folder (optional)", exact=True).fill(str(shared_data / "mnist.npz"))
        for label, value in (("Epochs", "2"), ("Batch size", "64"), ("Use only the first N images", "512"),
                             ("Run name", "browser")):
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Start training").click()
        expect(page.get_by_text("Started 00001-browser")).to_be_visible()
        header = page.locator('[data-testid="stMarkdownContainer"]', has_text="00001-browser")
        expect(header.filter(has_text=re.compile("starting|running"))).to_be_visible()
        # 2 epochs of 512 images in batches of 64; step 16/16 is this run's alone (the copied one has 8 steps)
        expect(page.get_by_text("step 16/16")).to_be_visible(timeout=150_000)
        expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()
        # the last epoch's grid, generator and checkpoint are written after its last step, then 'done'
        expect(page.get_by_text("fixed-z grid after epoch 2")).to_be_visible(timeout=60_000)
        expect(header.filter(has_text="done")).to_be_visible(timeout=60_000)
        settle(page)
        screenshot(page, "train")
        assert runs.resolve_run("00001-browser", runs_dir).status()["state"] == "done"

        open_page(page, f"{url}/snapshots", "Make GIF")
        page.get_by_role("button", name="Make GIF").click()
        expect(page.get_by_role("button", name="Download GIF")).to_be_visible()
        settle(page)
        screenshot(page, "snapshots")

        # Latent space: arrow keys on a slider thumb must put a new image on screen, fast
        open_page(page, f"{url}/latent", "Interpolation")
        image = page.locator('img[alt="Generated image"]')
        thumb = page.locator('[data-testid="stSlider"]', has_text="z[0]").get_by_role("slider")
        before = image.screenshot()
        latencies = []
        for _ in range(SLIDER_MOVES):
            src = image.get_attribute("src")
            thumb.focus()
            start = time.perf_counter()
            thumb.press("ArrowRight")
            page.wait_for_function(
                """old => { const img = document.querySelector('img[alt="Generated image"]');
                            return img && img.src !== old && img.complete && img.naturalWidth > 0; }""",
                arg=src, polling="raf")
            latencies.append(time.perf_counter() - start)
        settle(page)
        after = image.screenshot()
        assert np.abs(pixels(before) - pixels(after)).max() > 0, "moving z[0] did not change the picture"
        p50 = statistics.median(latencies)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "slider_latency.json").write_text(json.dumps(
            {"p50_ms": round(p50 * 1000), "moves_ms": [round(t * 1000) for t in latencies]}))
        print(f"\nslider move -> new image on screen: p50 {p50 * 1000:.0f} ms over {SLIDER_MOVES} moves "
              f"(all: {', '.join(f'{t * 1000:.0f}' for t in latencies)} ms)")
        screenshot(page, "latent")

        # Principal directions: End puts PC1's thumb at +3 standard deviations; the digit must change
        page.get_by_text("Principal directions", exact=True).click()
        pc1 = page.locator('[data-testid="stSlider"]', has_text="PC1 · ")
        expect(pc1).to_be_visible()
        settle(page)
        before, src = image.screenshot(), image.get_attribute("src")
        pc1.get_by_role("slider").focus()
        pc1.get_by_role("slider").press("End")
        page.wait_for_function(
            """old => { const img = document.querySelector('img[alt="Generated image"]');
                        return img && img.src !== old && img.complete && img.naturalWidth > 0; }""", arg=src)
        settle(page)
        expect(page.get_by_text("(edited)").first).to_be_visible()
        after = image.screenshot()
        change = np.abs(pixels(before) - pixels(after)).mean()
        # the tiny run's generator (2 epochs on 256 images) draws faint blobs, so the change is small but there;
        # on pretrained/mnist_dcgan the same move turns a 0 into a 7 (test_directions checks it without a browser)
        assert change > 0, "moving PC1 did not change the picture"
        (ARTIFACTS / "latent_directions.json").write_text(json.dumps(
            {"pc1_label": pc1.locator("label").first.inner_text(), "mean_abs_pixel_change": round(change, 2)}))
        screenshot(page, "latent_directions")

        open_page(page, f"{url}/export", "Download PNG")
        expect(page.get_by_role("button", name="Download GIF")).to_be_visible()
        screenshot(page, "export")
