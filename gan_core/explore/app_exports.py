"""The Export page's generator exports: one folder per generator file and set of formats, reused, and listed.

Each "Export the generator" once wrote a new ~27 MB folder (``<model>_runtimes``, ``-2``, ``-3``, ...) however
often the same file was exported. An export whose report names the same generator content (its sha256), the same
formats and a passed check is now handed back instead of written again. :func:`find` lists the exports in a folder
for ``gan_core.storage`` (sizes, which generator, removal).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..files.disk import read_json
from ..inference import Generator
from .model_export import REPORT_FILE, ExportReport, check_formats, export_generator, fresh_dir, source_digest


@dataclass(frozen=True)
class FoundExport:
    path: Path  # the export's folder
    source: str  # the generator file it was made from, as its report says
    formats: tuple[str, ...]
    report: dict  # export_report.json as read


def find(folder: str | Path) -> list[FoundExport]:
    """The generator exports directly inside `folder` (sub-folders holding an export report), by name."""
    try:
        children = sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []
    found = []
    for child in children:
        report = read_json(child / REPORT_FILE)
        if isinstance(report, dict) and isinstance(report.get("formats"), list):
            formats = tuple(r.get("format", "?") for r in report["formats"] if isinstance(r, dict))
            found.append(FoundExport(child, str(report.get("source", "")), formats, report))
    return found


def export_once(generator: Generator, parent: str | Path, stem: str,
                formats: Sequence[str]) -> tuple[ExportReport, bool]:
    """(report, reused): an earlier export in `parent` of the same generator file content, formats and a passed
    check, or a new one written into ``parent/stem`` (``stem-2``, ... where taken)."""
    formats = check_formats(formats)
    digest = source_digest(generator.source)
    if digest:
        for old in find(parent):
            if (old.report.get("source_sha256") == digest and set(old.formats) == set(formats)
                    and old.path.name.startswith(stem)):
                try:
                    report = ExportReport.from_dict(old.report)
                except (TypeError, KeyError, ValueError):  # a report of another version, or edited: not reused
                    continue
                if report.ok and all((old.path / r.file).exists() for r in report.formats):
                    report.out_dir = str(old.path)  # the folder may have been moved with its runs folder
                    return report, True
    return export_generator(generator, fresh_dir(parent, stem), formats), False

