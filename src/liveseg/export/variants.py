"""The variants of one bundle size, made from its fp32 labels graph and judged: torch-free, so that imported
models (ONNX, TFLite) become bundles on an install without PyTorch.

Every variant is checked against the framework its graph came from (PyTorch for a checkpoint, the original file
for an imported model) before it is written; a variant that fails its check is left out and reported, so a
bundle never ships a silently broken file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

from liveseg.errors import LivesegError
from liveseg.evaluate.metrics import score
from liveseg.export import parity, webgl
from liveseg.export.optimize import optimize, to_fp16, to_int8
from liveseg.export.settings import ExportSettings
from liveseg.export.wrap import INPUT, LABELS, LOGITS, LOGITS_CHANNELS, logits_graph
from liveseg.progress import Progress
from liveseg.runtime.io import resize_nearest
from liveseg.runtime.manifest import PRECISIONS
from liveseg.runtime.session import create_session

if TYPE_CHECKING:
    from liveseg.runtime.manifest import Manifest


@dataclass
class VariantResult:
    precision: str
    height: int
    width: int
    passed: bool
    parity: dict[str, Any]
    val_miou: float | None = None
    problem: str = ""  # why it failed, one sentence
    bytes: int = 0
    path: Path | None = None  # the file: in the work directory while checking, then in the bundle
    graph: str = "labels"  # or "logits", the WebGL variant
    optional: bool = False  # tried without being asked for by name: leaving it out is a warning

    @property
    def size(self) -> tuple[int, int]:
        return (self.height, self.width)


@dataclass
class ExportResult:
    out: Path | None  # None when no variant passed and nothing was written
    manifest: Manifest | None
    variants: list[VariantResult] = field(default_factory=list)

    @property
    def failed(self) -> list[VariantResult]:
        """Labels variants that failed their check: the bundle lacks something that was asked for."""
        return [v for v in self.variants if not v.passed and v.graph == "labels" and not v.optional]

    @property
    def warnings(self) -> list[VariantResult]:
        """Variants left out that nobody asked for by name: the WebGL logits graph (the bundle works without it,
        only not on WebGL) and optional precisions (`ExportSettings.optional`)."""
        return [v for v in self.variants if not v.passed and (v.graph == "logits" or v.optional)]


@dataclass
class Inputs:
    """Original-size images for parity, calibration and val mIoU; labels are None for synthetic inputs."""

    source: str
    parity: list[np.ndarray]
    parity_labels: list[np.ndarray] | None
    calib: list[np.ndarray]
    evaluation: list[tuple[np.ndarray, np.ndarray]]


def progress_steps(
    progress: Progress | None, label: str, total: int
) -> tuple[Callable[[str], None], Callable[[], None]]:
    """(describe the current step, count one step done) on a progress bar, or no-ops without one."""
    if progress is None:
        return (lambda _: None), (lambda: None)
    task = progress.add_task(label, total=total)
    return (lambda text: progress.update(task, description=text)), (lambda: progress.advance(task))


def check_out(out: Path) -> None:
    # The bundle replaces `out` wholesale, so only an empty directory or an earlier bundle may be there.
    if out.exists() and not (out / "manifest.json").is_file() and (not out.is_dir() or any(out.iterdir())):
        raise LivesegError(f"{out} exists and is not a bundle; choose a new or empty --out directory.")


def check_settings(settings: ExportSettings) -> None:
    unknown = [p for p in settings.precisions if p not in PRECISIONS]
    if unknown or not settings.precisions:
        raise LivesegError(f"Unknown precision {', '.join(unknown)}; use a comma list of {', '.join(PRECISIONS)}.")
    if not settings.sizes or any(h < 32 or w < 32 for h, w in settings.sizes):
        raise LivesegError("Each --size must be HxW with both sides at least 32 pixels, e.g. 360x480.")
    if settings.parity_images < 1 or settings.calib_images < 1:
        raise LivesegError("--parity-images and --calib-images must be at least 1.")


def load_inputs(dataset: str | None, settings: ExportSettings, progress: Progress | None) -> Inputs:
    """Parity, calibration and evaluation images: from `dataset` (train/val splits), else synthetic."""
    if settings.no_data or dataset is None:
        h, w = settings.sizes[0]
        images = parity.synthetic_images(settings.parity_images + settings.calib_images, h, w)
        return Inputs("synthetic", images[: settings.parity_images], None, images[settings.parity_images :], [])
    from liveseg.data import get_dataset

    name = dataset
    try:
        val = get_dataset(name, split="val", root=settings.data_root)
        train = get_dataset(name, split="train", root=settings.data_root)
    except LivesegError as exc:
        raise LivesegError(
            f"{str(exc).rstrip('.')} (parity checks need it; pass --data-root DIR, or --no-data for synthetic inputs)."
        ) from None
    task = progress.add_task("reading images", total=None) if progress else None
    pairs = [val[i] for i in parity.spread(len(val), settings.parity_images)]
    calib = [train[i][0] for i in parity.spread(len(train), settings.calib_images)]
    evaluation = [] if settings.eval_images == 0 else [val[i] for i in parity.spread(len(val), settings.eval_images)]
    if progress is not None and task is not None:
        progress.remove_task(task)
    return Inputs(f"{name}/val", [p[0] for p in pairs], [p[1] for p in pairs], calib, evaluation)


def session_runner(path: Path, output: str = LABELS):
    session = create_session(path)
    return lambda batch: session.run([output], {INPUT: batch})[0]


@dataclass
class Derived:
    """The variants of one size, and the fp32 graph's class maps on the parity images (the logits variant's
    reference, kept so that nobody runs the fp32 graph on them twice)."""

    variants: list[VariantResult]
    fp32_labels: np.ndarray


def derive_variants(
    fp32: Path,
    reference: Callable[[np.ndarray], np.ndarray],
    size: tuple[int, int],
    settings: ExportSettings,
    inputs: Inputs,
    num_classes: int,
    work: Path,
    step: Callable[[str], None] = lambda _: None,
    advance: Callable[[], None] = lambda: None,
) -> Derived:
    """The requested precisions of one size from its fp32 labels graph, each judged against `reference`.

    `reference` maps an N×H×W×3 uint8 batch to the class maps of the framework the graph came from (PyTorch
    for a checkpoint, onnxruntime on the original file for an imported model). Takes 2 + precisions steps.
    """
    h, w = size
    tag = f"{h}x{w}"
    files = {"fp32": fp32}
    if "fp16" in settings.precisions:
        step(f"{tag}: fp16 conversion")
        files["fp16"] = work / f"{tag}-fp16.onnx"
        to_fp16(fp32, files["fp16"])
    advance()
    if "int8" in settings.precisions:
        step(f"{tag}: int8 calibration on {len(inputs.calib)} images")
        files["int8"] = work / f"{tag}-int8.onnx"
        to_int8(fp32, files["int8"], parity.stack(inputs.calib, h, w))
    advance()

    batch = parity.stack(inputs.parity, h, w)
    expected = reference(batch)
    eval_batch = parity.stack([im for im, _ in inputs.evaluation], h, w) if inputs.evaluation else None
    measured: dict[str, dict[str, Any]] = {}
    # fp32 is measured even when not requested: it is the reference of the int8 mIoU check.
    for precision in [p for p in PRECISIONS if p in files]:
        step(f"{tag}: {precision} parity and val mIoU")
        run = session_runner(files[precision])
        labels = parity.run_batched(run, batch)
        measured[precision] = {
            "agreement": parity.pixel_agreement(labels, expected),
            "labels": labels,
            "val_miou": _miou(run, eval_batch, inputs.evaluation, num_classes) if eval_batch is not None else None,
        }
        advance()
    variants = [
        _judge(p, size, files[p], measured, expected, inputs, num_classes) for p in settings.precisions if p in measured
    ]
    for variant in variants:
        variant.optional = variant.precision in settings.optional
    return Derived(variants, measured["fp32"]["labels"])


def _miou(run, batch: np.ndarray, pairs: Sequence[tuple[np.ndarray, np.ndarray]], num_classes: int) -> float:
    """mIoU at each image's own resolution, predicted at the bundle size (what the runtime does)."""
    return _miou_at_truth(list(parity.run_batched(run, batch)), [gt for _, gt in pairs], num_classes)


def _miou_at_truth(predictions: Sequence[np.ndarray], truths: Sequence[np.ndarray], num_classes: int) -> float:
    """Each prediction resized (nearest) to its ground truth's size, as the runtime returns class maps."""
    pairs = ((gt, resize_nearest(pred, *gt.shape)) for pred, gt in zip(predictions, truths, strict=True))
    return score(pairs, num_classes)["miou"]


def _judge(
    precision: str,
    size: tuple[int, int],
    path: Path,
    measured: dict[str, dict[str, Any]],
    reference: np.ndarray,
    inputs: Inputs,
    num_classes: int,
) -> VariantResult:
    m = measured[precision]
    record: dict[str, Any] = {
        "images": len(inputs.parity),
        "inputs": inputs.source,
        "pixel_agreement": round(m["agreement"], 6),
    }
    result = VariantResult(
        precision, *size, passed=True, parity=record, val_miou=m["val_miou"], bytes=path.stat().st_size, path=path
    )
    if precision in parity.MIN_AGREEMENT:
        need = parity.MIN_AGREEMENT[precision]
        if m["agreement"] < need:
            result.passed = False
            result.problem = (
                f"{precision} {size[0]}x{size[1]} agrees with PyTorch on {m['agreement']:.4%} of pixels "
                f"(needs {need:.1%}), so it was not written."
            )
        return result
    ours, ref, basis = _int8_mious(measured, reference, inputs, num_classes)
    record.update(miou=round(ours, 6), reference_miou=round(ref, 6), miou_drop=round(ref - ours, 6), miou_on=basis)
    if ref - ours > parity.MAX_INT8_MIOU_DROP:
        result.passed = False
        result.problem = (
            f"int8 {size[0]}x{size[1]} loses {100 * (ref - ours):.2f} mIoU points against fp32 on {basis} "
            f"(at most {100 * parity.MAX_INT8_MIOU_DROP:.1f} allowed), so it was not written."
        )
    return result


def _int8_mious(
    measured: dict[str, dict[str, Any]], reference: np.ndarray, inputs: Inputs, num_classes: int
) -> tuple[float, float, str]:
    """(int8 mIoU, fp32 mIoU, what they were measured on): the val set, else the parity images."""
    q, f = measured["int8"], measured["fp32"]
    if q["val_miou"] is not None:
        return q["val_miou"], f["val_miou"], f"{inputs.source} ({len(inputs.evaluation)} images)"
    if inputs.parity_labels is not None:
        ours, ref = (_miou_at_truth(m["labels"], inputs.parity_labels, num_classes) for m in (q, f))
        return ours, ref, f"{inputs.source} ({len(inputs.parity)} parity images)"
    # No ground truth: score both against the PyTorch class maps.
    ours, ref = (score([(reference, m["labels"])], num_classes)["miou"] for m in (q, f))
    return ours, ref, f"{len(inputs.parity)} synthetic images, the reference class maps as ground truth"


def logits_variant(
    network: onnx.ModelProto,
    output: str,
    mean: Sequence[float],
    std: Sequence[float],
    size: tuple[int, int],
    batch: np.ndarray,
    reference: np.ndarray,
    inputs: Inputs,
    work: Path,
) -> VariantResult:
    """The WebGL variant at `size` of `network` (its `output` the logits; every shape static, batch 1): fitted to
    the backend's operators, then decoded as the web app decodes it (bilinear upsampling, arg-max) and compared
    with the fp32 labels graph's class maps `reference` that every other backend runs."""
    h, w = size
    tag = f"{h}x{w}"
    raw, optimized, fitted = (work / f"{tag}-logits-{stage}.onnx" for stage in ("raw", "opt", "webgl"))
    onnx.save(logits_graph(network, output, mean, std, size), str(raw))
    optimize(raw, optimized)
    webgl.fit(optimized, fitted)
    record: dict[str, Any] = {"images": len(inputs.parity), "inputs": inputs.source}
    result = VariantResult(
        "fp32", h, w, passed=True, parity=record, bytes=fitted.stat().st_size, path=fitted, graph="logits"
    )
    if unfit := webgl.problems(fitted):
        result.passed = False
        result.problem = (
            f"The WebGL logits graph {tag} has {'; '.join(unfit)}, which onnxruntime-web's WebGL backend cannot "
            "run, so it was left out and the web app will run this bundle on its other backends."
        )
        return result
    run = session_runner(fitted, LOGITS)
    alpha = np.full((*batch.shape[:3], LOGITS_CHANNELS - 3), 255, np.uint8)
    pixels = np.concatenate([batch, alpha], axis=-1).astype(np.float32)
    labels = np.concatenate([parity.decode_logits(run(image[None]), h, w) for image in pixels])
    agreement = parity.pixel_agreement(labels, reference)
    record |= {"pixel_agreement": round(agreement, 6), "reference": "fp32 labels graph"}
    if agreement < parity.MIN_LOGITS_AGREEMENT:
        result.passed = False
        result.problem = (
            f"The WebGL logits graph {tag}, decoded, agrees with the fp32 labels graph on {agreement:.4%} of "
            f"pixels (needs {parity.MIN_LOGITS_AGREEMENT:.1%}), so it was left out and the web app will run "
            "this bundle on its other backends."
        )
    return result
