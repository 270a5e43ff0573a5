"""`liveseg segment` on the inputs of issue 12: outputs over inputs, decompression bombs, high-bit-depth and
unusual Pillow modes, and file names that look like Rich markup."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import LIVESEG


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_bomb(path: Path, side: int) -> Path:
    """A valid 1-bit grayscale PNG of side x side black pixels: a few kB that decode to side² pixels."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def _gray(street: Path) -> np.ndarray:
    return np.asarray(Image.open(street).convert("L"))


# Each case: a file in some Pillow mode, and the 8-bit RGB image liveseg must read it as.
def _i16(gray: np.ndarray, path: Path) -> np.ndarray:
    Image.fromarray(gray.astype(np.uint16) * 257).save(path.with_suffix(".png"))  # 16-bit PNG: mode I;16
    return np.stack([gray] * 3, axis=2)


def _i32(gray: np.ndarray, path: Path) -> np.ndarray:
    Image.fromarray(gray.astype(np.int32) * 257).save(path.with_suffix(".tif"))  # 32-bit integer TIFF: mode I
    return np.stack([gray] * 3, axis=2)


def _float(gray: np.ndarray, path: Path) -> np.ndarray:
    Image.fromarray(gray.astype(np.float32) / 255).save(path.with_suffix(".tif"))  # float TIFF 0..1: mode F
    return np.stack([gray] * 3, axis=2)


def _la(gray: np.ndarray, path: Path) -> np.ndarray:
    alpha = np.tile(np.linspace(0, 255, gray.shape[1]).astype(np.uint8), (gray.shape[0], 1))
    Image.fromarray(np.stack([gray, alpha], axis=2), mode="LA").save(path.with_suffix(".png"))
    return np.stack([gray] * 3, axis=2)  # alpha is not part of the picture the network sees


def _palette(gray: np.ndarray, path: Path) -> np.ndarray:
    im = Image.fromarray(np.stack([gray] * 3, axis=2)).quantize(64)
    im.save(path.with_suffix(".png"), transparency=0)
    return np.asarray(im.convert("RGB"))


def _bilevel(gray: np.ndarray, path: Path) -> np.ndarray:
    Image.fromarray(gray > 100).save(path.with_suffix(".png"))  # mode 1
    return np.stack([np.where(gray > 100, 255, 0).astype(np.uint8)] * 3, axis=2)


MODES = {"I;16": _i16, "I": _i32, "F": _float, "LA": _la, "P+transparency": _palette, "1": _bilevel}


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_is_segmented_as_its_8_bit_picture(
    cli, bundle_dir: Path, street: Path, tmp_path: Path, mode: str
) -> None:
    """16-bit, float and bilevel files used to be clipped or misread; each must give the labels of the 8-bit
    RGB picture it holds."""
    gray = _gray(street)
    (tmp_path / "in").mkdir()
    expected = MODES[mode](gray, tmp_path / "in" / "image")
    (source,) = (tmp_path / "in").glob("image.*")
    assert Image.open(source).mode == mode.split("+")[0]
    Image.fromarray(expected).save(tmp_path / "in" / "reference.png")
    proc = cli("segment", tmp_path / "in", "--model", bundle_dir, "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    labels = np.asarray(Image.open(tmp_path / "out" / "image.png"))
    assert np.array_equal(labels, np.asarray(Image.open(tmp_path / "out" / "reference.png")))


def test_values_outside_the_range_of_a_mode_are_refused_not_clipped(
    cli, bundle_dir: Path, street: Path, tmp_path: Path
) -> None:
    Image.fromarray(_gray(street).astype(np.float32)).save(tmp_path / "depth.tif")  # float, but 0..255
    shutil.copy(street, tmp_path / "street.png")
    inputs = (tmp_path / "depth.tif", tmp_path / "street.png")
    proc = cli("segment", *inputs, "--model", bundle_dir, "--out", tmp_path / "o")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "depth.tif holds values from 0 to 255, but liveseg reads F images as 0..1" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["street.png"]


def _peak_rss_mb(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run and measure the peak resident memory of that one child (wait4 reports its own rusage)."""
    env = {**os.environ, "COLUMNS": "400"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close(), proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return subprocess.CompletedProcess(args, proc.returncode, out, err), usage.ru_maxrss / 1024


def test_bombs_are_reported_and_skipped_without_decoding(bundle_dir: Path, street: Path, tmp_path: Path) -> None:
    """A 20000x20000 PNG above Pillow's error limit used to abort the run with a traceback, and a 12000x12000
    one between its warning and its error was decoded at 2.6 GB; both are refused from their headers now,
    and the good file in the same run is segmented."""
    photos = tmp_path / "photos"
    photos.mkdir()
    write_bomb(photos / "bomb.png", 20000)
    write_bomb(photos / "big.png", 12000)
    shutil.copy(street, photos / "street.png")
    args = [LIVESEG, "segment", str(photos), "--model", str(bundle_dir), "--out", str(tmp_path / "o")]
    proc, peak_mb = _peak_rss_mb(args)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "2 input(s) failed" in proc.stderr
    limit = "is above the limit of 64 megapixels"
    assert f"Image {photos / 'big.png'} (12000x12000, 144 megapixels) {limit}" in proc.stderr
    assert f"Image {photos / 'bomb.png'} (400 megapixels) {limit}" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["street.png"]
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"


def test_the_pixel_limit_is_settable(cli, bundle_dir: Path, street: Path, tmp_path: Path) -> None:
    shutil.copy(street, tmp_path / "street.png")  # 480x360 = 172800 pixels
    args = ("segment", tmp_path / "street.png", "--model", bundle_dir)
    small = cli(*args, "--out", tmp_path / "a", "--max-pixels", "100000")
    assert small.returncode == 1 and "above the limit of 0.1 megapixels" in small.stderr
    assert cli(*args, "--out", tmp_path / "b", env={"LIVESEG_MAX_PIXELS": "100000"}).returncode == 1
    assert cli(*args, "--out", tmp_path / "c", "--max-pixels", "172800").returncode == 0
    assert (tmp_path / "c" / "street.png").is_file()


def test_an_output_folder_equal_to_the_input_folder_is_refused(
    cli, one_error, bundle_dir: Path, street: Path, tmp_path: Path
) -> None:
    """`segment DIR --out DIR` used to replace photo.png with its label map; nothing may be written over an input."""
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(street, photos / "photo.png")
    shutil.copy(street, photos / "other.png")
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    text = one_error(cli("segment", photos, "--model", bundle_dir, "--out", photos))
    assert f"Writing {photos / 'other.png'} would overwrite the input {photos / 'other.png'}" in text
    # The same folder reached through a symlink, and a render that lands on an input (x.color.png).
    os.symlink(photos, tmp_path / "link")
    one_error(cli("segment", photos / "photo.png", "--model", bundle_dir, "--out", tmp_path / "link"))
    shutil.copy(street, photos / "x.color.png")
    shutil.copy(street, photos / "x.png")
    one_error(cli("segment", photos / "x.png", photos / "x.color.png", "--model", bundle_dir, "--out", photos,
                  "--save", "labels,color"))  # fmt: skip
    assert {p.name: p.read_bytes() for p in photos.iterdir() if p.name in before} == before
    assert sorted(p.name for p in photos.iterdir()) == ["other.png", "photo.png", "x.color.png", "x.png"]


def test_markup_in_names_and_messages_prints_as_written(
    cli, one_error, bundle_dir: Path, street: Path, tmp_path: Path
) -> None:
    """Rich used to parse file-derived text: `bad[/x].jpg` crashed the summary, `[blink]` vanished from a path
    and a malformed manifest lost its `[r, g, b]`."""
    (tmp_path / "bad[").mkdir()
    broken = tmp_path / "bad[" / "x].jpg"
    broken.write_bytes(b"\xff\xd8\xff not a jpeg")
    shutil.copy(street, tmp_path / "ok[b].png")
    proc = cli("segment", broken, tmp_path / "ok[b].png", "--model", bundle_dir, "--out", tmp_path / "out[i]")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"Cannot read image {broken}" in proc.stderr and f"into {tmp_path / 'out[i]'}." in proc.stderr
    assert (tmp_path / "out[i]" / "ok[b].png").is_file()

    text = one_error(cli("segment", street, "--model", "no[blink]thing", "--out", tmp_path / "o"))
    assert "no[blink]thing" in text

    bundle = Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))
    manifest = (bundle / "manifest.json").read_text()
    (bundle / "manifest.json").write_text(manifest.replace('"color"', '"colour"', 1))
    text = one_error(cli("segment", street, "--model", bundle, "--out", tmp_path / "o"))
    assert "'color': [r, g, b]}" in text
