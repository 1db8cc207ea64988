"""Issue 31, item 6 in a real browser: names that carry Markdown and Plotly markup pointing outside (a run folder, a
data folder in config.json, quality.jsonl's metric name and floor label, an uploaded picture's file name) make no
request leave localhost and put no link, image or page-sized text on Translate, Latent space, Compare and
Snapshots; a run folder named like an iframe with a script is shown as text on Home and Train.
Screenshots: tests/artifacts/markup_*.png. tests/test_markup.py checks the same through AppTest.
"""
import io
import json
import re
import shutil
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from browser_helpers import chromium_page, open_page, screenshot, set_projection, settle
from test_markup import HOSTILE, quality_records

from gan_core import runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LOCAL_HOSTS = ("localhost", "127.0.0.1")
# every <a> and <img> that points outside, and any element styled with the hostile name's font size (Plotly's
# legend and titles are SVG: their links are <a xlink:href>)
INJECTED = """() => [...document.querySelectorAll('a, img, [style*="font-size"]')]
    .filter(e => /example\\.com|font-size: ?200px/.test(['href', 'xlink:href', 'src', 'style']
                                                           .map(name => e.getAttribute(name) || '').join(' ')))
    .map(e => e.outerHTML.slice(0, 200))"""


def hostile_runs(runs_dir, translation_run) -> None:
    """00000: a CycleGAN whose domain A is a data folder with a hostile name; 00001: a copy of the tiny run; 00002:
    the tiny run under a hostile folder name, with quality records whose metric name and floor label are hostile."""
    (tiny,) = runs.list_runs(runs_dir)
    shutil.copytree(tiny.path, runs_dir / "00001-copy")
    hostile = runs.RunDir(tiny.path.rename(runs_dir / f"00002-{HOSTILE}"))
    hostile.path.joinpath("quality.jsonl").write_text("".join(json.dumps(r) + "\n" for r in quality_records()))
    cycle = runs.RunDir(shutil.copytree(translation_run.path, runs_dir / "00000-cyclegan",
                                        ignore=shutil.ignore_patterns("checkpoints", "tb", ".lock")))
    config = json.loads(cycle.config_path.read_text())
    config.update(dataset="folder", data=f"/data/{HOSTILE}")
    cycle.config_path.write_text(json.dumps(config))


def assert_nothing_injected(page, outside: list[str]) -> None:
    page.wait_for_timeout(1500)  # images and charts finish drawing
    assert page.evaluate(INJECTED) == []
    assert outside == [], outside


def test_hostile_names_make_no_outside_request_in_a_real_browser(app_url, tiny_translation_runs,  # noqa: F811
                                                                  shared_data):
    from playwright.sync_api import expect

    url, runs_dir = app_url
    hostile_runs(runs_dir, tiny_translation_runs["cyclegan"])
    digit = io.BytesIO()
    Image.fromarray(np.load(shared_data / "mnist.npz")["x_test"][7]).save(digit, format="PNG")
    outside: list[str] = []

    def only_local(route) -> None:
        """Every request the page makes: one to another host is recorded and never sent."""
        if urlsplit(route.request.url).hostname not in LOCAL_HOSTS:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    with chromium_page(120_000) as page:
        page.route("**/*", only_local)

        open_page(page, f"{url}/translate", "Direction")  # the CycleGAN's directions name the data folder
        assert_nothing_injected(page, outside)
        expect(page.get_by_text(":red[RED]", exact=False).first).to_be_visible()  # as text, not red
        screenshot(page, "markup_translate")

        open_page(page, f"{url}/compare", "Curves")  # the hostile run and its copy: legends, titles, floor labels
        expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(2)
        assert_nothing_injected(page, outside)
        expect(page.locator(".legendtext", has_text='<a href="https:example.com').first).to_be_attached()
        screenshot(page, "markup_compare")

        open_page(page, f"{url}/snapshots", "Make GIF")
        page.get_by_role("tab", name="Quality").click()
        assert_nothing_injected(page, outside)
        expect(page.locator(".gtitle, .annotation-text", has_text="<span style=").first).to_be_attached()
        screenshot(page, "markup_snapshots")

        open_page(page, f"{url}/latent", "Project an image")  # an uploaded picture's file name, in the caption
        page.get_by_role("heading", name="Project an image").scroll_into_view_if_needed()
        page.locator('.st-key-project_upload input[type="file"]').set_input_files(
            files=[{"name": f"{HOSTILE}.png", "mimeType": "image/png", "buffer": digit.getvalue()}])
        settle(page)
        set_projection(page, steps=10, restarts=1)
        page.get_by_role("button", name=re.compile(r"\bProject$")).click()
        page.get_by_role("button", name="Edit from here").click()
        settle(page)
        assert_nothing_injected(page, outside)
        caption = page.locator('[data-testid="stImage"]').filter(has=page.locator('img[alt="Generated image"]'))
        expect(caption.locator('[data-testid="stImageCaption"]')).to_contain_text("projection of <a href=")
        screenshot(page, "markup_latent")


XSS_FOLDER = ('00001-<iframe srcdoc="&lt;script&gt;top.document.title=&quot;pwned&quot;&lt;&#47;script&gt;">'
              '[x](http:example.com)')


def test_markup_in_a_run_folder_name_is_text_in_a_real_browser(app_url):
    """A run folder named like an iframe with a script (anyone who can write the runs folder can make one) is
    shown as its name, on Home and on the Train page's live view; no frame, link, image or script appears."""
    from playwright.sync_api import expect

    url, runs_dir = app_url
    (tiny,) = runs.list_runs(runs_dir)
    hostile = runs.RunDir(tiny.path.rename(runs_dir / XSS_FOLDER))
    hostile.write_status(device='<img src=x onerror="document.title=\'pwned\'"> ![t](http://example.com/p.png)')
    with chromium_page(60_000) as page:
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        for path, ready in (("", "TensorFlow sees"), ("/train", "Start training")):
            open_page(page, f"{url}{path}", ready)
            expect(page.get_by_text("<iframe srcdoc=", exact=False).first).to_be_visible()
            page.wait_for_timeout(1500)  # the live view redraws every second: let it draw twice
            assert page.locator("iframe[srcdoc]").count() == 0
            assert page.locator('a[href*="example.com"], img[src="x"]').count() == 0  # no link, no image
            assert page.title() != "pwned"
        screenshot(page, "train_markup_name_as_text")
    assert not [r for r in requests if "example.com" in r]
