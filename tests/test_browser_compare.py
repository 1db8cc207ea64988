"""The Compare runs page in a real browser: pick two runs and see a curve and a grid for each."""
import json
import re

import pytest
from browser_helpers import chromium_page, open_page, screenshot, settle

from gan_core import runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_compare_two_runs_in_a_real_browser(app_url, tiny_run, copy_run, tmp_path):
    """Compare runs: of three runs (the tiny one and two copies that differ in label smoothing and in beta_1), drop
    one from the two the page opens on and pick another, as a person would; then each loss panel has one curve per
    run with the balance line, the grids show one per run under one slider, and the table lists what differs."""
    from playwright.sync_api import expect

    url, runs_dir = app_url
    for name, changes in (("00001-smooth", {"real_label": 0.9}), ("00002-beta", {"beta_1": 0.5})):
        run = runs.RunDir(copy_run(tiny_run, tmp_path).rename(runs_dir / name))
        run.config_path.write_text(json.dumps({**run.config_dict(), **changes}))
    with chromium_page(60_000) as page:
        open_page(page, f"{url}/compare", "Fixed-seed grids")
        picker = page.locator('[data-testid="stMultiSelect"]')
        expect(picker.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(2)  # the two newest
        picker.get_by_role("button", name=re.compile(r"^Remove 00002-beta")).click()
        expect(page.get_by_text("Pick at least two runs")).to_be_visible()
        settle(page)
        picker.get_by_role("combobox").click()
        page.get_by_role("option", name=re.compile(r"^00000-tiny")).click()
        page.keyboard.press("Escape")
        expect(page.get_by_text("Fixed-seed grids")).to_be_visible()
        settle(page)
        expect(picker.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(2)

        curves = page.locator('[data-testid="stPlotlyChart"]').first
        expect(curves.locator(".legendtext")).to_have_text(["00001-smooth", "00000-tiny", "balance"])
        # the G loss panel: per run its windows (faint) and its epoch means, plus the legend's empty "balance" trace
        expect(curves.locator(".subplot.xy .trace.scatter")).to_have_count(5)
        expect(curves.get_by_text("G loss · balance 0.80 / 0.69")).to_be_visible()
        grids = page.locator('[data-testid="stImage"]')
        expect(grids).to_have_count(2)
        expect(page.locator('[data-testid="stImageCaption"]')).to_have_text(
            ["00001-smooth · epoch 2", "00000-tiny · epoch 2"])
        expect(page.locator('[data-testid="stSlider"]', has_text="Epoch")).to_be_visible()
        differs = page.locator('[data-testid="stDataFrame"]').nth(1)  # how each did | what differs
        expect(differs.get_by_text("real_label", exact=True)).to_have_count(1)
        expect(differs.get_by_text("beta_1", exact=True)).to_have_count(0)  # 00002-beta is no longer chosen
        screenshot(page, "compare")
