"""Segmentation on a local Ray of two CPUs: `liveseg segment --engine ray` writes what a single process writes and
reports the same failures, `segment_dataset` gives what `Segmenter` gives, and without Ray one sentence says what to
install. Tests that need Ray are skipped when the liveseg[ray] extra is not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.runtime import load
from liveseg.runtime.io import write_videos
from tests.helpers import LIVESEG


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Ray for this module, started as `liveseg segment --engine ray` starts one; the command joins it at its
    address instead of starting its own."""
    ray = pytest.importorskip("ray", reason="the liveseg[ray] extra is not installed")
    from liveseg.runtime.ray import start

    start(cpus=2)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def inputs(photo_tree, val_pairs) -> Path:
    """Three CamVid val images (one resized, two in a sub-folder), a truncated one and a four-frame video."""
    root = photo_tree("inputs")
    frames = [np.asarray(Image.open(image).convert("RGB").resize((96, 72))) for image, _ in val_pairs]
    write_videos([root / "clip.mp4"], ([frame] for frame in frames), Fraction(4))
    return root


def _segment(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400"}  # no wrapping, so a message is one line
    return subprocess.run([LIVESEG, "segment", *map(str, args)], capture_output=True, text=True, timeout=600, env=env)


def _summary(stderr: str, out: Path) -> list[str]:
    """The summary lines (after the progress bars), the output folder written as OUT."""
    lines = stderr.replace(str(out), "OUT").splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("Segmented")) :]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_cli_writes_what_one_process_writes(cluster: str, bundle_dir: Path, inputs: Path, tmp_path: Path) -> None:
    common = (inputs, "--model", bundle_dir, "--save", "labels,json,overlay", "--batch", "2", "--frames")
    local = _segment(*common, "--out", tmp_path / "local")
    on_ray = _segment(*common, "--out", tmp_path / "ray", "--engine", "ray", "--ray-address", cluster, "--actors", "2")
    assert local.returncode == on_ray.returncode == 1, on_ray.stderr
    summary = _summary(on_ray.stderr, tmp_path / "ray")
    assert summary == _summary(local.stderr, tmp_path / "local")
    assert summary[0].startswith("Segmented 3 image(s) and 1 video(s)") and "cut.jpg" in summary[-1]
    written, expected = _files(tmp_path / "ray"), _files(tmp_path / "local")
    assert "clip/000003.png" in written and "street/c.json" in written and not any("cut" in name for name in written)
    assert written == expected  # label PNGs, JSON, overlays, every frame's outputs and the encoded video


def test_segment_dataset_equals_segmenter(cluster: str, bundle_dir: Path, inputs: Path) -> None:
    import ray.data

    from liveseg.runtime.ray import segment_dataset

    paths = sorted(str(p) for p in inputs.rglob("*") if p.suffix in (".jpg", ".png"))
    # One image per onnxruntime call, as `segment` makes it: batches of other sizes differ by rounding in confidence.
    rows = segment_dataset(ray.data.from_items([{"path": p} for p in paths]), bundle_dir, batch=1, actors=2)
    by_path = {row["path"]: row for row in rows.take_all()}
    segmenter = load(bundle_dir)
    for path in paths:
        row = by_path[path]
        if path.endswith("cut.jpg"):
            assert row["error"].startswith(f"Cannot read image {path}") and row["labels"].shape == (0, 0)
            continue
        expected = segmenter.segment(path)
        assert row["error"] == ""
        assert np.array_equal(row["labels"], expected.labels) and np.array_equal(row["confidence"], expected.confidence)

    # Decoded images, as ray.data.read_images gives them, are segmented as they are.
    image = np.asarray(Image.open(paths[0]).convert("RGB"))
    (row,) = segment_dataset(ray.data.from_items([{"image": image}]), bundle_dir, actors=1).take_all()
    assert "image" not in row and np.array_equal(row["labels"], segmenter.segment(image).labels)


def test_without_ray_one_sentence(bundle_dir: Path, inputs: Path, tmp_path: Path) -> None:
    # `import ray` fails in this process as it does where the extra is not installed.
    hide_ray = "import sys; sys.modules['ray'] = None; from liveseg.cli import main; main()"
    args = ["segment", str(inputs), "--model", str(bundle_dir), "--out", str(tmp_path / "out"), "--engine", "ray"]
    proc = subprocess.run([sys.executable, "-c", hide_ray, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert " ".join(proc.stderr.split()) == (
        "error: `liveseg segment --engine ray` needs the ray package, which this install lacks; run pip install "
        "'liveseg[ray]', then try again."
    )
