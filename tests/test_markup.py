"""Issue 31, item 6: text from files, folders, uploads and configs never becomes markup.

The two escapers (gan_core.markup: `md_text` for Markdown, `plot_text` for Plotly's HTML subset) on every character
that could make markup, the chart builders on hostile run and metric names, and every page through AppTest with
hostile names in each place the sweep found them: a run folder, a data folder in config.json, a config value that
makes a folder unusable, quality.jsonl's metric name, floor label and fields, status.json and an uploaded picture's
file name. tests/test_browser_markup.py opens the same pages in Chromium and watches for outside requests.
"""
import html
import io
import json
import re

import numpy as np
import pytest
from markdown_it import MarkdownIt

from gan_core import runs
from gan_core.markup import WORD_JOINER, code_span, md_text, plot_text
from gan_core.runs import compare_charts, quality_charts

# A name as anyone who can write the runs folder (or a config.json, or an upload's name) can choose it. No '/': it
# has to be a folder name too (Plotly closes an open tag itself); "https:example.com\\x" is what Chromium fetches as
# https://example.com/x.
LINK = "https:example.com\\x"
HOSTILE = (f'<a href="{LINK}">a<span style="font-size:200px">BIG<b>b<br>![i]({LINK}.png)[l]({LINK}):red[RED] '
           ':smile: $x^2$ _em_ **st** ~~s~~ `c` http:example.com www.x.io')
MARKDOWN_CASES = [
    "![x](https://example.com/x.png)", "[click](https://example.com)", "<https://example.com>", "a@example.com",
    "http://example.com/p", "www.example.com", "<img src=x onerror=alert(1)>", "<b>bold</b>", "&lt;b&gt; &amp;",
    "*em* **strong** _em_ __strong__ ~~strike~~", "`code`", "# heading", "> quote", "- item", "+ item", "1. item",
    "2) item", "| a | b |", ":red[red] :blue-background[x] :red-badge[b]", ":smile: :material/home:", "$x^2$ $$y$$",
    "a\\b \\[x\\]", "[x][ref]\n\n[ref]: https://example.com", "line\nbreak\n\n===", "mnist_dcgan 00001-tiny v1.0",
    HOSTILE,
]
STREAMLIT_ACTIVE = re.compile(r"(?<!\\):[a-z-]+\[|(?<!\\):(?:[a-z_]+|material/[a-z_]+)(?<!\\):")


def rendered(markdown: str) -> tuple[list[str], str]:
    """(the token types CommonMark with GFM's tables and strike-through makes of `markdown`, its text as read)."""
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    types, text = [], []
    for block in md.parse(markdown):
        types.append(block.type)
        for token in block.children or []:
            types.append(token.type)
            text.append(token.content)
    return types, "".join(text)


@pytest.mark.parametrize("value", MARKDOWN_CASES)
def test_md_text_leaves_nothing_markdown_can_act_on(value):
    escaped = md_text(value)
    types, text = rendered(escaped)
    assert set(types) <= {"paragraph_open", "inline", "paragraph_close", "text"}, (escaped, types)
    assert text.replace(WORD_JOINER, "") == " ".join(value.split())  # it reads as written, white space collapsed
    # what CommonMark does not know: Streamlit's directives, emoji and icon shortcodes, math, GFM autolinks
    assert not STREAMLIT_ACTIVE.search(escaped), escaped
    assert re.search(r"(?<!\\)\$", escaped) is None
    assert not re.search(r"https?:/|www\.", escaped.replace("\\", ""), re.IGNORECASE)
    assert ":material/" not in escaped.replace("\\", "") and "@example" not in escaped


def test_md_text_keeps_ordinary_names_readable():
    assert md_text("00001-mnist_dcgan") == "00001-mnist_dcgan"  # '_' inside a word is text, never emphasis
    assert md_text("ckpt-3 (epoch 3)") == "ckpt-3 \\(epoch 3\\)"
    assert md_text(" two\n lines ") == "two lines"


def test_code_span_cannot_be_closed_by_a_name():
    types, text = rendered(code_span("a`![x](https://e.com/x.png)`b"))
    assert types.count("code_inline") == 1 and "image" not in types and "link_open" not in types


@pytest.mark.parametrize("value", [HOSTILE, '<a href="x">a</a><span style="font-size:200px">B</span>',
                                   "&lt;a href=x&gt;", "a < b > c & d", "<br>", "&#60;b&#62;"])
def test_plot_text_escapes_plotlys_html_subset(value):
    escaped = plot_text(value)
    assert "<" not in escaped and ">" not in escaped
    assert re.search(r"&(?!amp;|lt;|gt;)", escaped) is None  # every '&' starts one of the three entities
    assert html.unescape(escaped) == value  # Plotly shows the name exactly as written


# --- the chart builders -----------------------------------------------------------------------------------------

def figure_texts(fig) -> list[str]:
    """Every string a figure draws as text: trace names, hover data, titles, axis titles and annotations."""
    spec = fig.to_plotly_json()
    found = []

    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in ("name", "text", "customdata", "title"):
            found.append(value)

    walk(spec)
    return found


def quality_records(name: str = HOSTILE, epochs=(1, 2)) -> list[dict]:
    return [{"kind": "quality", "epoch": e, "metric": name, "value": 0.5 / e, "floor": 0.1, "floor_label": name,
             "n": 64, "better": "lower", "classes_covered": name, "num_classes": 10} for e in epochs]


def assert_no_plotly_markup(texts: list[str]) -> None:
    joined = "\n".join(texts)
    assert "&lt;a href=" in joined  # the hostile name is there, as text
    assert not re.search(r"<(a|span|b|br|img)\b", joined, re.IGNORECASE), joined


def test_quality_and_compare_figures_draw_names_as_text():
    lines = [compare_charts.RunLines(HOSTILE, {"g_loss": ([1, 2], [0.7, 0.6])}),
             compare_charts.RunLines("b", {"g_loss": ([1], [1])})]
    assert_no_plotly_markup(figure_texts(compare_charts.compare_figure(lines)))
    assert_no_plotly_markup(figure_texts(quality_charts.quality_figure(quality_records())))
    other = [{**r, "floor": 0.2} for r in quality_records()]  # another floor: one line per run, named
    assert_no_plotly_markup(figure_texts(compare_charts.compare_quality_figure([(HOSTILE, quality_records()),
                                                                         ("b", other)])))


# --- every page, through AppTest -----------------------------------------------------------------------------------

def markdown_texts(at) -> list[str]:
    """Every text a page hands Streamlit's Markdown renderer: markdown, captions, alerts, image captions, radio
    and select-slider options, labels, metric values, progress text, expander and tab labels."""
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "error") for e in at.get(kind)]
    parts += [t.proto.body for t in at.toast]
    parts += [c for image in at.get("image") for c in image.captions]
    parts += [o for radio in at.radio for o in radio.options] + [r.label for r in at.radio]
    parts += [o for s in at.select_slider for o in s.options]
    parts += [w.label for kind in ("checkbox", "button", "selectbox", "number_input", "slider", "file_uploader")
              for w in at.get(kind) if hasattr(w, "label")]
    parts += [m.label for m in at.metric] + [m.value for m in at.metric] + [p.proto.text for p in at.get("progress")]
    parts += [e.label for e in at.expander] + [t.label for t in at.tabs]
    return [str(p) for p in parts]


def assert_inert(at, *, expect: str | None = md_text(HOSTILE)) -> None:
    """No text on the page carries the hostile name's markup in a form Markdown or Plotly acts on; `expect` (the
    escaped name) is somewhere, so the test looked at the element that shows it."""
    assert not at.exception, [e.value for e in at.exception]
    texts = markdown_texts(at)
    for text in texts:
        types, _ = rendered(text)
        assert "image" not in types and "link_open" not in types and "html_inline" not in types, text
        assert "](" not in text.replace("\\](", "") and ":red[" not in text and ":material/home" not in text, text
    if expect is not None:
        assert any(expect in t for t in texts), "the hostile name is not on the page"
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        assert not re.search(r"<(a|span|b|br|img)\b", json.dumps(spec["data"]) + json.dumps(spec["layout"]))


@pytest.fixture
def hostile_runs(runs_dir):
    """The tiny run under a hostile folder name, with quality.jsonl records whose metric name, floor label and
    fields are hostile."""
    run = runs.RunDir(next(iter(runs.list_runs(runs_dir))).path.rename(runs_dir / f"00001-{HOSTILE}"))
    run.path.joinpath("quality.jsonl").write_text("".join(json.dumps(r) + "\n" for r in quality_records()))
    return run


@pytest.mark.slow
@pytest.mark.parametrize("page", ["home", "train", "snapshots", "latent", "export"])
def test_every_page_shows_hostile_names_as_text(hostile_runs, page):
    from apptest_helpers import open_page

    bad = hostile_runs.path.parent / "00002-bad"  # a folder whose config.json names a hostile architecture
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"architecture": HOSTILE}))
    at = open_page(page, errors_expected=True)
    assert_inert(at, expect=None if page == "snapshots" else md_text(HOSTILE))  # Snapshots names it in a selectbox
    assert any("Skipped" in c.value and "architecture" in c.value for c in at.caption)  # config.json's value, quoted
    if page == "snapshots":  # the quality tab: metric name and floor label in Plotly
        assert any("&lt;a href=" in chart.proto.spec for chart in at.get("plotly_chart"))


@pytest.mark.slow
def test_compare_draws_hostile_run_and_metric_names_as_text(hostile_runs, tmp_path):
    from apptest_helpers import open_page

    at = open_page("compare", errors_expected=True)
    (pretrained,) = runs.list_pretrained(tmp_path / "pretrained")
    pretrained.path.joinpath("quality.jsonl").write_text(
        "".join(json.dumps({**r, "floor": 0.3}) + "\n" for r in quality_records()))
    at.multiselect(key="compare_runs").select(pretrained).run()
    assert_inert(at)
    specs = "".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert len(at.get("plotly_chart")) == 2 and "&lt;span style=" in specs


@pytest.mark.slow
def test_train_warnings_and_progress_show_record_fields_as_text(hostile_runs):
    from apptest_helpers import open_page

    coverage = {"kind": "quality", "epoch": HOSTILE, "metric": "mode_coverage", "value": 1.0, "classes_covered": 1,
                "num_classes": 10, "n": 64}  # a collapse warning that quotes the record's epoch
    hostile_runs.path.joinpath("quality.jsonl").write_text(json.dumps(coverage) + "\n")
    hostile_runs.write_status(step=HOSTILE, total_steps=None)  # shown as it is where the total is unknown
    at = open_page("train", errors_expected=True)
    assert any("Mode collapse" in w.value for w in at.warning)
    assert_inert(at)
    assert any(md_text(HOSTILE) in p.proto.text for p in at.get("progress"))


@pytest.mark.slow
def test_translate_shows_a_hostile_data_folder_name_as_text(translation_runs_dir):
    from apptest_helpers import open_page

    cycle = next(r for r in runs.list_runs(translation_runs_dir) if "cyclegan" in r.name)
    config = json.loads(cycle.config_path.read_text())
    config.update(dataset="folder", data=f"/data/{HOSTILE}")
    cycle.config_path.write_text(json.dumps(config))
    at = open_page("translate")
    at.sidebar.selectbox[0].set_value(next(o for o in at.sidebar.selectbox[0].options if "cyclegan" in str(o))).run()
    at.radio(key="translate_source").set_value("Held-out example").run()
    direction = next(r for r in at.radio if r.label == "Direction")
    assert direction.options[0].startswith(md_text(HOSTILE))
    assert_inert(at)
    assert any(md_text(HOSTILE) in c for image in at.get("image") for c in image.captions)


@pytest.mark.slow
def test_latent_shows_an_uploaded_pictures_name_as_text(runs_dir, shared_data):
    from PIL import Image
    from apptest_helpers import open_page

    at = open_page("latent")
    buffer = io.BytesIO()
    Image.fromarray(np.load(shared_data / "mnist.npz")["x_test"][7]).save(buffer, format="PNG")
    at.radio(key="project_source").set_value("Upload an image").run()
    at.file_uploader(key="project_upload").upload(f"{HOSTILE}.png", buffer.getvalue(), "image/png").run()
    at.number_input(key="project_steps_28").set_value(10).run()
    at.number_input(key="project_restarts").set_value(1).run()
    next(b for b in at.button if b.label == "Project").click().run()
    next(b for b in at.button if b.label == "Edit from here").click().run()
    assert_inert(at, expect=f"projection of {md_text(HOSTILE)}")
