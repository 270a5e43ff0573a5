"""What a segmentation returns: the class map plus ways to look at it and to send it elsewhere."""

from __future__ import annotations

import base64
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from liveseg.runtime.manifest import ClassInfo

# `to_dict()["segmentationMap"]` is this: the row-major HxW uint8 class ids, zlib-compressed (RFC 1950, what
# the browser's `DecompressionStream("deflate")` reads), then base64-encoded (RFC 4648). Class maps are large
# flat regions, so this is about 50x smaller than the raw ids and 1000x smaller than tfjs's RGBA array.
MAP_ENCODING = "zlib-base64-uint8-class-ids"


def foreground_alpha(labels: np.ndarray, confidence: np.ndarray | None, foreground_ids: Iterable[int]) -> np.ndarray:
    """Per pixel, 0..255: how much of it belongs to the classes `foreground_ids` (an effect's mask).

    The one rule, shared with the web app's `foregroundAlpha` (web/src/lib/alpha.ts; tests/vectors/alpha.json
    holds both to it): the confidence where the top class is in the foreground, 255 - confidence elsewhere.
    For a two-class model that is 255 x p(foreground), smooth across the boundary, so it can be upsampled
    bilinearly instead of the class map; without a confidence output it is 255 or 0.
    """
    flags = np.zeros(256, bool)
    ids = [i for i in foreground_ids if 0 <= i < 256]
    flags[ids] = True
    inside = flags[labels]
    if confidence is None:
        return np.where(inside, np.uint8(255), np.uint8(0))
    if confidence.shape != labels.shape:
        raise ValueError(f"confidence has shape {confidence.shape} for labels of shape {labels.shape}")
    return np.where(inside, confidence, 255 - confidence).astype(np.uint8)


@dataclass
class SegmentationResult:
    """Per-pixel classes of one image at the image's own resolution."""

    labels: np.ndarray  # HxW uint8 class ids
    classes: list[ClassInfo]  # the bundle's classes: {"id", "name", "color"}
    image: np.ndarray | None = field(default=None, repr=False)  # the input (HxWx3|4 uint8), for overlay()
    confidence: np.ndarray | None = field(default=None, repr=False)  # HxW uint8, 255 x top-class probability

    @property
    def height(self) -> int:
        return int(self.labels.shape[0])

    @property
    def width(self) -> int:
        return int(self.labels.shape[1])

    @property
    def legend(self) -> list[dict[str, Any]]:
        """Classes present, most frequent first: id, name, colour and share of pixels (0..1)."""
        counts = np.bincount(self.labels.ravel(), minlength=len(self.classes))
        total = self.labels.size
        order = np.argsort(-counts, kind="stable")
        return [
            {**self.classes[i], "share": float(counts[i] / total)} for i in order if counts[i] and i < len(self.classes)
        ]

    def alpha(self, foreground_ids: Iterable[int]) -> np.ndarray:
        """HxW uint8 mask of the classes `foreground_ids` for compositing, by `foreground_alpha`'s rule."""
        return foreground_alpha(self.labels, self.confidence, foreground_ids)

    def palette(self) -> np.ndarray:
        """256x3 uint8 lookup table: class id → colour (ids outside the classes are black)."""
        lut = np.zeros((256, 3), np.uint8)
        for c in self.classes:
            lut[c["id"]] = c["color"]
        return lut

    def color(self) -> Image.Image:
        return Image.fromarray(self.palette()[self.labels])

    def overlay(self, alpha: float = 0.5) -> Image.Image:
        """The class colours blended over the input image (`alpha` is the colours' weight)."""
        if self.image is None:
            raise ValueError("overlay() needs the input image; this result was built without one")
        base = self.image[..., :3].astype(np.float32)
        colors = self.palette()[self.labels].astype(np.float32)
        return Image.fromarray(np.rint(base * (1 - alpha) + colors * alpha).astype(np.uint8))

    def to_png(self) -> bytes:
        """The class ids as an 8-bit single-channel PNG, the format `liveseg segment --save labels` writes."""
        buf = io.BytesIO()
        Image.fromarray(self.labels).save(buf, format="PNG", optimize=True)
        return buf.getvalue()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, shaped like tfjs-models/deeplab's `segment()` output, with a compact class map.

        `segmentationMap` holds class ids (not RGBA colours as in tfjs), encoded as `encoding` names; `classes`
        lists the classes present with the id each has in that map (`legend` and `shares` are keyed by name).
        """
        packed = zlib.compress(np.ascontiguousarray(self.labels).tobytes())
        return {
            "legend": {c["name"]: list(c["color"]) for c in self.legend},
            "width": self.width,
            "height": self.height,
            "segmentationMap": base64.b64encode(packed).decode("ascii"),
            "encoding": MAP_ENCODING,
            "shares": {c["name"]: round(c["share"], 6) for c in self.legend},
            "classes": [
                {"id": c["id"], "name": c["name"], "color": list(c["color"]), "share": round(c["share"], 6)}
                for c in self.legend
            ],
        }


def decode_map(d: dict[str, Any]) -> np.ndarray:
    """Inverse of `to_dict()`'s map encoding: the HxW uint8 class ids."""
    if d.get("encoding") != MAP_ENCODING:
        raise ValueError(f"unknown segmentationMap encoding {d.get('encoding')!r}")
    raw = zlib.decompress(base64.b64decode(d["segmentationMap"]))
    return np.frombuffer(raw, np.uint8).reshape(d["height"], d["width"])
