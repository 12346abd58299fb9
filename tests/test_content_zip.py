"""Content photos uploaded as a zip: unpacked flat inside the chosen folder, within limits, or refused."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import synthetic_photo
from PIL import Image

from studio import StudioError, TrainConfig, Trainer
from studio.train.content import resolve_content, unpack_zip


def _png(seed: int, size: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(synthetic_photo(size, size, seed)).save(buf, format="PNG")
    return buf.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_images_are_unpacked_flat_and_paths_cannot_escape(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "photos.zip",
        {
            "holiday/a.jpg": _png(0),  # a PNG named .jpg still decodes (Pillow reads the content)
            "../../escape.png": _png(1),
            "/abs/root.png": _png(2),
            "__MACOSX/holiday/._a.jpg": b"resource fork",
            ".hidden.png": _png(3),
            "notes.txt": b"not an image",
        },
    )
    out = tmp_path / "sandbox" / "content"
    paths = unpack_zip(archive, out)
    assert [p.name for p in paths] == ["0000-a.jpg", "0001-escape.png", "0002-root.png"]
    assert all(p.parent == out for p in paths)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        ["photos.zip", "0000-a.jpg", "0001-escape.png", "0002-root.png"]
    )  # nothing written anywhere else
    assert Image.open(paths[1]).size == (48, 48)


def test_limits_and_broken_zips_leave_nothing_behind(tmp_path: Path) -> None:
    many = _zip(tmp_path / "many.zip", {f"{i}.png": _png(i, 16) for i in range(4)})
    with pytest.raises(StudioError, match="holds 4 images; the limit is 3"):
        unpack_zip(many, tmp_path / "a", max_files=3)
    with pytest.raises(StudioError, match="unpacks to .* MB of images; the limit is"):
        unpack_zip(many, tmp_path / "b", max_bytes=1000)
    with pytest.raises(StudioError, match="no images in empty.zip"):
        unpack_zip(_zip(tmp_path / "empty.zip", {"readme.md": b"hi"}), tmp_path / "c")
    (tmp_path / "fake.zip").write_bytes(b"this is not a zip at all")
    with pytest.raises(StudioError, match="fake.zip is not a readable zip file"):
        unpack_zip(tmp_path / "fake.zip", tmp_path / "d")

    # A member that declares 100 bytes but inflates to far more (a zip bomb's trick): reading stops at the
    # declared size and the CRC check fails; the files written before it are removed.
    big = _zip(tmp_path / "liar.zip", {"ok.png": _png(5), "bomb.png": bytes(200_000)})
    data = bytearray(big.read_bytes())
    central = data.rfind(b"PK\x01\x02")  # the last central-directory entry: bomb.png
    data[central + 24 : central + 28] = struct.pack("<I", 100)  # its uncompressed size
    big.write_bytes(bytes(data))
    with pytest.raises(StudioError, match="could not unpack liar.zip"):
        unpack_zip(big, tmp_path / "e")
    assert not any((tmp_path / "e").iterdir())


def test_resolve_content_needs_a_folder_for_zips(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "p.zip", {"a.png": _png(0)})
    with pytest.raises(StudioError, match="is a zip file; unpack it first"):
        resolve_content([archive])
    (tmp_path / "loose.png").write_bytes(_png(1))
    paths = resolve_content([archive, tmp_path / "loose.png"], unzip_to=tmp_path / "x")
    assert [p.name for p in paths] == ["0000-a.png", "loose.png"]


def test_trainer_unpacks_zipped_content_into_its_session(tmp_path: Path, style_path: Path) -> None:
    archive = _zip(tmp_path / "p.zip", {f"d/{i}.png": _png(i, 64) for i in range(3)})
    session = tmp_path / "session"
    trainer = Trainer(style_path, [archive], TrainConfig(iterations=5), session_dir=session, device="cpu")
    assert len(trainer.content_paths) == 3
    assert all(session in p.parents for p in trainer.content_paths)  # resuming finds them there
    assert trainer.validation_image.size == (64, 64)  # the first content photo, when none is given
    loose = Trainer(style_path, archive, TrainConfig(iterations=5), device="cpu")
    folder = loose.content_paths[0].parent
    assert folder.is_dir() and len(list(folder.iterdir())) == 3
    del loose
    import gc

    gc.collect()
    assert not folder.exists()  # the temporary folder goes with the trainer
