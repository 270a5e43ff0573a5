"""Python inference on real CamVid images: any input form and size in, class maps of that size out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.errors import LivesegError
from liveseg.runtime import SegmentationResult, Segmenter, load
from liveseg.runtime.io import resize, resize_nearest
from liveseg.runtime.result import decode_map
from liveseg.runtime.stabilise import DEFAULT_STRENGTH, stabilise


@pytest.fixture(scope="module")
def segmenter(bundle_dir: Path) -> Segmenter:
    return load(bundle_dir, threads=1)


def test_path_pil_and_array_give_the_same_map(segmenter: Segmenter, val_pairs) -> None:
    path = val_pairs[0][0]
    by_path = segmenter.segment(path)
    pil = Image.open(path)
    assert np.array_equal(segmenter.segment(pil).labels, by_path.labels)
    rgb = np.asarray(pil.convert("RGB"))
    assert np.array_equal(segmenter.segment(rgb).labels, by_path.labels)
    rgba = np.concatenate([rgb, np.zeros((*rgb.shape[:2], 1), np.uint8)], axis=-1)  # fully transparent
    assert np.array_equal(segmenter.segment(rgba).labels, by_path.labels), "alpha is ignored"
    assert (by_path.height, by_path.width) == rgb.shape[:2]
    assert by_path.labels.dtype == np.uint8 and by_path.confidence.shape == by_path.labels.shape


def test_maps_are_at_the_input_size_and_mostly_right(segmenter: Segmenter, val_pairs) -> None:
    correct = total = 0
    for image_path, label_path in val_pairs:
        gt = np.asarray(Image.open(label_path))
        labels = segmenter.predict(image_path)
        assert labels.shape == gt.shape
        valid = gt != 11
        correct += int((labels[valid] == gt[valid]).sum())
        total += int(valid.sum())
    assert correct / total > 0.5, "a CamVid-trained bundle gets most pixels of CamVid val right"


def test_any_size_goes(segmenter: Segmenter, val_pairs) -> None:
    image = np.asarray(Image.open(val_pairs[1][0]).convert("RGB"))
    odd = np.ascontiguousarray(image[13:114, 7:84])  # 101x77, neither the variant's size nor its aspect
    assert segmenter.segment(odd).labels.shape == (101, 77)
    big = np.asarray(Image.fromarray(image).resize((1000, 750)))
    assert segmenter.segment(big).labels.shape == (750, 1000)


def test_batch_equals_one_by_one(segmenter: Segmenter, val_pairs) -> None:
    images = [np.asarray(Image.open(p).convert("RGB")) for p, _ in val_pairs[:3]]
    images[1] = np.ascontiguousarray(images[1][::2, ::2])  # a different size in the same batch
    batch = segmenter.segment_batch(images)
    for image, result in zip(images, batch, strict=True):
        assert np.array_equal(result.labels, segmenter.segment(image).labels)
    assert segmenter.segment_batch([]) == []


def test_result_views(segmenter: Segmenter, val_pairs) -> None:
    result = segmenter.segment(val_pairs[2][0])
    classes = segmenter.classes
    legend = result.legend
    assert sum(c["share"] for c in legend) == pytest.approx(1.0)
    assert [c["share"] for c in legend] == sorted((c["share"] for c in legend), reverse=True)
    assert {c["id"] for c in legend} == set(np.unique(result.labels).tolist())

    color = np.asarray(result.color())
    some = legend[0]["id"]
    assert (color[result.labels == some] == classes[some]["color"]).all()
    image = np.asarray(Image.open(val_pairs[2][0]).convert("RGB"))
    assert np.array_equal(np.asarray(result.overlay(alpha=0.0)), image)
    assert np.array_equal(np.asarray(result.overlay(alpha=1.0)), color)

    png = Image.open(io.BytesIO(result.to_png()))
    assert png.mode == "L" and np.array_equal(np.asarray(png), result.labels)

    d = result.to_dict()
    assert set(d) >= {"legend", "width", "height", "segmentationMap"}  # the tfjs-models/deeplab shape
    assert (d["width"], d["height"]) == (image.shape[1], image.shape[0])
    assert len(json.dumps(d)) < result.labels.size / 10, "the map is sent compressed, not as raw ids"
    assert d["legend"] == {c["name"]: c["color"] for c in legend}
    assert np.array_equal(decode_map(d), result.labels)


def test_threads_reach_onnxruntime(bundle_dir: Path, segmenter: Segmenter) -> None:
    assert segmenter.session.get_session_options().intra_op_num_threads == 1
    assert load(bundle_dir, threads=2).session.get_session_options().intra_op_num_threads == 2


def test_every_variant_runs_and_agrees_with_fp32(bundle_dir: Path, val_pairs) -> None:
    from liveseg.runtime import open_bundle

    bundle = open_bundle(bundle_dir)
    for v in bundle.variants:
        labels = load(bundle, precision=v.precision, size=v.size).predict(val_pairs[0][0])
        assert labels.shape == (360, 480) and labels.max() < len(bundle.classes)
        if v.precision != "fp32" and "fp32" in bundle.precisions:
            fp32 = load(bundle, precision="fp32", size=v.size).predict(val_pairs[0][0])
            assert np.mean(labels == fp32) > 0.95


def test_unreadable_image_is_one_sentence(segmenter: Segmenter, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(LivesegError, match=r"bad\.jpg is unreadable or corrupt"):
        segmenter.segment(bad)
    with pytest.raises(LivesegError, match="HxWx3 or HxWx4 uint8"):
        segmenter.segment(np.zeros((4, 4), np.float32))


def test_result_without_image_cannot_overlay() -> None:
    result = SegmentationResult(labels=np.zeros((2, 2), np.uint8), classes=[{"id": 0, "name": "a", "color": [1, 2, 3]}])
    assert np.asarray(result.color()).tolist() == [[[1, 2, 3]] * 2] * 2
    with pytest.raises(ValueError, match="needs the input image"):
        result.overlay()


def test_video_frames_are_stabilised_and_stills_are_not(bundle_dir: Path, val_pairs) -> None:
    frames = [np.asarray(Image.open(p).convert("RGB")) for p, _ in val_pairs[:2]] * 2
    seg = load(bundle_dir, stabilise=0.5)
    raw = seg.run(np.stack([resize(f, *seg.variant.size) for f in frames]))
    state = None
    for frame, result, lab, conf in zip(frames, seg.stream(frames, batch=3), *raw, strict=True):
        state = stabilise(lab, conf, state, 0.5)
        assert (result.labels == resize_nearest(state.labels, *frame.shape[:2])).all()
    assert (seg.segment(frames[1]).labels == seg.predict(frames[1])).all()  # a still: never stabilised
    seg.reset()
    assert (seg.segment_for_video(frames[1]).labels == seg.segment(frames[1]).labels).all()  # fresh: as it is
    off = load(bundle_dir, stabilise=False)
    assert off.stabilise == 0 and load(bundle_dir).stabilise == DEFAULT_STRENGTH
    assert all((r.labels == off.segment(f).labels).all() for f, r in zip(frames, off.stream(frames), strict=True))
