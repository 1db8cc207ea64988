"""Hostile run folders on every page, through streamlit's AppTest: markup in a folder name or status.json shows as
text (hostile-user sweep, item 4), and a folder whose JSON is a list is skipped with a note (issue 15)."""
from pathlib import Path

import pytest
from apptest_helpers import assert_clean, image_urls, only_run, open_page, plain, texts
from streamlit.testing.v1 import AppTest

from gan_core import runs

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


XSS_NAME = "00001-<iframe srcdoc=\"&lt;script&gt;top.document.title=1&lt;&#47;script&gt;\">[x](http:example.com)"


def hostile_run(runs_dir) -> runs.RunDir:
    """A copy of the tiny run whose folder name and status.json carry markup, as anyone with the runs folder can."""
    run = runs.RunDir(only_run(runs_dir).path.rename(runs_dir / XSS_NAME))
    run.write_status(device="<img src=x onerror=alert(1)> ![tracker](http://example.com/pixel.png)")
    return run


def test_markup_in_a_run_folder_name_or_status_renders_as_text(runs_dir):
    hostile_run(runs_dir)
    for page in ("home", "train"):
        at = open_page(page)
        shown = [e for kind in ("markdown", "caption") for e in at.get(kind)]
        assert not any(e.proto.allow_html for e in shown)  # no value from disk is ever rendered as HTML
        text = texts(at)
        assert "\\<iframe srcdoc=" in text and "\\[x\\]\\(http\\:example.com\\)" in text  # literal, escaped
        assert "<iframe" not in text.replace("\\<iframe", "")
    assert "\\<img src=x onerror=alert\\(1\\)\\>" in text and "\\!\\[tracker\\]" in text


def test_compare_shows_a_markup_run_name_as_text_under_its_grid(runs_dir, tmp_path):
    hostile_run(runs_dir)
    at = open_page("compare")  # one training run and one pretrained model: pick the model too
    (pretrained,) = runs.list_pretrained(tmp_path / "pretrained")
    at.multiselect(key="compare_runs").select(pretrained).run()
    assert_clean(at)
    caption = next(c for image in at.get("image") for c in image.captions if "iframe" in c)
    assert caption.startswith("00001-\\<iframe srcdoc=") and "\\[x\\]\\(http\\:example.com\\)" in caption
    assert XSS_NAME in at.dataframe[0].value.columns  # tables show it as it is: plain text


BAD_NAME = "00009-![i](x.png)*e*"  # markup in a folder name: the note shows it as code, never as an image


def add_bad_folders(runs_dir: Path, source: runs.RunDir) -> None:
    """Copies of a good run whose config.json, or status.json, is a JSON list (hand-edited, or another tool's)."""
    import shutil

    for name, file in ((BAD_NAME, "config.json"), ("00008-bad-status", "status.json")):
        target = runs_dir / name
        shutil.copytree(source.path, target, ignore=shutil.ignore_patterns("checkpoints", "tb", ".lock"))
        (target / file).write_text('["not", "an", "object"]')


def assert_notes_name_the_bad_folders(at: AppTest) -> None:
    captions = [plain(c.value) for c in at.caption]  # the reason is escaped: it may quote config.json
    assert any("Skipped `00008-bad-status`: status.json is not a JSON object (it holds a list)" in c
               for c in captions), captions
    assert any(f"Skipped `{BAD_NAME}`: config.json is not a JSON object (it holds a list)" in c for c in captions)


@pytest.mark.parametrize("page", ["home", "train", "latent", "export", "snapshots", "compare"])
def test_a_run_folder_whose_json_is_a_list_is_skipped_with_a_note(runs_dir, page):
    good = only_run(runs_dir)
    add_bad_folders(runs_dir, good)
    at = open_page(page)  # before: AttributeError: 'list' object has no attribute 'get' on every one of these
    assert_clean(at)
    assert_notes_name_the_bad_folders(at)
    if page in ("home", "train"):
        assert "00000-tiny" in texts(at)
    if page in ("latent", "export"):
        assert image_urls(at)  # the good run still draws


def test_translate_skips_a_bad_folder_with_a_note(translation_runs_dir):
    good = next(r for r in runs.list_runs(translation_runs_dir) if r.task == "pix2pix")
    add_bad_folders(translation_runs_dir, good)
    at = open_page("translate")
    assert_clean(at)
    assert_notes_name_the_bad_folders(at)
    assert image_urls(at)
