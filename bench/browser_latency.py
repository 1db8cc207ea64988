"""Latent page in a real browser: time from a slider move to the new image on screen, p50 and p95.

    python bench/browser_latency.py [--moves 30] [--pairs 2] [--variants tuned,stock] [--baseline DIR]

Starts the app twice side by side on the shipped pretrained generator (an empty runs folder, so the Latent space
page opens on it): `tuned`, as the project ships it (.streamlit/config.toml and
explorer_ui.streamlit_compat.keep_keras_session), and `stock`, the same app with Streamlit's defaults (a
gc.collect() and keras.backend.clear_session() after every rerun, the source-file watcher on). Headless Chromium
(/usr/bin/chromium) focuses the z[0] slider, presses an arrow key and waits, on every animation frame, until the
image has a new src that has finished loading. Servers and browser alternate A B A B so drift on the machine hits
both. Prints one line per variant and writes JSON.
`--interleave` runs the variants' servers at once and alternates single moves between them, so a busy machine
slows both alike. `--baseline DIR` adds a `baseline` variant: the tuned app of another checkout (e.g. an export of
`git archive main`), to compare a change with what it replaces in one session on the same machine.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
IMAGE = 'img[alt="Generated image"]'
STOCK_SERVER = (  # the app as shipped, minus its two tunings: Streamlit clears Keras and collects garbage per rerun
    "import sys; from explorer_ui import streamlit_compat; streamlit_compat.keep_keras_session = lambda: None; "
    "from streamlit.web import cli; cli.main(sys.argv[1:])")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(variant: str, runs_dir: Path, log: Path, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = ["run", "app.py", "--server.port", str(port), "--server.headless", "true"]
    if variant == "stock":
        command = [sys.executable, "-c", STOCK_SERVER, *args,
                   "--runner.postScriptGC", "true", "--server.fileWatcherType", "auto"]
    else:
        command = [sys.executable, "-m", "streamlit", *args]
    env = dict(os.environ, GAN_EXPLORER_RUNS=str(runs_dir))
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{variant} server exited:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{variant} server did not start within 90 s:\n{log.read_text()[-2000:]}")


def open_latent(browser, url: str):
    """A Latent page on the shipped generator, settled, and its z[0] slider's thumb."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/latent")
    page.locator(IMAGE).wait_for(timeout=120_000)
    page.wait_for_timeout(1500)  # let the first render and the interpolation fragment settle
    return page, page.locator('[data-testid="stSlider"]', has_text="z[0]").get_by_role("slider")


def one_move(page, thumb, i: int) -> float:
    """Seconds from an arrow key on the thumb to the new image loaded on screen."""
    src = page.locator(IMAGE).get_attribute("src")
    thumb.focus()
    start = time.perf_counter()
    thumb.press("ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")  # wander, never pin at the end
    page.wait_for_function(
        """([sel, old]) => { const img = document.querySelector(sel);
                             return img && img.src !== old && img.complete && img.naturalWidth > 0; }""",
        arg=[IMAGE, src], polling="raf", timeout=30_000)
    elapsed = time.perf_counter() - start
    page.wait_for_timeout(150)  # a person's next move, not a queue of them
    return elapsed


def slider_moves(browser, url: str, moves: int) -> list[float]:
    page, thumb = open_latent(browser, url)
    times = [one_move(page, thumb, i) for i in range(moves)]
    page.close()
    return times


def summary(times: list[float]) -> dict:
    ms = sorted(t * 1000 for t in times)
    return {"p50_ms": round(statistics.median(ms), 1), "p90_ms": round(ms[round(0.90 * (len(ms) - 1))], 1),
            "p95_ms": round(ms[round(0.95 * (len(ms) - 1))], 1),
            "moves": len(ms), "all_ms": [round(t, 1) for t in ms]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30, help="slider moves per server start")
    parser.add_argument("--pairs", type=int, default=2, help="A B rounds (each starts both servers afresh)")
    parser.add_argument("--variants", default="tuned,stock")
    parser.add_argument("--interleave", action="store_true",
                        help="run every variant's server at once and alternate single moves (drift-proof)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose tuned app runs as variant 'baseline'")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "browser_latency.json")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    variants = args.variants.split(",") + (["baseline"] if args.baseline else [])
    times: dict[str, list[float]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for round_ in range(args.pairs if not args.interleave else 0):
            for variant in variants:
                runs_dir = Path(tmp) / f"runs-{variant}-{round_}"
                runs_dir.mkdir()
                root = args.baseline.resolve() if variant == "baseline" else ROOT
                proc, url = start_server("tuned" if variant == "baseline" else variant, runs_dir,
                                         Path(tmp) / f"{variant}-{round_}.log", root)
                try:
                    times[variant] += slider_moves(browser, url, args.moves)
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
        for round_ in range(args.pairs if args.interleave else 0):  # every server up at once, moves taken in turn
            servers, pages = [], {}
            try:
                for variant in variants:
                    runs_dir = Path(tmp) / f"runs-{variant}-{round_}"
                    runs_dir.mkdir()
                    root = args.baseline.resolve() if variant == "baseline" else ROOT
                    proc, url = start_server("tuned" if variant == "baseline" else variant, runs_dir,
                                             Path(tmp) / f"{variant}-{round_}.log", root)
                    servers.append(proc)
                    pages[variant] = open_latent(browser, url)
                for i in range(args.moves):
                    for variant in variants:
                        times[variant].append(one_move(*pages[variant], i))
            finally:
                for proc in servers:
                    proc.terminate()
                    proc.wait(timeout=20)
        browser.close()
    results = {v: summary(t) for v, t in times.items()}
    for v, r in results.items():
        print(f"{v:8s} slider move -> new image on screen: p50 {r['p50_ms']:.0f} ms, p90 {r['p90_ms']:.0f} ms, "
              f"p95 {r['p95_ms']:.0f} ms "
              f"({r['moves']} moves)")
    if {"tuned", "stock"} <= results.keys():
        ratio = results["stock"]["p50_ms"] / results["tuned"]["p50_ms"]
        results["stock_over_tuned_p50"] = round(ratio, 2)
        print(f"tuned is {ratio:.1f}x faster at p50 than Streamlit's defaults")
    results["cpu_count"] = os.cpu_count()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
