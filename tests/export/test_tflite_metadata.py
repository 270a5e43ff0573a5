"""TFLite metadata: a metadata flatbuffer written here field by field (`tflite_models.metadata_buffer`) into a tiny
model is read back, and its normalisation becomes the default of `load_tflite` and `liveseg import`."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveseg.errors import LivesegError
from liveseg.export.imported import load_tflite
from liveseg.export.tflite import convert

from .tflite_models import metadata_buffer, segmenter, serialize


def _model(path: Path, metadata: bytes | None, classes: int = 1) -> Path:
    path.write_bytes(serialize(segmenter((8, 8), classes, metadata=metadata)[0]))
    return path


def test_normalisation_and_names_are_read_back(tmp_path: Path) -> None:
    path = _model(tmp_path / "m.tflite", metadata_buffer([127.5], [127.5], name="DeepLab stand-in"))
    metadata = convert(path).metadata
    assert metadata is not None
    assert (metadata.name, metadata.license, metadata.mean, metadata.std) == (
        "DeepLab stand-in",
        "Apache-2.0",
        (127.5,),
        (127.5,),
    )
    assert metadata.normalization("m") == ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def test_per_channel_values_keep_rgb_and_drop_a_fourth_channel(tmp_path: Path) -> None:
    path = _model(tmp_path / "m.tflite", metadata_buffer([0.0, 51.0, 102.0, 0.0], [255.0, 255.0, 127.5, 1.0]))
    network, _ = load_tflite(path)
    assert network.mean == (0.0, 0.2, 0.4) and network.std == (1.0, 1.0, 0.5)


def test_given_values_win_and_no_metadata_means_rgb_on_0_to_1(tmp_path: Path) -> None:
    with_metadata = _model(tmp_path / "m.tflite", metadata_buffer([127.5], [127.5]))
    network, _ = load_tflite(with_metadata, mean=(0.1, 0.1, 0.1))
    assert network.mean == (0.1, 0.1, 0.1) and network.std == (0.5, 0.5, 0.5)
    plain = _model(tmp_path / "plain.tflite", None)
    assert convert(plain).metadata is None
    network, _ = load_tflite(plain)
    assert network.mean == (0.0, 0.0, 0.0) and network.std == (1.0, 1.0, 1.0)


def test_unusable_normalisation_is_one_sentence(tmp_path: Path) -> None:
    path = _model(tmp_path / "m.tflite", metadata_buffer([0.0, 0.0], [255.0]))
    with pytest.raises(LivesegError, match=r"metadata gives a normalisation liveseg cannot use.*pass --mean and --std"):
        load_tflite(path)
