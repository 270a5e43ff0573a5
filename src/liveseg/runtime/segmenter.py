"""Python inference on a bundle with onnxruntime; the graph does its own pre- and post-processing."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from liveseg.errors import LivesegError
from liveseg.runtime.bundle import Bundle, Variant, open_bundle
from liveseg.runtime.io import ImageLike, read_image, resize, resize_nearest
from liveseg.runtime.result import SegmentationResult
from liveseg.runtime.session import create_session


class Segmenter:
    """One bundle variant in an onnxruntime session; images of any size go in, class maps of that size come out."""

    def __init__(self, bundle: Bundle, variant: Variant, threads: int | None = None) -> None:
        data = bundle.read(variant)  # verified and checked against the manifest; the session gets these bytes
        try:
            self.session = create_session(data, threads)
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise LivesegError(
                f"onnxruntime cannot load {variant.path} ({_first_line(exc)}); re-export the bundle."
            ) from None
        self.bundle = bundle
        self.variant = variant
        self.threads = threads
        outputs = bundle.manifest.outputs
        self._input = bundle.manifest.input["name"]
        self._outputs = [outputs["labels"]["name"], outputs["confidence"]["name"]]

    @property
    def classes(self) -> list[dict]:
        return self.bundle.classes

    def __repr__(self) -> str:
        v = self.variant
        return f"Segmenter({self.bundle.name!r}, {v.precision}, {v.height}x{v.width})"

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw graph call: NxHxWx(3|4) uint8 at the variant size → (labels, confidence), each NxHxW uint8."""
        try:
            labels, confidence = self.session.run(self._outputs, {self._input: np.ascontiguousarray(batch)})
        except Exception as exc:  # onnxruntime's own untyped errors: a graph the checks on opening did not foresee
            raise LivesegError(
                f"onnxruntime failed running {self.variant.path} ({_first_line(exc)}); re-export the bundle."
            ) from None
        return labels, confidence

    def predict(self, image: ImageLike) -> np.ndarray:
        """Just the class map at the image's size: the `predict(image) -> labels` that evaluation expects."""
        return self.segment(image).labels

    def segment(self, image: ImageLike) -> SegmentationResult:
        return self.segment_batch([image])[0]

    def segment_batch(self, images: Sequence[ImageLike]) -> list[SegmentationResult]:
        """Segment several images in one graph call (they may differ in size and channel count)."""
        arrays = [read_image(im) for im in images]
        if not arrays:
            return []
        h, w = self.variant.size
        # Alpha is dropped before resizing: Pillow resamples RGBA premultiplied, which would darken
        # transparent pixels, and the graph ignores alpha anyway.
        batch = np.stack([resize(np.ascontiguousarray(a[..., :3]), h, w) for a in arrays])
        labels, confidence = self.run(batch)
        return [
            SegmentationResult(
                labels=resize_nearest(lab, *a.shape[:2]),
                confidence=resize_nearest(conf, *a.shape[:2]),
                classes=self.classes,
                image=a,
            )
            for a, lab, conf in zip(arrays, labels, confidence, strict=True)
        ]


def load(
    bundle_or_name: str | os.PathLike | Bundle = "default",
    precision: str | None = None,
    size: tuple[int, int] | None = None,
    threads: int | None = None,
) -> Segmenter:
    """Open a bundle, pick the variant (`Bundle.variant`: None means the default's), check it (`Bundle.read`) and
    start an onnxruntime session on it."""
    bundle = bundle_or_name if isinstance(bundle_or_name, Bundle) else open_bundle(bundle_or_name)
    variant = bundle.variant(precision=precision, size=size)
    return Segmenter(bundle, variant, threads=threads)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
