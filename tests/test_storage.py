"""Files that would grow without bound: uploads stored once and dropped when rejected, the data cache trimmed,
temporary files of killed writes cleaned, and Home / `python -m gan_core storage` to see and remove what no run
uses (never a run folder, never what a run uses)."""
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from gan_core import cli, config, data, runs, storage, tasks, uploads
from gan_core.errors import RunError

APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """The app and loaders pointed at this test's folders; uploads count as old (no grace period) unless a test
    says otherwise."""
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(tmp_path / "pretrained"))
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(storage, "_FRESH_UPLOAD_SECONDS", 0.0)


def png_bytes(seed: int, side: int = 12) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (side, side, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def images_zip(n: int = 3, seed: int = 0) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n):
            z.writestr(f"faces/{i}.png", png_bytes(seed + i))
    return buf.getvalue()


def folder_run(root: Path, data_path: Path | str, name: str = "faces") -> runs.RunDir:
    return runs.create_run(root, config.from_preset("mnist_dcgan", {"name": name, "dataset": "folder",
                                                                    "data": str(data_path), "channels": 3}))


def by_path(items):
    return {i.path: i for i in items}


# --- uploads -------------------------------------------------------------------------------------------------------

def test_an_upload_extracted_by_another_tab_meanwhile_is_reused(tmp_path, monkeypatch):
    blob = images_zip()
    dest = uploads.uploads_dir(tmp_path) / uploads.content_id(blob)
    real = uploads._extract_member

    def other_tab_finishes_first(archive, info, target, budget, limit):
        left = real(archive, info, target, budget, limit)
        if not dest.exists():
            (dest / "faces").mkdir(parents=True)
            (dest / "faces" / "0.png").write_bytes(png_bytes(0))
        return left

    monkeypatch.setattr(uploads, "_extract_member", other_tab_finishes_first)
    result = uploads.store_images_zip(blob, tmp_path)
    assert result.folder == dest and not result.created
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # no staging folder left behind
    assert uploads.store_images_zip(blob, tmp_path).created is False


def test_a_start_refused_after_extraction_removes_the_upload(tmp_path, pretend_training):
    root = tmp_path / "runs"
    busy = runs.create_run(root, config.from_preset("mnist_dcgan", {"name": "busy"}))
    pretend_training(busy)
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.switch_page("pages/train.py").run()
    at.radio[0].set_value("Zip of images").run()
    at.get("file_uploader")[0].upload("faces.zip", images_zip(), "application/zip")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and any("still training" in e.value for e in at.error)
    assert runs.list_runs(root) == [busy]
    assert list(uploads.uploads_dir(root).iterdir()) == []  # before: a 3-image folder kept forever


def test_a_rejected_keras_upload_is_not_kept(tmp_path):
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.switch_page("pages/latent.py").run()
    at.get("file_uploader")[0].upload("generator.keras", b"\x00" * 1000, "application/octet-stream").run()
    assert not at.exception and at.error
    models = uploads.uploads_dir(tmp_path / "runs") / "models"
    assert not models.exists() or list(models.iterdir()) == []  # before: every rejected file stayed


def test_discarding_keeps_an_upload_a_run_uses(tmp_path):
    root = tmp_path / "runs"
    folder = uploads.store_images_zip(images_zip(), root).folder
    folder_run(root, folder)
    with pytest.raises(ValueError), storage.discarded_on_error(folder, root):
        raise ValueError("a later check failed")
    assert folder.is_dir()


# --- the data cache ------------------------------------------------------------------------------------------------

def image_folder(path: Path, n: int, seed: int = 0) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (path / f"{i}.png").write_bytes(png_bytes(seed + i))
    return path


def load(folder: Path, cache: Path, **options):
    return data.load_images("folder", path=str(folder), image_size=8, channels=3, cache_dir=str(cache), **options)[1]


def test_a_changed_folder_replaces_its_cache_entry_instead_of_adding_one(tmp_path):
    cache, folder = tmp_path / "cache", image_folder(tmp_path / "images", 3)
    load(folder, cache)
    (entry,) = data.cache_entries(cache)
    assert entry.folder == str(folder.resolve()) and entry.size > 0
    image_folder(folder, 4)  # the user adds a picture: the old entry can never be read again
    lines = []
    load(folder, cache, log=lines.append)
    (newer,) = data.cache_entries(cache)  # before: two entries, and one more per change
    assert newer.array != entry.array and not entry.array.exists() and not entry.notes.exists()
    assert any("superseded" in line for line in lines)
    load(folder, cache, limit=2)  # other settings: another entry, both kept
    assert len(data.cache_entries(cache)) == 2


def test_the_cache_keeps_to_its_limit_least_recently_used_first(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    folders = [image_folder(tmp_path / f"images{i}", 3, seed=10 * i) for i in range(3)]
    for folder in folders:
        load(folder, cache)
    sizes = [e.size for e in data.cache_entries(cache)]
    old = time.time() - 100
    for age, entry in enumerate(data.cache_entries(cache)):
        os.utime(entry.array, (old + age, old + age))
    load(folders[0], cache)  # a hit marks images0 as just used
    monkeypatch.setenv(data.CACHE_LIMIT_ENV, str((sum(sizes) + 10) / 1e9))
    load(image_folder(tmp_path / "images3", 3, seed=30), cache)  # one entry too many: images1 goes (the oldest)
    assert sorted(Path(e.folder).name for e in data.cache_entries(cache)) == ["images0", "images2", "images3"]
    monkeypatch.setenv(data.CACHE_LIMIT_ENV, "0")
    load(image_folder(tmp_path / "images4", 3, seed=40), cache)  # the entry just written stays, even alone too big
    assert [Path(e.folder).name for e in data.cache_entries(cache)] == ["images4"]


def test_abandoned_cache_writes_are_removed_and_live_ones_kept(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    abandoned, writing = cache / ".folder-abc.npy.k2j3h4g5.tmp", cache / ".folder-def.npy.a1b2c3d4.tmp"
    for path in (abandoned, writing):
        path.write_bytes(b"\x00" * 100)
    os.utime(abandoned, (time.time() - 3600,) * 2)
    load(image_folder(tmp_path / "images", 2), cache)
    assert not abandoned.exists() and writing.exists()


def test_a_cache_an_older_version_wrote_learns_its_folder_on_the_next_hit(tmp_path):
    cache, folder = tmp_path / "cache", image_folder(tmp_path / "images", 2)
    load(folder, cache)
    (entry,) = data.cache_entries(cache)
    entry.notes.write_text(json.dumps({"skipped_examples": []}))  # as version 1 wrote them
    assert data.cache_entries(cache)[0].folder is None
    assert load(folder, cache).cache_hit
    assert data.cache_entries(cache)[0].folder == str(folder.resolve())


# --- seeing and removing what no run uses -------------------------------------------------------------------------

@pytest.fixture
def kept(tmp_path):
    """A runs folder with one run on an uploaded zip and one on a cached image folder, beside an unused upload, an
    unused cache entry, an uploaded generator, a half-extracted upload and a run's temporary file of a dead save."""
    root, cache = tmp_path / "runs", tmp_path / "cache"
    used_upload = uploads.store_images_zip(images_zip(3, seed=0), root).folder
    unused_upload = uploads.store_images_zip(images_zip(5, seed=100), root).folder
    model = uploads.store_generator_file(b"k" * 2048, "mine.keras", root)
    staging = uploads.uploads_dir(root) / ".0123456789abcdef.abcd1234.tmp"
    (staging / "faces").mkdir(parents=True)
    (staging / "faces" / "0.png").write_bytes(b"p" * 100)
    for path in (staging / "faces" / "0.png", staging / "faces", staging):
        os.utime(path, (time.time() - 3600,) * 2)
    used_images, unused_images = image_folder(tmp_path / "used", 2), image_folder(tmp_path / "unused", 2, seed=5)
    load(used_images, cache)
    load(unused_images, cache)
    on_upload = folder_run(root, used_upload / "faces", "on-upload")  # a folder inside the upload counts
    on_folder = folder_run(root, used_images, "on-folder")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = on_folder.generators_dir / f".tmp-{dead.pid}-epoch_0001.keras"
    leftover.write_bytes(b"x" * 4096)
    cache_of = {Path(e.folder).name: e.array for e in data.cache_entries(cache)}
    return dict(root=root, cache=cache, used_upload=used_upload, unused_upload=unused_upload, model=model,
                staging=staging, used_cache=cache_of["used"], unused_cache=cache_of["unused"], leftover=leftover,
                runs=(on_upload, on_folder))


def test_storage_lists_sizes_and_the_runs_that_use_each(kept):
    items = by_path(storage.list_storage(kept["root"], kept["cache"]))
    assert set(items) == {kept[k] for k in ("used_upload", "unused_upload", "model", "staging", "used_cache",
                                            "unused_cache", "leftover")}
    assert items[kept["used_upload"]].used_by == ("00000-on-upload",)
    assert items[kept["used_cache"]].used_by == ("00001-on-folder",)
    assert [items[kept[k]].removable for k in ("used_upload", "used_cache")] == [False, False]
    assert all(items[kept[k]].removable for k in ("unused_upload", "model", "staging", "unused_cache", "leftover"))
    assert items[kept["unused_upload"]].detail == "5 files"
    assert items[kept["unused_upload"]].size == sum(p.stat().st_size for p in kept["unused_upload"].rglob("*.png"))
    assert items[kept["model"]].size == 2048 and items[kept["leftover"]].size == 4096
    assert items[kept["used_cache"]].kind == "cache" and items[kept["used_cache"]].detail.endswith("used")


def test_removing_refuses_what_a_run_uses_and_anything_not_listed(kept):
    with pytest.raises(RunError, match="used by run 00000-on-upload"):
        storage.remove(kept["used_upload"], kept["root"], kept["cache"])
    for path in (kept["runs"][0].path, kept["runs"][0].config_path, kept["root"], Path("/etc/passwd")):
        with pytest.raises(RunError, match="not an upload, cache or temporary file"):
            storage.remove(path, kept["root"], kept["cache"])
    assert kept["used_upload"].is_dir() and kept["runs"][0].exists()
    removed = storage.remove(kept["unused_cache"], kept["root"], kept["cache"])
    assert removed.kind == "cache" and not kept["unused_cache"].exists()
    assert not kept["unused_cache"].with_suffix(".json").exists()


def test_clean_removes_everything_no_run_uses_and_nothing_else(kept):
    removed = storage.clean(kept["root"], kept["cache"])
    assert {i.path for i in removed} == {kept[k] for k in ("unused_upload", "model", "staging", "unused_cache",
                                                           "leftover")}
    assert not any(kept[k].exists() for k in ("unused_upload", "model", "staging", "unused_cache", "leftover"))
    assert kept["used_upload"].is_dir() and kept["used_cache"].is_file()
    assert all(r.exists() and r.generators_dir.is_dir() for r in kept["runs"])
    assert storage.clean(kept["root"], kept["cache"]) == []


def test_a_fresh_upload_is_kept_until_a_run_can_have_started_on_it(kept, monkeypatch):
    monkeypatch.setattr(storage, "_FRESH_UPLOAD_SECONDS", 3600.0)
    items = by_path(storage.list_storage(kept["root"], kept["cache"]))
    assert items[kept["unused_upload"]].busy == "just uploaded" and not items[kept["unused_upload"]].removable
    with pytest.raises(RunError, match="just uploaded"):
        storage.remove(kept["unused_upload"], kept["root"], kept["cache"])


def test_a_running_trainers_temporary_files_are_left_to_it(kept):
    on_folder = kept["runs"][1]
    with on_folder.lock():
        assert kept["leftover"] not in by_path(storage.list_storage(kept["root"], kept["cache"]))


def test_cli_storage_lists_and_cleans(kept, capsys):
    args = ["storage", "--runs-dir", str(kept["root"]), "--cache-dir", str(kept["cache"])]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "00000-on-upload" in out and "00001-on-folder" in out and "2.0 KiB" in out and "4.0 KiB" in out
    assert "no run uses (remove them with --clean)" in out
    assert cli.main(args + ["--clean"]) == 0
    out = capsys.readouterr().out
    assert out.count("removed ") == 5 and "freed " in out and "kept 2" in out
    assert kept["used_upload"].is_dir() and not kept["unused_upload"].exists()


@pytest.mark.parametrize("n,text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 * 2**20, "5.0 MiB"),
                                    (int(1.9 * 2**30), "1.9 GiB"), (3 * 2**40, "3072.0 GiB")])
def test_sizes_read_as_people_read_them(n, text):
    assert storage.format_bytes(n) == text


def test_home_lists_storage_and_removes_what_no_run_uses(kept):
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    (expander,) = [e for e in at.expander if e.label.startswith("Storage")]
    shown = "\n".join(t.value for t in at.text)
    assert str(kept["used_upload"]) in shown and "used by 00000-on-upload" in shown
    assert "used by 00001-on-folder" in shown and "5 files" in shown and "2.0 KiB" in shown
    removes = [b for b in at.button if b.label == "Remove"]
    assert len(removes) == 5  # one per item no run uses; none for the two a run uses
    next(b for b in removes if b.key == f"storage_remove_{kept['unused_upload']}").click().run()
    assert not at.exception and not kept["unused_upload"].exists() and kept["used_upload"].is_dir()
    assert any("Removed uploaded images" in s.value for s in at.success)
    next(b for b in at.button if b.key == "storage_clean").click().run()
    assert not at.exception and not kept["model"].exists() and not kept["unused_cache"].exists()
    assert kept["used_upload"].is_dir() and kept["used_cache"].is_file() and all(r.exists() for r in kept["runs"])
    assert [b for b in at.button if b.label == "Remove"] == []


def exported(folder: Path, source: str, formats=("savedmodel", "tflite")) -> Path:
    """A generator export as the Export page leaves it: the files and their export_report.json."""
    folder.mkdir(parents=True)
    (folder / "generator.tflite").write_bytes(b"t" * 10_000)
    (folder / "savedmodel").mkdir()
    (folder / "savedmodel" / "saved_model.pb").write_bytes(b"s" * 5_000)
    rows = [{"format": f, "file": f} for f in formats]
    (folder / "export_report.json").write_text(json.dumps({"source": source, "formats": rows}))
    return folder


def test_generator_exports_are_listed_with_their_model_and_cleaned(tmp_path, capsys):
    """Each "Export the generator" left a ~27 MB folder that `storage`, Home and --clean never saw."""
    root = tmp_path / "runs"
    model = "pretrained/mnist_dcgan/generators/epoch_0030.keras"
    first, second = (exported(root / "_exports" / "mnist_dcgan_epoch0030" / f"mnist_dcgan_epoch0030_runtimes{tail}",
                              model) for tail in ("", "-2"))
    picture = root / "_exports" / "mnist_dcgan_epoch0030" / "grid.png"
    picture.write_bytes(png_bytes(0))
    run = folder_run(root, tmp_path / "faces", "mine")
    in_run = exported(run.exports_dir / "00000-mine_epoch0001_runtimes", str(run.generators_dir / "epoch_0001.keras"),
                      ("onnx",))
    items = by_path(storage.list_storage(root, tmp_path / "cache"))
    assert {p for p, i in items.items() if i.kind == "export"} == {first, second, in_run}
    assert items[first].size == 15_000 + len((first / "export_report.json").read_bytes())
    assert items[first].detail == f"savedmodel, tflite of {model}" and items[first].removable
    assert items[in_run].detail.endswith("(in run 00000-mine)")

    at = AppTest.from_file(str(APP), default_timeout=90).run()
    shown = "\n".join(t.value for t in at.text)
    assert f"Generator export: {first}" in shown and f"savedmodel, tflite of {model}" in shown

    assert cli.main(["storage", "--runs-dir", str(root), "--cache-dir", str(tmp_path / "cache")]) == 0
    assert str(second) in capsys.readouterr().out
    assert cli.main(["storage", "--runs-dir", str(root), "--cache-dir", str(tmp_path / "cache"), "--clean"]) == 0
    assert not any(p.exists() for p in (first, second, in_run))
    assert picture.is_file() and run.config_path.is_file()


# --- a trainer starting ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_starting_trainer_removes_what_a_killed_save_left(tmp_path, mnist_npz):
    cfg = config.from_preset("mnist_dcgan", {"epochs": 1, "limit": 64, "batch_size": 32, "data": str(mnist_npz),
                                             "name": "leftovers"})
    run = runs.create_run(tmp_path / "runs", cfg)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftovers = [run.generators_dir / f".tmp-{dead.pid}-epoch_0001.keras",
                 run.checkpoints_dir / f".tmp-step_00000002-{dead.pid}"]
    leftovers[0].write_bytes(b"\x00" * 10_000)
    leftovers[1].mkdir()
    (leftovers[1] / "ckpt.index").write_bytes(b"\x00" * 100)
    assert tasks.train(run) == "done"
    assert not any(p.exists() for p in leftovers)
    events = [r["message"] for r in run.metrics("event")]
    assert any("removed 2 temporary file(s) left by an earlier trainer" in m for m in events)
    names = {p.name for p in run.generators_dir.iterdir()} | {p.name for p in run.checkpoints_dir.iterdir()}
    assert not any(n.startswith(".tmp-") for n in names)
