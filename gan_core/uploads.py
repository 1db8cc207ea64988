"""Files users hand to the app: a zip of training images and `.keras` generators, stored under the runs folder.

An uploaded zip is untrusted: member names may try to escape the destination (zip-slip), be absolute or be
symlinks, and sizes may be forged (zip bombs). Extraction rejects the first three outright and counts the bytes
it actually writes, so a lying header cannot get past the limits. Uploads are stored by content hash, so the
same file uploaded twice is extracted (and later decoded and cached by the data loader) once.
"""
from __future__ import annotations

import errno
import hashlib
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath

from .data import IMAGE_EXTENSIONS
from .errors import DataError, ModelError
from .files.disk import atomic_write_bytes
from .runs import sanitize_name

UPLOADS_DIRNAME = "_uploads"  # not a run: list_runs only picks NNNNN-name folders
MAX_FILES = 100_000
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_NAME_BYTES, MAX_PATH_BYTES = 255, 1024  # a file name's limit on Linux and macOS; a path well under PATH_MAX
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ExtractedImages:
    folder: Path
    n_images: int
    n_ignored: int  # members that are not image files (or are OS metadata such as __MACOSX/)
    created: bool = True  # False: an earlier identical upload's folder, reused


def uploads_dir(runs_dir: str | Path) -> Path:
    return Path(runs_dir) / UPLOADS_DIRNAME


def content_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def extract_images_zip(data: bytes, dest: str | Path, *, max_files: int = MAX_FILES,
                       max_total_bytes: int = MAX_TOTAL_BYTES) -> ExtractedImages:
    """Extract the image files of a zip into `dest` (which must not exist yet); everything else is skipped.

    Raises DataError, leaving nothing at `dest`, for an unreadable or encrypted zip, a member path that is
    absolute or leaves `dest`, a symlink, more than `max_files` images, more than `max_total_bytes` of image
    data once decompressed, or no images at all.
    """
    dest = Path(dest)
    if dest.exists():
        raise DataError(f"cannot extract into {dest}: it already exists")
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise DataError(f"the upload is not a readable zip file ({exc}); zip a folder of images and upload that"
                        ) from None
    with archive:
        members, n_ignored = _image_members(archive, max_files, max_total_bytes)
        if not members:
            raise DataError("the zip holds no image files "
                            f"({', '.join(sorted(IMAGE_EXTENSIONS))}); zip a folder of images and upload that")
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
        try:
            budget = max_total_bytes
            for info, relative in members:
                budget = _extract_member(archive, info, staging / relative, budget, max_total_bytes)
            staging.rename(dest)  # all or nothing: a half-extracted folder never appears at dest
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if dest.is_dir() and exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                # the same upload, extracted at the same time by another tab: keep theirs
                return ExtractedImages(dest, len(members), n_ignored, created=False)
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return ExtractedImages(dest, len(members), n_ignored)


def store_images_zip(data: bytes, runs_dir: str | Path, **limits: int) -> ExtractedImages:
    """Extract an uploaded zip to `<runs_dir>/_uploads/<content id>/`, reusing an earlier identical upload."""
    dest = uploads_dir(runs_dir) / content_id(data)
    if dest.is_dir():
        files = [p for p in dest.rglob("*") if p.is_file()]
        return ExtractedImages(dest, len(files), 0, created=False)
    return extract_images_zip(data, dest, **limits)


def store_generator_file(data: bytes, filename: str, runs_dir: str | Path) -> Path:
    """Save an uploaded `.keras` generator as `<runs_dir>/_uploads/models/<content id>-<name>.keras`."""
    stem = PurePosixPath(filename.replace("\\", "/")).name
    if not stem.lower().endswith(".keras"):
        raise ModelError(f"{stem!r} is not a .keras file; save a generator with model.save('generator.keras')")
    path = uploads_dir(runs_dir) / "models" / f"{content_id(data)}-{sanitize_name(stem[:-6])}.keras"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    return path


def _image_members(archive: zipfile.ZipFile, max_files: int,
                   max_total_bytes: int) -> tuple[list[tuple[zipfile.ZipInfo, PurePosixPath]], int]:
    """The members to extract, checked by name and declared size before a single byte is written."""
    members, n_ignored, declared = [], 0, 0
    for info in archive.infolist():
        relative = _safe_relative_path(info)
        if info.is_dir():
            continue
        if _is_metadata(relative) or relative.suffix.lower() not in IMAGE_EXTENSIONS:
            n_ignored += 1
            continue
        if info.flag_bits & 0x1:
            raise DataError(f"zip member {info.filename!r} is encrypted; upload an unencrypted zip")
        members.append((info, relative))
        declared += info.file_size
        if len(members) > max_files:
            raise DataError(f"the zip holds more than {max_files:,} images; upload fewer, or use an image folder "
                            "path on the server instead")
        if declared > max_total_bytes:
            raise DataError(_too_big(max_total_bytes))
    return members, n_ignored


def _safe_relative_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path inside the destination; DataError for absolute paths, '..' and symlinks."""
    name = info.filename.replace("\\", "/")  # Windows zips may use backslashes
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise DataError(f"zip member {info.filename!r} has an absolute path; refusing to extract this zip")
    if ".." in path.parts:
        raise DataError(f"zip member {info.filename!r} points outside the folder ('..'); refusing to extract this zip")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DataError(f"zip member {info.filename!r} is a symbolic link; refusing to extract this zip")
    if len(name.encode()) > MAX_PATH_BYTES or any(len(part.encode()) > MAX_NAME_BYTES for part in path.parts):
        raise DataError(f"zip member {name[:60] + '…'!r} has a name too long for a file "
                        f"(at most {MAX_NAME_BYTES} bytes a part and {MAX_PATH_BYTES} in all); rename it and zip again")
    return PurePosixPath(*[p for p in path.parts if p != "."])


def _is_metadata(path: PurePosixPath) -> bool:
    # macOS adds __MACOSX/ and '._name.jpg' resource forks that carry an image extension but are not images
    return any(part == "__MACOSX" or part.startswith(".") for part in path.parts)


def _extract_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int, limit: int) -> int:
    """Copy one member, counting real decompressed bytes against `budget` (headers can lie); returns what is left."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, open(target, "xb") as out:
            while chunk := source.read(_CHUNK):
                budget -= len(chunk)
                if budget < 0:
                    raise DataError(_too_big(limit))
                out.write(chunk)
    except (FileExistsError, NotADirectoryError):
        raise DataError(f"zip member {info.filename!r} clashes with another member of the same name; "
                        "refusing to extract this zip") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise DataError(f"zip member {info.filename!r} is corrupt ({exc}); re-create the zip") from None
    return budget


def _too_big(limit: int) -> str:
    size = f"{limit / 1024**3:.1f} GiB" if limit >= 1024**3 else f"{limit / 1024**2:.1f} MiB"
    return f"the zip's images decompress to more than {size}; upload a smaller zip"
