"""Issue 29 item 5: onnxruntime-web is vendored from npm at a pinned version, each file pinned by CHECKSUMS, with
its licence, within 20 MB; scripts/vendor_onnxruntime_web.py re-vendors it (verifying npm's integrity) and
`--check` verifies the files offline."""
import hashlib
import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("vendor_onnxruntime_web", ROOT / "scripts/vendor_onnxruntime_web.py")
vendor = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(vendor)


def test_the_vendored_files_match_their_checksums_offline(capsys):
    assert vendor.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "ort-wasm-simd-threaded.wasm" in out and "total" in out


def test_the_pinned_version_its_licence_and_the_budget():
    assert (vendor.DEST / "VERSION").read_text().startswith(f"onnxruntime-web {vendor.VERSION} ")
    assert "MIT License" in (vendor.DEST / "LICENSE").read_text()
    assert "Licensed under the MIT License" in (vendor.DEST / "ort.wasm.min.mjs").read_text()[:300]
    assert vendor.total_bytes() <= 20_000_000
    listed = (vendor.DEST / "CHECKSUMS").read_text().split()
    assert {Path(f).name for f in vendor.FILES} | {"LICENSE", "VERSION"} == set(listed[1::2])


@pytest.mark.parametrize("tamper", ["change", "add", "remove"])
def test_a_changed_added_or_missing_file_fails_the_check(tmp_path, tamper):
    copy = tmp_path / "vendor"
    shutil.copytree(vendor.DEST, copy)
    if tamper == "change":
        data = bytearray((copy / "ort.wasm.min.mjs").read_bytes())
        data[-2] ^= 1
        (copy / "ort.wasm.min.mjs").write_bytes(bytes(data))
    elif tamper == "add":
        (copy / "extra.js").write_text("fetch('https://cdn.example/x.js')")
    else:
        (copy / "ort-wasm-simd-threaded.mjs").unlink()
    problems = vendor.check(copy)
    assert len(problems) == 1
    assert {"change": "does not match", "add": "extra.js is not in", "remove": "is missing"}[tamper] in problems[0]


def test_a_tarball_that_is_not_the_registrys_is_refused():
    good = b"the tarball the registry describes"
    expected = vendor.integrity_of(good)
    assert expected == "sha512-" + __import__("base64").b64encode(hashlib.sha512(good).digest()).decode()
    vendor.verify_tarball(good, expected)
    with pytest.raises(SystemExit, match="does not match the registry's dist.integrity"):
        vendor.verify_tarball(good + b"!", expected)
