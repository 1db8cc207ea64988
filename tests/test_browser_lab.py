"""The Step-through lab page in a real browser."""
import time

import pytest
from browser_helpers import chromium_page, open_page, screenshot, settle


pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_step_through_lab_steps_d_and_g_and_the_grid_changes_in_a_real_browser(app_url):
    """The lab as a person uses it: a few D steps, a few G steps and 10 full steps; each click's answer (the grid, the
    numbers) arrives, and G's steps change the grid while D's leave it as it was. Prints each click's round trip."""
    from playwright.sync_api import expect

    url, _ = app_url
    with chromium_page(90_000) as page:
        open_page(page, f"{url}/lab", "Press")
        grid = page.locator('[data-testid="stImage"] img').first

        def click(label: str, updates: int) -> tuple[str, float]:
            start = time.perf_counter()
            page.get_by_role("button", name=label, exact=True).click()
            expect(page.get_by_text(f"fixed-z grid after {updates} updates")).to_be_visible()
            settle(page)
            return grid.get_attribute("src"), time.perf_counter() - start

        untrained = grid.get_attribute("src")
        times, updates = [], 0
        for _ in range(3):
            updates += 1
            src, seconds = click("D step", updates)
            times.append(seconds)
            assert src == untrained  # D learned; G and so the fixed-z grid did not move
        expect(page.get_by_text("Last update: D")).to_be_visible()
        for _ in range(3):
            updates += 1
            src, seconds = click("G step", updates)
            times.append(seconds)
            assert src != untrained
            untrained = src  # each G step moves the grid again
        expect(page.get_by_text("Last update: G")).to_be_visible()
        updates += 20
        src, seconds = click("10 steps", updates)
        assert src != untrained
        expect(page.locator('[data-testid="stMetric"]')).to_have_count(4)
        screenshot(page, "lab")
        singles = ", ".join(f"{t:.2f}" for t in times)
        print(f"lab clicks in the browser: single steps {singles} s; 10 steps {seconds:.2f} s")
