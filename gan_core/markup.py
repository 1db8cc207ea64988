"""Text from files, folders, uploads and configs as literal text inside markup: the one way into Markdown
(`md_text`, for Streamlit's captions, labels, options, alerts and image captions) and the one way into Plotly
(`plot_text`, for titles, legend names, hover text and annotations).

Why both are needed: a run folder, a data folder, an uploaded file's name, a config value or a quality.jsonl field
is whatever whoever wrote it chose. Streamlit renders Markdown in far more places than `st.markdown` (widget labels,
radio and select-slider options, image captions, metric values, progress text, toasts, alerts), with images and
links that make the browser fetch an outside URL, and directives of its own (`:red[..]`, `:material/x:`). Plotly
renders a subset of HTML in every text it draws (`<a href>`, `<span style>`, `<b>`, `<br>`, ...). Neither runs a
script, but either lets a file name put a link, a remote image or page-sized text on the page.
"""
from __future__ import annotations

import re

# Markdown (CommonMark + GFM) and Streamlit's additions, inline: links and images `[..](..)` / `![..]`, autolinks
# (`<..>`), code, emphasis and strike-through, tables, HTML and entities (`<b>`, `&lt;`), Streamlit's directives
# (`:red[..]`), emoji shortcodes (`:smile:`) and LaTeX (`$..$`). A backslash escapes each of them; '-', '.' stay.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\](){}<>!:$~|#&])")
# '_' emphasises only at a word's edge ("_x_"); inside a word ("mnist_dcgan") it is text, so it stays readable there.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# A whole caption can start a block: a list item ("- x", "+ x", "1. x", "1) x").
_BLOCK_START = re.compile(r"^([-+]|\d+[.)])(?=\s|$)")
# GFM turns bare `http://..`, `www...` and `a@b.c` into links after escapes are resolved, and Streamlit draws
# `:material/name:` as an icon even with its colons escaped; an invisible word joiner (U+2060) inside each keeps the
# text as it reads while no longer matching.
_AUTOLINKS = re.compile(r"(://|@|www(?=\\\.))", re.IGNORECASE)
_ICON = re.compile(r"(?<=\\:)(?=material/)", re.IGNORECASE)
WORD_JOINER = "\u2060"
# What Plotly's text reads as markup: its HTML subset's tags and entities.
_PLOTLY_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(value: object) -> str:
    """`value` as literal text inside Markdown: it reads as written (white space collapsed to single spaces: a
    name's line break cannot start a block) and can never become a link, an image, emphasis, HTML, math, an emoji,
    an icon or a Streamlit directive."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    escaped = _EDGE_UNDERSCORE.sub(r"\\_", escaped)
    escaped = _BLOCK_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], escaped)
    escaped = re.sub(r"(www)\.", r"\1\\.", escaped, flags=re.IGNORECASE)
    escaped = _AUTOLINKS.sub(lambda m: m.group(1)[:1] + WORD_JOINER + m.group(1)[1:], escaped)
    return _ICON.sub(WORD_JOINER, escaped)


def code_span(value: object) -> str:
    """`value` as inline code in Markdown: shown as typed (in a code font), never as markup; a backquote, which
    would end the span, reads as a quote."""
    return "`" + " ".join(str(value).replace("`", "'").split()) + "`"


def plot_text(value: object) -> str:
    """`value` as literal text in a Plotly title, legend name, hover text or annotation: its HTML subset's tags
    (`<a href>`, `<span style>`, `<b>`, `<br>`, ...) and entities shown as typed, never as markup."""
    return "".join(_PLOTLY_ENTITIES.get(c, c) for c in str(value))
