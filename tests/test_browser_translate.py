"""The Translate page in a real browser."""

import numpy as np
import pytest
from browser_helpers import ROOT, chromium_page, open_page, pixels, screenshot, settle
from PIL import Image


pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_translate_page_in_a_real_browser(app_url, tiny_translation_runs, shared_data, tmp_path):
    """Image-to-image: the Pix2Pix model on held-out examples (stepping through them changes the pictures) and on
    an uploaded photo of a digit; then the CycleGAN both ways with its round trip. The first visit of the fresh server
    is this deep link and its first change must stick (it was silently reset before). Uses the shipped demo models
    where they are installed (better screenshots), else the session's tiny runs."""
    import shutil

    from playwright.sync_api import expect

    url, runs_dir = app_url
    for number, (task, shipped) in enumerate((("cyclegan", "cyclegan_mnist_fashion"),
                                              ("pix2pix", "pix2pix_edges_digits")), start=1):
        source = ROOT / "pretrained" / shipped
        if not (source / "generators").is_dir():
            source = tiny_translation_runs[task].path
        shutil.copytree(source, runs_dir / f"{number:05d}-{shipped}",
                        ignore=shutil.ignore_patterns("checkpoints", "tb", ".lock"))  # pix2pix is the newest
    digit = tmp_path / "digit.png"
    Image.fromarray(255 - np.load(shared_data / "mnist.npz")["x_test"][0]).save(digit)  # a 7, dark on light
    with chromium_page(90_000) as page:
        open_page(page, f"{url}/translate", "L1 to the original")
        captions = page.locator('[data-testid="stImageCaption"]')
        expect(captions).to_have_text(["edge map", "image", "original"])
        original = page.locator('[data-testid="stImage"]').filter(has_text="original").locator("img")
        before, src = original.screenshot(), original.get_attribute("src")
        example = page.locator('[data-testid="stNumberInput"]', has_text="Example").locator("input")
        example.fill("5")
        example.press("Enter")
        page.wait_for_function(
            """old => { const imgs = [...document.querySelectorAll('[data-testid=stImage] img')];
                        return imgs.length === 3 && imgs[2].src !== old && imgs[2].complete; }""", arg=src)
        settle(page)
        assert np.abs(pixels(original.screenshot()) - pixels(before)).mean() > 1, "the example did not change"
        screenshot(page, "translate")

        page.get_by_text("Upload an image", exact=True).click()
        settle(page)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(digit))
        settle(page)
        page.get_by_text("Invert (dark strokes on light paper)", exact=True).click()
        settle(page)
        expect(captions).to_have_text(["edge map", "image", "original"])
        expect(page.get_by_role("button", name="Download PNG")).to_be_visible()
        screenshot(page, "translate_upload")

        model = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
        model.click()
        page.get_by_role("option").filter(has_text="cyclegan").click()
        settle(page)
        page.get_by_text("Held-out example", exact=True).click()
        settle(page)
        expect(captions).to_have_text(["MNIST digits", "Fashion-MNIST garments", "back to MNIST digits"])
        page.get_by_text("Fashion-MNIST garments → MNIST digits", exact=True).click()
        settle(page)
        expect(captions).to_have_text(["Fashion-MNIST garments", "MNIST digits", "back to Fashion-MNIST garments"])
        expect(page.get_by_text("round-trip L1", exact=False)).to_be_visible()
        screenshot(page, "translate_cyclegan")

        # Snapshots of the newest (Pix2Pix) run: its triplet grids and, in the Quality tab, L1/SSIM per epoch
        # against the no-learning baseline
        open_page(page, f"{url}/snapshots", "Make GIF")
        page.get_by_role("tab", name="Quality").click()
        expect(page.get_by_text("no-learning baseline").first).to_be_visible()
        screenshot(page, "snapshots_translation")
