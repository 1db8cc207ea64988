"""Peak memory: an MNIST training process, and the app serving the Latent space page in a real browser.

    python bench/memory.py [--limit 6000] [--runs-dir DIR]

Training: peak RSS (ru_maxrss of the child) of `python -m gan_core train --preset mnist_dcgan` on real MNIST.
App: starts `streamlit run app.py`, opens /latent in headless Chromium, moves a slider a few times, then reads
the server's VmHWM (peak RSS) from /proc. Prints one line per figure and writes bench/results/memory.json.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from browser_latency import (
    start_server,  # bench/ is on sys.path when this runs as a script
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mnist.npz"


def training_peak_mib(runs_dir: str, limit: int) -> float:
    subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "mnist_dcgan", "--data", str(DATA),
                    "--epochs", "1", "--limit", str(limit), "--runs-dir", runs_dir, "--quiet"],
                   cwd=ROOT, check=True, capture_output=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def app_peak_mib(runs_dir: str) -> float:
    server, url = start_server("tuned", Path(runs_dir), Path(runs_dir) / "streamlit.log")  # the app as shipped
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page()
            page.goto(f"{url}/latent")
            page.get_by_text("Interpolation").first.wait_for(timeout=120_000)
            thumb = page.locator('[data-testid="stSlider"]', has_text="z[0]").get_by_role("slider")
            for _ in range(5):
                thumb.focus()
                thumb.press("ArrowRight")
                page.wait_for_timeout(700)
            browser.close()
        status = Path(f"/proc/{server.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=6000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as runs_dir:
        train_mib = training_peak_mib(runs_dir, args.limit)
        print(f"training mnist_dcgan ({args.limit} images, batch 256): peak RSS {train_mib:.0f} MiB")
        app_mib = app_peak_mib(runs_dir)
        print(f"app serving /latent (generator from that run): peak RSS {app_mib:.0f} MiB")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.json").write_text(json.dumps({"training_peak_mib": round(train_mib, 1),
                                                      "app_latent_peak_mib": round(app_mib, 1),
                                                      "limit": args.limit}, indent=2))


if __name__ == "__main__":
    main()
