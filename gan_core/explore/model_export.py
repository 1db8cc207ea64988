"""A latent generator exported for other runtimes: a TensorFlow SavedModel, a TFLite flatbuffer and an ONNX graph,
each run back on fixed z and compared with the Keras generator it came from.

Every format takes the same inputs and gives the same output:

- ``z``: float32 ``[N, noise_dim]``, the generator's noise (N(0, 1), or U[0, 1) for uniform-noise models); the
  app's seed ``s`` is ``gan_core.latent_space.z_from_seed(s, noise_dim, noise)``.
- ``label`` (class-conditional generators only): int32 ``[N]``, the class 0..num_classes-1 of each image (one-hot
  inside the exported graph; a class outside that range is an all-zero class vector).
- ``images``: float32 ``[N, H, W, C]`` in the generator's own pixel range, ``[-1, 1]`` (tanh) or ``[0, 1]``
  (sigmoid); the app's uint8 pixel is ``round(clip(to_unit(images), 0, 1) * 255)``.

SavedModel and TFLite need only TensorFlow; ONNX needs the ``export`` extra (tf2onnx, onnxruntime). Here: the one
entry point, the check against the Keras generator, the report and the staging folder; each format is its own
module (:mod:`.export_savedmodel`, :mod:`.export_tflite`, :mod:`.export_onnx`), sharing :mod:`.export_serving`.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import latent_space
from ..errors import ConfigError, ResourceError, resource_errors
from ..files import pictures
from ..files.disk import atomic_write_json, file_sha256
from ..inference import Generator
from ..runs import resolve_run
from .export_onnx import ONNX_OPSET, export_onnx, onnx_modules
from .export_savedmodel import export_savedmodel
from .export_serving import serving_function
from .export_tflite import export_tflite

FORMATS = ("savedmodel", "tflite", "onnx")
FILES = {"savedmodel": "savedmodel", "tflite": "generator.tflite", "onnx": "generator.onnx"}
REPORT_FILE = "export_report.json"
CHECK_N = 16  # images compared per format: seeds 0..15, the first cells of a run's snapshot grid
MAX_CHECK_N = 1024
# Largest max |exported - Keras| accepted, in the generator's output range: the same graph (SavedModel) is exact,
# a converted one (TFLite's XNNPACK, onnxruntime's kernels) sums in another order: a few 1e-6 on the shipped models.
TOLERANCE = {"savedmodel": 1e-5, "tflite": 1e-3, "onnx": 1e-3}
TOLERANCE_UINT8 = 1  # a value on a rounding edge may land one step away
OUTPUT_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "unit": (0.0, 1.0)}


@dataclass
class FormatResult:
    """One exported file, run on the check's z and compared with the Keras generator."""

    format: str
    file: str  # relative to the export folder
    size_bytes: int
    batch: int | None  # None: any batch size; 1: one image a call (static shapes)
    max_abs_diff: float  # in the generator's output range (e.g. [-1, 1])
    max_abs_diff_uint8: int  # in the app's uint8 pixels
    tolerance: float
    ok: bool
    runtime: str  # what ran it back
    seconds: float  # export plus check


@dataclass
class ExportReport:
    source: str
    out_dir: str
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    pixel_range: str
    noise: str
    check: dict[str, Any]
    formats: list[FormatResult] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    source_sha256: str = ""  # the generator file's content: an app export of the same file is reused (app_exports)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExportReport":
        """Back from :meth:`to_dict` (export_report.json); a null diff reads as NaN."""
        rows = [FormatResult(**{**r, "max_abs_diff": float("nan") if r["max_abs_diff"] is None else r["max_abs_diff"]})
                for r in data["formats"]]
        return cls(**{**data, "formats": rows})

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.formats)

    def to_dict(self) -> dict[str, Any]:
        """As JSON takes it: a diff that is not finite (NaN or a wrong shape came back) is null."""
        data = asdict(self)
        for row in data["formats"]:
            row["max_abs_diff"] = row["max_abs_diff"] if np.isfinite(row["max_abs_diff"]) else None
        return data

    def rows(self) -> list[dict[str, Any]]:
        """One row per format, for a table."""
        return [{"format": r.format, "file": r.file, "size": _size(r.size_bytes), "batch": _batch(r.batch),
                 "max |diff| (output range)": f"{r.max_abs_diff:.2e}", "max |diff| (uint8)": r.max_abs_diff_uint8,
                 "tolerance": f"{r.tolerance:g}", "check": "ok" if r.ok else "FAILED", "runtime": r.runtime}
                for r in self.formats]

    def table(self) -> str:
        lines = [f"{'format':11s} {'file':17s} {'size':>8s} {'batch':>5s}  {'max |diff| (output range)':>25s}  "
                 f"{'max |diff| (uint8)':>18s}  check"]
        for r in self.formats:
            lines.append(f"{r.format:11s} {r.file:17s} {_size(r.size_bytes):>8s} {_batch(r.batch):>5s}  "
                         f"{r.max_abs_diff:>25.2e}  "
                         f"{r.max_abs_diff_uint8:>18d}  {'ok' if r.ok else 'FAILED (tolerance %g)' % r.tolerance}")
        lines.append("inputs:  " + "; ".join(describe(t) for t in self.inputs))
        lines.append("output:  " + "; ".join(describe(t) for t in self.outputs))
        lines.append(f"checked: {self.check['what']}")
        return "\n".join(lines)

    def zip_bytes(self) -> bytes:
        """The export folder as one zip (files under the folder's name)."""
        root = Path(self.out_dir)
        buffer = io.BytesIO()
        with resource_errors(f"zipping {root}"), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(root.name) / path.relative_to(root))
        return buffer.getvalue()


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _batch(batch: int | None) -> str:
    return "any" if batch is None else str(batch)


def describe(tensor: dict[str, Any]) -> str:
    shape = ", ".join("N" if d is None else str(d) for d in tensor["shape"])
    return f"{tensor['name']} {tensor['dtype']} [{shape}]: {tensor['meaning']}"


# --- the one entry point ---------------------------------------------------------------------------------------

def export_generator(generator_or_ref: Generator | str | Path, out_dir: str | Path,
                     formats: Sequence[str] = FORMATS, *, epoch: int | None = None, n: int = CHECK_N,
                     seed: int = 0, opset: int = ONNX_OPSET, log=None) -> ExportReport:
    """Write each of `formats` into `out_dir` (a new or empty folder), run each back on the z of seeds
    seed..seed+n-1 (a conditional generator: classes 0, 1, ... in turn) and compare with the Keras generator.

    The report (also `out_dir/export_report.json`) says each file's max |diff| in the output range and in uint8
    pixels. Everything is written to a temporary folder beside `out_dir` and renamed into place at the end, so
    `out_dir` holds a whole export or nothing new; a folder that already holds anything is refused untouched.
    `generator_or_ref`: a Generator, a run or pretrained folder (at `epoch`, default its last), or a .keras file.
    """
    formats = check_formats(formats)
    check_options(n, seed)
    out_dir = check_out_dir(out_dir)
    if "onnx" in formats:
        onnx_modules()  # a missing package is found before anything is loaded or written
    generator = open_generator(generator_or_ref, epoch)
    say = log or (lambda message: None)
    serve, signature = serving_function(generator)
    z, labels = check_inputs(generator, n, seed)
    reference = _keras_output(generator, z, labels)
    report = ExportReport(source=generator.source, out_dir=str(out_dir), inputs=_inputs(generator, signature),
                          outputs=[_output(generator)], pixel_range=generator.pixel_range, noise=generator.noise,
                          check={"seeds": [seed, seed + n - 1], "n": int(n), "batch_sizes": [int(n), 1],
                                 "labels": None if labels is None else "classes 0, 1, ... in turn",
                                 "what": _check_text(generator, n, seed)},
                          versions=_versions(formats), source_sha256=source_digest(generator.source))
    with _staging(out_dir) as stage:
        for name in formats:
            start = time.perf_counter()
            say(f"exporting {name}…")
            path = stage / FILES[name]
            run, batch, runtime = _EXPORTERS[name](generator, serve, signature, path, opset)
            got = [np.asarray(run(z, labels), np.float32), np.asarray(run(z[:1], _first(labels)), np.float32)]
            report.formats.append(_compare(name, path, got, reference, generator, z, labels, batch, runtime,
                                           time.perf_counter() - start))
        with resource_errors(f"writing {REPORT_FILE}"):
            atomic_write_json(stage / REPORT_FILE, report.to_dict())
    return report


def source_digest(path: str) -> str:
    """The generator file's sha256, or "" where it has none (built in memory, unreadable)."""
    try:
        return file_sha256(path) if path and Path(path).is_file() else ""
    except OSError:
        return ""


def check_formats(formats: Sequence[str] | str) -> tuple[str, ...]:
    """`formats` as a tuple in FORMATS order, from names or one comma-separated string."""
    names = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats) if f.strip()]
    unknown = [f for f in names if f not in FORMATS]
    if unknown:
        raise ConfigError(f"unknown export format {unknown[0]!r}: the formats are {', '.join(FORMATS)}")
    if not names:
        raise ConfigError(f"pick at least one export format: {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in names)


def check_options(n: int, seed: int) -> None:
    """The check's size and first seed, refused before anything is loaded or written."""
    if not 1 <= int(n) <= MAX_CHECK_N:
        raise ConfigError(f"the check compares 1..{MAX_CHECK_N} images; got {n}")
    if not 0 <= int(seed) <= latent_space.MAX_SEED - int(n) + 1:
        raise ConfigError(f"the check's seeds {seed}..{int(seed) + int(n) - 1} must lie in 0..{latent_space.MAX_SEED}")


def check_out_dir(out_dir: str | Path) -> Path:
    """The export folder, if it can be one: absent, or an empty folder. Nothing is written here.

    A symbolic link to a folder stands for that folder: the export goes into the folder it names (the staged export
    is renamed onto the folder, never onto the link, which a folder cannot replace) and the link stays. A link to
    nothing is refused as what it is."""
    out_dir = Path(out_dir).expanduser()
    if out_dir.is_symlink():
        if not out_dir.exists():
            raise ConfigError(f"{out_dir} is a symbolic link to {os.readlink(out_dir)}, which does not exist (or is "
                              "a loop of links): create that folder, or give another --out")
        out_dir = Path(os.path.realpath(out_dir))
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ConfigError(f"{out_dir} is a file, not a folder: give a new folder for the export")
        with resource_errors(f"reading {out_dir}"):
            inside = sorted(p.name for p in out_dir.iterdir())
        if inside:
            raise ConfigError(f"{out_dir} already holds {len(inside)} file(s) or folder(s) (e.g. {inside[0]}): "
                              "export into a new or empty folder; nothing in it was changed")
    parent = out_dir.absolute().parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"cannot make {out_dir}: {existing} is a file, not a folder")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {out_dir}: this user may not write in {existing}; pick a folder you can "
                          "write")
    return out_dir


def fresh_dir(parent: str | Path, stem: str) -> Path:
    """`parent/stem`, or `stem-2`, `stem-3`, ... : the first that does not exist yet (for the app's exports)."""
    parent = Path(parent)
    for i in range(1, 10_000):
        candidate = parent / (stem if i == 1 else f"{stem}-{i}")
        if not candidate.exists():
            return candidate
    raise ConfigError(f"{parent} holds 9999 exports named {stem}: remove some")


def open_generator(ref: Generator | str | Path, epoch: int | None = None) -> Generator:
    if isinstance(ref, Generator):
        if epoch is not None:
            raise ConfigError("epoch applies to a run folder, not to a loaded generator")
        return ref
    if str(ref).endswith(".keras"):
        if epoch is not None:
            raise ConfigError("epoch applies to a run folder, not to a .keras file")
        return Generator.load(ref)
    return Generator.from_run(resolve_run(ref), epoch)



# --- what every format takes and gives -------------------------------------------------------------------------

def check_inputs(generator: Generator, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """The check's z (seeds seed..seed+n-1, as the app makes them) and, for a conditional generator, its int32
    classes 0, 1, ... in turn (what the app draws when no class is chosen)."""
    z = latent_space.z_from_seeds(latent_space.grid_seeds(seed, n), generator.noise_dim, generator.noise)
    labels = (np.arange(n) % generator.num_classes).astype(np.int32) if generator.conditional else None
    return z, labels


def _first(labels: np.ndarray | None) -> np.ndarray | None:
    return None if labels is None else labels[:1]


def _keras_output(generator: Generator, z: np.ndarray, labels: np.ndarray | None) -> list[np.ndarray]:
    """What the Keras generator gives for the check's batch and for its first z alone, in its output range."""
    def raw(zs, ls):
        inputs = zs if ls is None else [zs, latent_space.labels_for(len(zs), generator.num_classes, ls)]
        return np.asarray(generator.model(inputs, training=False), np.float32)
    return [raw(z, labels), raw(z[:1], _first(labels))]


def _inputs(generator: Generator, signature) -> list[dict[str, Any]]:
    noise = "U[0, 1) noise" if generator.noise == "uniform" else "N(0, 1) noise"
    found = [{"name": "z", "dtype": "float32", "shape": [None, generator.noise_dim],
              "meaning": f"{noise}; seed s is gan_core.latent_space.z_from_seed(s, {generator.noise_dim}, "
                         f"'{generator.noise}')"}]
    if len(signature) > 1:
        names = generator.class_names or []
        named = f" ({', '.join(names[:3])}, ...)" if names and names[0] != "0" else ""
        found.append({"name": "label", "dtype": "int32", "shape": [None],
                      "meaning": f"class 0..{generator.num_classes - 1}{named}, one per z"})
    return found


def _output(generator: Generator) -> dict[str, Any]:
    low, high = OUTPUT_RANGES.get(generator.pixel_range, (-1.0, 1.0))
    to_pixel = "round((x + 1) / 2 * 255)" if low < 0 else "round(x * 255)"
    return {"name": "images", "dtype": "float32", "shape": [None, *generator.image_shape], "range": [low, high],
            "meaning": f"images in [{low:g}, {high:g}] ({generator.pixel_range}), NHWC; uint8 pixel = {to_pixel}, "
                       "clipped to 0..255"}


def _check_text(generator: Generator, n: int, seed: int) -> str:
    classes = "; classes 0, 1, ... in turn" if generator.conditional else ""
    return (f"z of seeds {seed}..{seed + n - 1} (gan_core.latent_space.z_from_seeds){classes}, as a batch of {n} and "
            "as a batch of 1, against the Keras generator")


def _versions(formats: Sequence[str]) -> dict[str, str]:
    import keras
    import tensorflow as tf

    versions = {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__}
    if "onnx" in formats:
        tf2onnx, onnx, ort = onnx_modules()
        versions.update(tf2onnx=tf2onnx.__version__, onnx=onnx.__version__, onnxruntime=ort.__version__)
    return versions


def _compare(name, path: Path, got: list[np.ndarray], reference: list[np.ndarray], generator: Generator,
             z: np.ndarray, labels, batch: int | None, runtime: str, seconds: float) -> FormatResult:
    same = all(g.shape == r.shape and np.isfinite(g).all() for g, r in zip(got, reference))
    diff = max(float(np.max(np.abs(g - r))) for g, r in zip(got, reference)) if same else float("inf")
    pixels = 255
    if same:
        keras_pixels = generator.images_uint8(z, labels).astype(np.int16)
        pixels = int(np.max(np.abs(pictures.to_uint8(got[0], generator.pixel_range).astype(np.int16) - keras_pixels)))
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    return FormatResult(format=name, file=FILES[name] + ("/" if path.is_dir() else ""), size_bytes=int(size),
                        batch=batch, max_abs_diff=diff, max_abs_diff_uint8=pixels, tolerance=TOLERANCE[name],
                        ok=diff <= TOLERANCE[name] and pixels <= TOLERANCE_UINT8, runtime=runtime,
                        seconds=round(seconds, 2))


# --- staging: the export folder appears whole, or not at all ------------------------------------------------------

@contextlib.contextmanager
def _staging(out_dir: Path):
    """A temporary folder beside `out_dir` (named as the storage cleaner knows a killed writer's leftovers), renamed
    to `out_dir` when the body succeeds and removed when it fails. Never touches anything else."""
    parent = out_dir.absolute().parent
    with resource_errors(f"creating the export folder {out_dir}", "pick a folder you can write, on a disk with room"):
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-{out_dir.name}-", dir=parent))
        stage.chmod(0o777 & ~_umask())
    try:
        with resource_errors(f"writing the export into {out_dir}", "free some disk space or pick another folder"):
            yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    try:
        os.rename(stage, out_dir)  # onto an absent or an empty folder only: never over someone's files
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        if out_dir.exists():
            raise ConfigError(f"{out_dir} was filled by someone else while exporting; the export was not kept, "
                              "and nothing in that folder was changed") from exc
        raise ResourceError(f"could not move the export into {out_dir}: {exc.strerror or exc}") from exc


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --- the formats: each writes its file and returns (run it back, batch size, what runs it) --------------------------

_EXPORTERS = {"savedmodel": export_savedmodel, "tflite": export_tflite, "onnx": export_onnx}
