"""Torch-free inference on exported bundles: `liveseg.load(...)` → `Segmenter.segment(image)`."""

from liveseg.runtime.bundle import Bundle, Variant, open_bundle
from liveseg.runtime.result import SegmentationResult
from liveseg.runtime.segmenter import Segmenter, load

__all__ = ["Bundle", "SegmentationResult", "Segmenter", "Variant", "load", "open_bundle"]
