"""Vendor onnxruntime-web's wasm runtime into the Latent page's component, from npm, at a pinned version.

    python scripts/vendor_onnxruntime_web.py            # npm pack, verify, copy, write CHECKSUMS (needs npm)
    python scripts/vendor_onnxruntime_web.py --check    # the vendored files against CHECKSUMS (offline)

The app runs the generator in the browser with onnxruntime-web's wasm execution provider (one thread: threads need
cross-origin isolation, which a Streamlit page does not have). It must work offline, so the runtime ships in the
package: the ES module (ort.wasm.min.mjs), the wasm binary and its loader, nothing else (the WebGPU builds' wasm is
28-30 MB a file). The tarball npm packs is checked against the registry's dist.integrity (sha512) before anything is
copied; CHECKSUMS (sha256, `sha256sum -c` format) then pins every vendored file.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "onnxruntime-web"
VERSION = "1.31.1"
FILES = ("dist/ort.wasm.min.mjs", "dist/ort-wasm-simd-threaded.mjs", "dist/ort-wasm-simd-threaded.wasm")
ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "explorer_ui" / "components" / "latent_morph" / "frontend" / "vendor" / PACKAGE
CHECKSUMS = "CHECKSUMS"
MAX_BYTES = 20_000_000  # the budget for assets added to the repository
# The npm tarball carries no licence file (package.json says MIT; the bundles' banners say "Copyright (c) Microsoft
# Corporation ... Licensed under the MIT License"); this is the LICENSE of github.com/microsoft/onnxruntime.
LICENSE = """MIT License

Copyright (c) 2018 - present Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def npm_json(*args: str, cwd: Path | None = None):
    """An npm command's --json answer."""
    done = subprocess.run(["npm", *args, "--json"], cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise SystemExit(f"npm {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def integrity_of(data: bytes) -> str:
    """npm's Subresource-Integrity string of a tarball: sha512-<base64 digest>."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def verify_tarball(data: bytes, expected: str) -> None:
    if integrity_of(data) != expected:
        raise SystemExit(f"the packed tarball's sha512 does not match the registry's dist.integrity ({expected}): "
                         "nothing was copied")


def extract(tarball: Path, dest: Path) -> list[Path]:
    """FILES from the tarball (package/<file>) into `dest`, by name only: no path from the archive is trusted."""
    copied = []
    with tarfile.open(tarball) as archive:
        for name in FILES:
            member = archive.getmember(f"package/{name}")
            if not member.isfile():
                raise SystemExit(f"{name} in the tarball is not a plain file")
            target = dest / Path(name).name
            with archive.extractfile(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            copied.append(target)
    return copied


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_checksums(folder: Path) -> None:
    lines = [f"{sha256(p)}  {p.name}" for p in sorted(folder.iterdir()) if p.is_file() and p.name != CHECKSUMS]
    (folder / CHECKSUMS).write_text("\n".join(lines) + "\n")


def check(folder: Path = DEST) -> list[str]:
    """What is wrong with the vendored files (empty: all match CHECKSUMS, nothing unlisted, within the budget)."""
    try:
        listed = dict(line.split("  ", 1)[::-1] for line in (folder / CHECKSUMS).read_text().splitlines() if line)
    except (OSError, ValueError) as exc:
        return [f"cannot read {folder / CHECKSUMS}: {exc}"]
    problems = []
    present = {p.name for p in folder.iterdir() if p.is_file()} - {CHECKSUMS}
    for name in sorted(present - set(listed)):
        problems.append(f"{name} is not in {CHECKSUMS}")
    for name, digest in sorted(listed.items()):
        if name not in present:
            problems.append(f"{name} is missing")
        elif sha256(folder / name) != digest:
            problems.append(f"{name} does not match its sha256 in {CHECKSUMS}")
    if total_bytes(folder) > MAX_BYTES:
        problems.append(f"the vendored files total {total_bytes(folder):,} bytes, over {MAX_BYTES:,}")
    return problems


def total_bytes(folder: Path = DEST) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def vendor(version: str = VERSION, dest: Path = DEST) -> None:
    expected = npm_json("view", f"{PACKAGE}@{version}", "dist.integrity")
    with tempfile.TemporaryDirectory() as tmp:
        packed = npm_json("pack", f"{PACKAGE}@{version}", "--pack-destination", tmp)
        tarball = Path(tmp) / packed[0]["filename"]
        verify_tarball(tarball.read_bytes(), expected)
        staging = Path(tmp) / "vendor"
        staging.mkdir()
        extract(tarball, staging)
        (staging / "LICENSE").write_text(LICENSE)
        (staging / "VERSION").write_text(f"{PACKAGE} {version} (npm; tarball {expected})\n")
        write_checksums(staging)
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, dest)


def report(folder: Path = DEST) -> None:
    for path in sorted(folder.iterdir()):
        print(f"{path.stat().st_size:>12,}  {path.name}")
    print(f"{total_bytes(folder):>12,}  total ({total_bytes(folder) / 1e6:.1f} MB; budget {MAX_BYTES / 1e6:.0f} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the vendored files against CHECKSUMS (offline)")
    parser.add_argument("--version", default=VERSION, help=f"{PACKAGE} version to vendor (default {VERSION})")
    args = parser.parse_args(argv)
    if not args.check:
        vendor(args.version)
    problems = check()
    report()
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
