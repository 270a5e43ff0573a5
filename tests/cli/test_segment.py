"""`liveseg segment` as users run it: real images, folders, videos, broken inputs and broken bundles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from liveseg.runtime.io import probe_video, read_video, write_videos
from liveseg.runtime.result import decode_map


def _segment(cli: str, *args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "400"}  # no wrapping, so a message is one line
    return subprocess.run([cli, "segment", *map(str, args)], capture_output=True, text=True, timeout=180, env=env)


@pytest.fixture
def photos(photo_tree) -> Path:
    """photos/a.jpg, photos/street/b.jpg, photos/street/c.png (real CamVid val) + a zero-byte and a cut file."""
    root = photo_tree("photos")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.txt").write_text("not an image, not looked at")
    return root


def test_folder_with_broken_files(liveseg_cli: str, bundle_dir: Path, photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _segment(liveseg_cli, photos, "--model", bundle_dir, "--out", out, "--batch", "2")
    assert proc.returncode == 1, proc.stderr
    assert "Segmented 3 image(s)" in proc.stderr and "2 input(s) failed" in proc.stderr
    assert "empty.jpg" in proc.stderr and "cut.jpg" in proc.stderr and "Traceback" not in proc.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.png", "street/b.png", "street/c.png"]
    for src, dst in [("a.jpg", "a.png"), ("street/b.jpg", "street/b.png"), ("street/c.png", "street/c.png")]:
        labels = Image.open(out / dst)
        assert labels.mode == "L" and labels.size == Image.open(photos / src).size
        assert np.asarray(labels).max() < 11


def test_all_renders(liveseg_cli: str, bundle_dir: Path, val_pairs, tmp_path: Path) -> None:
    image = val_pairs[0][0]
    out = tmp_path / "out"
    save = "labels,color,overlay,json"
    proc = _segment(liveseg_cli, image, "--model", bundle_dir, "--out", out, "--save", save, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    stem = image.stem
    labels = np.asarray(Image.open(out / f"{stem}.png"))
    assert Image.open(out / f"{stem}.color.png").size == Image.open(out / f"{stem}.overlay.png").size == (480, 360)
    d = json.loads((out / f"{stem}.json").read_text())
    assert np.array_equal(decode_map(d), labels) and set(d["legend"]) <= {c for c in d["shares"]}
    ids = {c["id"]: c["name"] for c in d["classes"]}  # the ids of the map, each with its name and colour
    assert set(ids) == set(np.unique(labels).tolist()) and all(d["legend"][n] for n in ids.values())


def test_stem_collision_is_refused(liveseg_cli: str, bundle_dir: Path, val_pairs, tmp_path: Path) -> None:
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        shutil.copy(val_pairs[0][0], tmp_path / sub / "same.jpg")
    proc = _segment(
        liveseg_cli, tmp_path / "x/same.jpg", tmp_path / "y/same.jpg", "--model", bundle_dir, "--out", tmp_path / "o"
    )
    assert proc.returncode == 2 and "would both write" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_video(liveseg_cli: str, bundle_dir: Path, val_pairs, tmp_path: Path) -> None:
    frames = [np.asarray(Image.open(p).convert("RGB").resize((161, 121))) for p, _ in val_pairs] * 2  # odd sides
    clip = tmp_path / "clip.mp4"
    assert write_videos([clip], ([f] for f in frames), Fraction(12)) == 8
    out = tmp_path / "out"
    proc = _segment(
        liveseg_cli, clip, "--model", bundle_dir, "--out", out, "--save", "labels,color", "--frames", "--batch", "3"
    )
    assert proc.returncode == 0, proc.stderr
    info = probe_video(out / "clip.color.mp4")
    assert info.fps == 12 and sum(1 for _ in read_video(out / "clip.color.mp4")) == 8
    labels = sorted((out / "clip").glob("*[0-9].png"))
    assert [p.name for p in labels] == [f"{i:06d}.png" for i in range(8)]
    source = probe_video(clip)  # odd sides were padded to even ones when the clip was encoded
    assert Image.open(labels[0]).size == (source.width, source.height) == (162, 122)
    assert len(list((out / "clip").glob("*.color.png"))) == 8


def test_video_labels_are_one_png_per_frame(liveseg_cli: str, bundle_dir: Path, val_pairs, tmp_path: Path) -> None:
    frames = [np.asarray(Image.open(p).convert("RGB").resize((160, 120))) for p, _ in val_pairs[:2]] * 2
    clip = tmp_path / "clip.mp4"
    write_videos([clip], ([f] for f in frames), Fraction(10))
    maps = {}
    for flag in ("--stabilise", "--no-stabilise"):
        out = tmp_path / flag
        proc = _segment(liveseg_cli, clip, "--model", bundle_dir, "--out", out, flag, "--strength", "1")
        assert proc.returncode == 0, proc.stderr
        assert sorted(p.name for p in out.iterdir()) == ["clip"]  # labels only: no lossy render
        pngs = sorted((out / "clip").iterdir())
        assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(4)]
        maps[flag] = np.stack([np.asarray(Image.open(p)) for p in pngs])
    assert maps["--stabilise"].shape == (4, 120, 160) and (maps["--stabilise"] != maps["--no-stabilise"]).any()


def _write_webm(path: Path, frames: list[np.ndarray], fps: int) -> None:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))


def test_webm_video(liveseg_cli: str, bundle_dir: Path, val_pairs, tmp_path: Path) -> None:
    frames = [np.asarray(Image.open(p).convert("RGB").resize((160, 120))) for p, _ in val_pairs[:3]]
    clip = tmp_path / "street.webm"
    _write_webm(clip, frames, 5)
    out = tmp_path / "out"
    proc = _segment(liveseg_cli, clip, "--model", bundle_dir, "--out", out, "--save", "overlay")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["street.overlay.mp4"]
    info = probe_video(out / "street.overlay.mp4")
    assert (info.width, info.height, info.fps) == (160, 120, 5)
    assert sum(1 for _ in read_video(out / "street.overlay.mp4")) == 3


def test_corrupt_video_is_skipped(liveseg_cli: str, bundle_dir: Path, val_pairs, tmp_path: Path) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    proc = _segment(
        liveseg_cli, tmp_path / "broken.mp4", val_pairs[0][0], "--model", bundle_dir, "--out", tmp_path / "o"
    )
    assert proc.returncode == 1 and "broken.mp4" in proc.stderr
    assert (tmp_path / "o" / f"{val_pairs[0][0].stem}.png").is_file()
    assert not list((tmp_path / "o").glob("broken*"))


def _one_sentence_exit_2(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], proc.stderr


def test_bad_bundles_exit_2(liveseg_cli: str, bundle_copy: Path, val_pairs, tmp_path: Path) -> None:
    image = val_pairs[0][0]
    _one_sentence_exit_2(
        _segment(liveseg_cli, image, "--model", tmp_path / "nope", "--out", tmp_path / "o"), "No bundle at"
    )
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    variant = next(v for v in manifest["variants"] if v["precision"] == "fp32")
    with open(bundle_copy / variant["file"], "r+b") as f:
        f.seek(100)
        f.write(b"\x00" * 8)
    _one_sentence_exit_2(_segment(liveseg_cli, image, "--model", bundle_copy, "--out", tmp_path / "o"), "sha256")
    (bundle_copy / "manifest.json").write_text(json.dumps({**manifest, "variants": "all of them"}))
    _one_sentence_exit_2(_segment(liveseg_cli, image, "--model", bundle_copy, "--out", tmp_path / "o"), "malformed")
    _one_sentence_exit_2(_segment(liveseg_cli, image, "--save", "labels,bogus", "--out", tmp_path / "o"), "--save")
    assert not (tmp_path / "o").exists()


def test_a_bundle_that_does_not_fit_its_graph_exits_2(
    liveseg_cli: str, bundle_copy: Path, val_pairs, tmp_path: Path
) -> None:
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    (bundle_copy / "manifest.json").write_text(json.dumps({**manifest, "classes": manifest["classes"][:3]}))
    proc = _segment(liveseg_cli, val_pairs[0][0], "--model", bundle_copy, "--out", tmp_path / "o")
    _one_sentence_exit_2(proc, "it lists 3 classes but the graph writes class ids up to 10")
    (bundle_copy / "manifest.json").write_text(json.dumps({**manifest, "name": None}))
    proc = _segment(liveseg_cli, val_pairs[0][0], "--model", bundle_copy, "--out", tmp_path / "o")
    _one_sentence_exit_2(proc, "'name' must be a non-empty string")
    assert not (tmp_path / "o").exists()
