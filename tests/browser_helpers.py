"""What the browser tests (tests/test_browser_*.py) share: start `streamlit run app.py` on a free port, drive
headless Chromium through Playwright, wait for a script run to settle, take full-page screenshots.
The fixture that serves the app, app_url, is in conftest.py."""
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core import launch, runs

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def start_app(env: dict[str, str], log: Path, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` with `env` on a free localhost port, its output in `log`; (process, URL) once it
    answers its health endpoint (the process is stopped if it never does)."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
             "true", "--server.address", "localhost", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc, log, timeout)
    except BaseException:
        stop_app(proc)
        raise
    return proc, url


class Sent:
    """Counts the Streamlit websocket frames a page sends to the server (bench/browser_morph.py counts with it too)."""

    def __init__(self, page):
        self.count = 0
        page.on("websocket", lambda ws: ws.on("framesent", self._one))

    def _one(self, _frame) -> None:
        self.count += 1


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def stop_trainers(runs_dir: Path) -> None:
    """Training the app started runs in its own session: ask it to stop, then end it by its pid if it lingers."""
    for run in runs.list_runs(runs_dir):
        if not run.is_active():
            continue
        run.request_stop()
        try:
            launch.wait(run, timeout=30)
        except TimeoutError:
            pid = run.status().get("pid")
            if pid:
                os.kill(int(pid), signal.SIGKILL)


def open_page(page, url: str, ready_text: str) -> None:
    page.goto(url)
    page.get_by_text(ready_text, exact=False).first.wait_for(timeout=60_000)
    settle(page)


def settle(page) -> None:
    """Wait for the script run to finish: Streamlit shows its status widget while a run is in flight."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main container, so grow the viewport to its height first."""
    ARTIFACTS.mkdir(exist_ok=True)
    viewport = page.viewport_size
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid=stMain], [data-testid=stAppViewContainer], [data-testid=stSidebarContent]')]
        .map(element => element.scrollHeight))""")
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], height)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(viewport)


def set_projection(page, steps: int, restarts: int) -> None:
    """Type the projection's Adam steps and starting points into their boxes, as a person would."""
    from playwright.sync_api import expect

    for key, value in (("project_steps_", str(steps)), ("project_restarts", str(restarts))):
        box = page.locator(f'[class*="st-key-{key}"] input')
        box.fill(value)
        box.press("Enter")
        expect(box).to_have_value(value)
        settle(page)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), np.int16)


@contextlib.contextmanager
def chromium_page(timeout_ms: int):
    """A headless chromium page (1440x1000) whose waits and expectations allow `timeout_ms`: a shared 2-core machine
    can take seconds per script run, and a projection or training far longer."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=timeout_ms)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            browser.close()
