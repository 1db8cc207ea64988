"""Uploaded zips are untrusted: only image files come out, nothing lands outside the destination, sizes are capped."""
import io
import stat
import zipfile
from pathlib import Path

import pytest

from gan_core import uploads
from gan_core.errors import DataError, ModelError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the loader decodes later; extraction only looks at names and sizes


def make_zip(members: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, data)
    return buf.getvalue()


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_extracts_images_in_subfolders_and_ignores_everything_else(tmp_path):
    data = make_zip({"faces/a.png": PNG, "faces/deeper/b.JPG": PNG, "c.webp": PNG, "README.txt": b"hi",
                     "__MACOSX/faces/._a.png": b"resource fork", "faces/._b.png": b"resource fork",
                     "./d.png": PNG})
    result = uploads.extract_images_zip(data, tmp_path / "out")
    assert (result.n_images, result.n_ignored) == (4, 3)
    assert files_under(result.folder) == ["c.webp", "d.png", "faces/a.png", "faces/deeper/b.JPG"]
    assert (result.folder / "faces" / "a.png").read_bytes() == PNG


@pytest.mark.parametrize("name", ["../evil.png", "faces/../../evil.png", "/tmp/evil.png", "..\\evil.png",
                                  "C:/evil.png", "C:\\evil.png"])
def test_zip_slip_and_absolute_paths_are_refused(tmp_path, name):
    dest = tmp_path / "uploads" / "out"
    with pytest.raises(DataError, match="refusing to extract"):
        uploads.extract_images_zip(make_zip({"ok.png": PNG, name: PNG}), dest)
    assert not dest.exists()
    assert files_under(tmp_path) == []  # not even the harmless member, nothing outside dest
    assert not Path("/tmp/evil.png").exists()


def test_symlinks_are_refused(tmp_path):
    with pytest.raises(DataError, match="symbolic link"):
        uploads.extract_images_zip(make_zip({"link.png": b"/etc/passwd"}, symlinks=("link.png",)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_bomb_is_refused_before_anything_is_written(tmp_path):
    bomb = make_zip({"zeros.png": bytes(20 * 1024**2)})  # 20 MiB of zeros compress to about 20 KiB
    assert len(bomb) < 100 * 1024
    with pytest.raises(DataError, match="decompress to more than 1.0 MiB"):
        uploads.extract_images_zip(bomb, tmp_path / "out", max_total_bytes=1024**2)
    assert files_under(tmp_path) == []


def test_too_many_files_is_refused(tmp_path):
    many = make_zip({f"{i}.png": PNG for i in range(11)})
    with pytest.raises(DataError, match="more than 10 images"):
        uploads.extract_images_zip(many, tmp_path / "out", max_files=10)
    assert uploads.extract_images_zip(many, tmp_path / "out", max_files=11).n_images == 11


@pytest.mark.parametrize("data,message", [
    (b"not a zip at all", "not a readable zip"),
    (make_zip({"notes.txt": b"no pictures"}), "no image files"),
    (make_zip({"a.png": PNG, "A.png/b.png": PNG, "a.png/c.png": PNG}), "clashes"),
])
def test_unusable_zips_say_why(tmp_path, data, message):
    with pytest.raises(DataError, match=message):
        uploads.extract_images_zip(data, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_same_upload_is_stored_once(tmp_path):
    data = make_zip({"a.png": PNG})
    first = uploads.store_images_zip(data, tmp_path)
    second = uploads.store_images_zip(data, tmp_path)
    assert first.folder == second.folder == tmp_path / "_uploads" / uploads.content_id(data)
    assert second.n_images == 1


def test_generator_uploads_keep_a_safe_name(tmp_path):
    path = uploads.store_generator_file(b"bytes", "../../My Generator.keras", tmp_path)
    assert path.parent == tmp_path / "_uploads" / "models" and path.name.endswith("-My-Generator.keras")
    assert path.read_bytes() == b"bytes"
    with pytest.raises(ModelError, match="not a .keras file"):
        uploads.store_generator_file(b"bytes", "weights.h5", tmp_path)


@pytest.mark.parametrize("name", ["a" * 300 + ".png", "/".join(["b" * 200] * 30) + ".png", "é" * 200 + ".png"],
                         ids=["long-file-name", "deep-path", "long-in-utf8"])
def test_over_long_member_names_are_refused_by_name_before_anything_is_written(tmp_path, name):
    # before: "[Errno 36] File name too long: '/…/.d.xyz.tmp/aaaa…'", a temporary path, after extracting began
    with pytest.raises(DataError, match=r"zip member '.{1,60}…' has a name too long for a file \(at most 255 bytes a "
                                        r"part and 1024 in all\); rename it and zip again") as caught:
        uploads.extract_images_zip(make_zip({"ok.png": PNG, name: PNG}), tmp_path / "d")
    assert ".tmp" not in str(caught.value) and "Errno" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []
