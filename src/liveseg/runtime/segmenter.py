"""Python inference on a bundle with onnxruntime; the graph does its own pre- and post-processing."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from liveseg.errors import LivesegError
from liveseg.runtime.bundle import Bundle, Variant, open_bundle
from liveseg.runtime.io import ImageLike, read_image, resize, resize_nearest
from liveseg.runtime.manifest import ClassInfo
from liveseg.runtime.result import SegmentationResult
from liveseg.runtime.session import create_session
from liveseg.runtime.stabilise import DEFAULT_STRENGTH, State, check_strength, stabilise


class Segmenter:
    """One bundle variant in an onnxruntime session; images of any size go in, class maps of that size come out."""

    def __init__(
        self, bundle: Bundle, variant: Variant, threads: int | None = None, stabilise: float = DEFAULT_STRENGTH
    ) -> None:
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
        self.stabilise = check_strength(stabilise)  # for video frames only; 0: off
        self._state: State | None = None
        outputs = bundle.manifest.outputs
        self._input = bundle.manifest.input["name"]
        self._outputs = [outputs["labels"]["name"], outputs["confidence"]["name"]]

    @property
    def classes(self) -> list[ClassInfo]:
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
        """Segment one still image (never stabilised: `segment_for_video` is for the frames of a video).

        Args:
            image: a file path, a PIL image, or an HxWx3 (RGB) or HxWx4 (RGBA) uint8 array, of any size; a
                file's EXIF orientation is applied. The graph resizes it to the variant's size and the class map
                back to the image's.

        Returns:
            A `SegmentationResult` at the image's own size: `labels` (HxW uint8 class ids), `confidence` (HxW
            uint8, 255 × the top class's probability), the bundle's `classes`, and the image for `overlay()`.

        Raises:
            LivesegError: the image cannot be read, or onnxruntime fails on the graph.
        """
        return self.segment_batch([image])[0]

    def segment_batch(self, images: Sequence[ImageLike]) -> list[SegmentationResult]:
        """Segment several images in one graph call (they may differ in size and channel count)."""
        arrays = [read_image(im) for im in images]
        if not arrays:
            return []
        labels, confidence = self._run_images(arrays)
        return [self._result(a, lab, conf) for a, lab, conf in zip(arrays, labels, confidence, strict=True)]

    def segment_for_video(self, frame: ImageLike) -> SegmentationResult:
        """Segment the next frame of a video or camera: stabilised against the frames before it (`stabilise`
        strength; MediaPipe's `segmentForVideo`). Call `reset()` before the first frame of another video."""
        (a,) = arrays = [read_image(frame)]
        labels, confidence = self._run_images(arrays)
        self._state = stabilise(labels[0], confidence[0], self._state, self.stabilise)
        return self._result(a, self._state.labels, self._state.evidence)

    def stream(
        self, frames: Iterable[ImageLike], batch: int = 1, strength: float | None = None
    ) -> Iterator[SegmentationResult]:
        """The frames of one video, in order, stabilised as `segment_for_video` does (at `strength`, default the
        segmenter's), `batch` per graph call."""
        strength = self.stabilise if strength is None else check_strength(strength)
        self.reset()
        chunk: list[np.ndarray] = []
        for frame in frames:
            chunk.append(read_image(frame))
            if len(chunk) == batch:
                yield from self._stabilised(chunk, strength)
                chunk = []
        yield from self._stabilised(chunk, strength)

    def reset(self) -> None:
        """Forget earlier video frames: the next `segment_for_video` frame starts a new video."""
        self._state = None

    def _stabilised(self, arrays: list[np.ndarray], strength: float) -> Iterator[SegmentationResult]:
        if not arrays:
            return
        for a, lab, conf in zip(arrays, *self._run_images(arrays), strict=True):
            self._state = stabilise(lab, conf, self._state, strength)
            yield self._result(a, self._state.labels, self._state.evidence)

    def _run_images(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and confidences at the variant's size: where the stabiliser works."""
        h, w = self.variant.size
        # Alpha is dropped before resizing: Pillow resamples RGBA premultiplied, which would darken
        # transparent pixels, and the graph ignores alpha anyway.
        return self.run(np.stack([resize(np.ascontiguousarray(a[..., :3]), h, w) for a in arrays]))

    def _result(self, image: np.ndarray, labels: np.ndarray, confidence: np.ndarray) -> SegmentationResult:
        h, w = image.shape[:2]
        return SegmentationResult(
            labels=resize_nearest(labels, h, w),
            confidence=resize_nearest(confidence, h, w),
            classes=self.classes,
            image=image,
        )


def load(
    bundle_or_name: str | os.PathLike | Bundle = "default",
    precision: str | None = None,
    size: tuple[int, int] | None = None,
    threads: int | None = None,
    stabilise: bool | float = True,
) -> Segmenter:
    """Open a bundle, pick a variant, check it and start an onnxruntime session on it (`liveseg.load`).

    The file is verified against the manifest's sha256 and its graph against the manifest's inputs, outputs and
    classes before onnxruntime sees it (`Bundle.read`), so a damaged bundle fails here, not mid-stream.

    Args:
        bundle_or_name: `"default"` (the embedded street model), a bundle directory or its manifest.json, the
            name of a bundle `liveseg pull` or `liveseg import` made, or an open `Bundle`.
        precision: the variant's precision (`"fp32"`, `"fp16"`, `"int8"`); None: the default variant's.
        size: the variant's (height, width); None: the default variant's size, else the largest of `precision`.
            The web app picks with the same rules (`Bundle.variant`).
        threads: onnxruntime's intra-op threads; None: onnxruntime's choice.
        stabilise: for video frames only (`segment_for_video`, `stream`): True for the default strength, False or
            0 for none, or a strength up to 1; still images are never stabilised.

    Returns:
        A `Segmenter` on the chosen variant.

    Raises:
        LivesegError: no such bundle or variant, a file that fails its checks, or one onnxruntime cannot load.
    """
    bundle = bundle_or_name if isinstance(bundle_or_name, Bundle) else open_bundle(bundle_or_name)
    variant = bundle.variant(precision=precision, size=size)
    strength = DEFAULT_STRENGTH if stabilise is True else float(stabilise)
    return Segmenter(bundle, variant, threads=threads, stabilise=strength)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
