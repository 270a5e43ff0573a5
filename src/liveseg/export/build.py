"""Checkpoint → browser bundle: trace the network in PyTorch, wrap it, derive the variants, write the bundle.

The torch-free steps live beside this module: `variants` (fp16/int8 from the fp32 labels graph, each judged
against the framework it came from) and `writer` (the bundle folder and its manifest).

Each size also gets a "logits" variant for onnxruntime-web's WebGL backend (see `liveseg.export.webgl`).
It is optional: when it cannot be fitted to that backend or its decoded class maps disagree with the fp32
labels graph, it is left out with a warning and the export still succeeds, since the web app then runs the
bundle on its other backends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
import torch

from liveseg.export import parity
from liveseg.export.graph import NETWORK_OUTPUT, logits_size, trace_network
from liveseg.export.optimize import optimize
from liveseg.export.variants import (
    ExportResult,
    ExportSettings,
    Inputs,
    VariantResult,
    check_out,
    check_settings,
    derive_variants,
    load_inputs,
    logits_variant,
    progress_steps,
)
from liveseg.export.wrap import labels_graph
from liveseg.export.writer import BundleMeta, bundle_meta, checkpoint_meta, finish
from liveseg.models.layers import SegmentationModel
from liveseg.progress import Progress


def export_bundle(
    source: str | Path, out: str | Path, settings: ExportSettings, progress: Progress | None = None
) -> ExportResult:
    """Write the bundle of `source` to `out` (replacing an earlier bundle there, never anything else): a
    checkpoint file, or a bundle liveseg exported (its network recovered from the fp32 graph, exactly), so
    that a shipped bundle can be exported again at other sizes."""
    from liveseg.models import checkpoint as ckpt_io

    check_out(Path(out))
    check_settings(settings)
    if Path(source).is_file() or Path(source).suffix == ".pt":
        ckpt = ckpt_io.load(source)
        net, meta = ckpt_io.build_model(ckpt), checkpoint_meta(ckpt, settings.name)
    else:
        from liveseg.models.exported import network_from_bundle
        from liveseg.runtime.bundle import open_bundle

        net, meta = network_from_bundle(str(source)), bundle_meta(open_bundle(str(source)).manifest, settings.name)
    return export_network(net, meta, Path(out), settings, progress)


def export_network(
    net: SegmentationModel, meta: BundleMeta, out: Path, settings: ExportSettings, progress: Progress | None = None
) -> ExportResult:
    """Write the bundle of a liveseg network (trained here, or with weights converted from elsewhere)."""
    from liveseg import models

    check_out(out)
    check_settings(settings)
    net.eval()
    inputs = load_inputs(meta.dataset, settings, progress)
    steps = len(settings.sizes) * (3 + len(set(settings.precisions) | {"fp32"}) + settings.webgl)
    step, advance = progress_steps(progress, "export", steps)
    with tempfile.TemporaryDirectory(prefix="liveseg-export-") as tmp:
        results: list[VariantResult] = []
        for size in settings.sizes:
            results += _export_size(net, meta, size, settings, inputs, Path(tmp), step, advance)
        return finish(out, meta, settings, results, lambda size: models.complexity(net, size))


def _export_size(
    net: SegmentationModel,
    meta: BundleMeta,
    size: tuple[int, int],
    settings: ExportSettings,
    inputs: Inputs,
    work: Path,
    step: Callable[[str], None],
    advance: Callable[[], None],
) -> list[VariantResult]:
    h, w = size
    tag = f"{h}x{w}"
    mean, std = meta.normalization["mean"], meta.normalization["std"]
    step(f"{tag}: torch.onnx.export")
    traced, raw, fp32 = (work / f"{tag}-{stage}.onnx" for stage in ("network", "raw", "fp32"))
    trace_network(net, h, w, traced)
    network = onnx.load(str(traced))
    graph = labels_graph(network, NETWORK_OUTPUT, mean, std, size, logits_size(net, h, w), len(meta.classes))
    onnx.save(graph, str(raw))
    optimize(raw, fp32)
    advance()
    reference = _torch_reference(net, mean, std)
    derived = derive_variants(fp32, reference, size, settings, inputs, len(meta.classes), work, step, advance)
    results = derived.variants
    if settings.webgl:
        step(f"{tag}: WebGL logits graph and its parity")
        batch = parity.stack(inputs.parity, h, w)
        results.append(_logits_variant(net, mean, std, size, batch, derived.fp32_labels, inputs, work))
        advance()
    return results


def _torch_reference(
    net: SegmentationModel, mean: Sequence[float], std: Sequence[float]
) -> Callable[[np.ndarray], np.ndarray]:
    """Class maps of an N×H×W×3 uint8 batch from the network in PyTorch, normalised as training normalises
    and decoded by `parity.decode_logits`: the definition every exported labels graph is checked against."""
    m, s = (torch.tensor(v, dtype=torch.float32).view(1, 3, 1, 1) for v in (mean, std))

    def run(batch: np.ndarray) -> np.ndarray:
        x = (torch.from_numpy(batch[..., :3]).permute(0, 3, 1, 2).float() / 255.0 - m) / s
        with torch.no_grad():
            logits = net.logits_and_aux(x)[0].numpy()
        return parity.decode_logits(logits, *batch.shape[1:3])

    return lambda batch: parity.run_batched(run, batch)


def _logits_variant(
    net: SegmentationModel,
    mean: Sequence[float],
    std: Sequence[float],
    size: tuple[int, int],
    batch: np.ndarray,
    reference: np.ndarray,
    inputs: Inputs,
    work: Path,
) -> VariantResult:
    """The WebGL variant at `size` of a network traced at batch 1 (the backend wants every shape static)."""
    traced = work / f"{size[0]}x{size[1]}-logits-network.onnx"
    trace_network(net, *size, traced, batch=1)
    return logits_variant(onnx.load(str(traced)), NETWORK_OUTPUT, mean, std, size, batch, reference, inputs, work)
