"""The PyTorch predictor behind `liveseg eval`: windows, scales and flips, on a real checkpoint and a CamVid image."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liveseg.data import get_dataset
from liveseg.evaluate.predictor import TorchPredictor, window_starts


def test_window_starts_cover_the_side_with_overlap() -> None:
    assert window_starts(90, 40) == [0, 26, 50]
    assert window_starts(360, 180) == [0, 120, 180]
    assert window_starts(100, 100) == window_starts(50, 100) == [0]


def test_multiscale_flip_and_window_predictor(checkpoint_path: Path, camvid_root: Path) -> None:
    image = get_dataset("camvid", "val", camvid_root)[0][0][:90, :120]
    plain = TorchPredictor.from_checkpoint(checkpoint_path, device="cpu")(image)
    assert plain.shape == (90, 120) and plain.dtype == np.uint8 and plain.max() < 11
    # Averaging the softmax of the same forward twice, or of one window covering the whole image, is the
    # single-scale answer, through the averaging and windowing paths.
    assert np.array_equal(
        TorchPredictor.from_checkpoint(checkpoint_path, device="cpu", scales=(1.0, 1.0))(image), plain
    )
    assert np.array_equal(TorchPredictor.from_checkpoint(checkpoint_path, device="cpu", window=(90, 200))(image), plain)
    tta = TorchPredictor.from_checkpoint(checkpoint_path, device="cpu", scales=(0.75, 1.0, 1.5), flip=True)(image)
    assert tta.shape == (90, 120) and (tta == plain).mean() > 0.5
    tiled = TorchPredictor.from_checkpoint(checkpoint_path, device="cpu", window=(64, 64))(image)
    assert tiled.shape == (90, 120) and tiled.max() < 11 and (tiled == plain).mean() > 0.5
