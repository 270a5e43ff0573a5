"""Checkpoint → browser bundle: export, optimise, convert, check parity, measure, write atomically.

Every variant is checked against the PyTorch graph it came from before it is written; a variant that
fails its check is left out of the bundle (and reported), so a bundle never ships a silently broken file.

Each size also gets a "logits" variant for onnxruntime-web's WebGL backend (see `liveseg.export.webgl`).
It is optional: when it cannot be fitted to that backend or its decoded class maps disagree with the fp32
labels graph, it is left out with a warning and the export still succeeds, since the web app then runs the
bundle on its other backends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import Progress

import liveseg
from liveseg import atomic
from liveseg.errors import LivesegError
from liveseg.evaluate.metrics import ConfusionMatrix
from liveseg.export import parity, webgl
from liveseg.export.graph import (
    CONFIDENCE,
    INPUT,
    LABELS,
    LOGITS,
    LOGITS_CHANNELS,
    BundleGraph,
    LogitsGraph,
    export_onnx,
)
from liveseg.export.optimize import optimize, to_fp16, to_int8
from liveseg.runtime.bundle import FORMAT, PRECISIONS
from liveseg.runtime.io import resize_nearest
from liveseg.runtime.session import create_session


@dataclass
class ExportSettings:
    sizes: Sequence[tuple[int, int]]
    precisions: Sequence[str] = PRECISIONS
    name: str | None = None
    version: str = "1.0.0"
    data_root: Path | None = None
    calib_images: int = 64
    parity_images: int = 16
    eval_images: int | None = None  # None: the whole val split; 0: do not measure val mIoU
    no_data: bool = False  # check parity on synthetic images instead of the dataset
    webgl: bool = True  # also write each size's logits variant for onnxruntime-web's WebGL backend


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

    @property
    def size(self) -> tuple[int, int]:
        return (self.height, self.width)


@dataclass
class ExportResult:
    out: Path | None  # None when no variant passed and nothing was written
    manifest: dict[str, Any] | None
    variants: list[VariantResult] = field(default_factory=list)

    @property
    def failed(self) -> list[VariantResult]:
        """Labels variants that failed their check: the bundle lacks something that was asked for."""
        return [v for v in self.variants if not v.passed and v.graph == "labels"]

    @property
    def warnings(self) -> list[VariantResult]:
        """Logits variants left out: the bundle works without them, only not on WebGL."""
        return [v for v in self.variants if not v.passed and v.graph == "logits"]


@dataclass
class _Inputs:
    """Original-size images for parity, calibration and val mIoU; labels are None for synthetic inputs."""

    source: str
    parity: list[np.ndarray]
    parity_labels: list[np.ndarray] | None
    calib: list[np.ndarray]
    evaluation: list[tuple[np.ndarray, np.ndarray]]


def export_bundle(
    checkpoint: str | Path, out: str | Path, settings: ExportSettings, progress: Progress | None = None
) -> ExportResult:
    """Write the bundle for `checkpoint` to `out` (replacing an earlier bundle there, never anything else)."""
    from liveseg.models import checkpoint as ckpt_io

    out = Path(out)
    _check_out(out)
    _check_settings(settings)
    ckpt = ckpt_io.load(checkpoint)
    net = ckpt_io.build_model(ckpt)
    norm = ckpt["normalization"]
    graph = BundleGraph(net, norm["mean"], norm["std"]).eval()
    logits_graph = LogitsGraph(net, norm["mean"], norm["std"]).eval() if settings.webgl else None
    num_classes = ckpt["model"]["num_classes"]
    inputs = _load_inputs(ckpt, settings, progress)

    steps = len(settings.sizes) * (3 + len(set(settings.precisions) | {"fp32"}) + settings.webgl)
    task = progress.add_task("export", total=steps) if progress else None

    def step(text: str) -> None:
        if progress is not None:
            progress.update(task, description=text)

    def advance() -> None:
        if progress is not None:
            progress.advance(task)

    with tempfile.TemporaryDirectory(prefix="liveseg-export-") as tmp:
        results: list[VariantResult] = []
        for size in settings.sizes:
            results += _export_size(graph, logits_graph, size, settings, inputs, num_classes, Path(tmp), step, advance)
        for r in results:
            if not r.passed:
                r.path = None  # its work directory is about to go
        passed = [r for r in results if r.passed]
        if not any(r.graph == "labels" for r in passed):
            return ExportResult(out=None, manifest=None, variants=results)
        manifest = _write_bundle(out, ckpt, net, settings, passed)
    return ExportResult(out=out, manifest=manifest, variants=results)


def _check_out(out: Path) -> None:
    # The bundle replaces `out` wholesale, so only an empty directory or an earlier bundle may be there.
    if out.exists() and not (out / "manifest.json").is_file() and (not out.is_dir() or any(out.iterdir())):
        raise LivesegError(f"{out} exists and is not a bundle; choose a new or empty --out directory.")


def _check_settings(settings: ExportSettings) -> None:
    unknown = [p for p in settings.precisions if p not in PRECISIONS]
    if unknown or not settings.precisions:
        raise LivesegError(f"Unknown precision {', '.join(unknown)}; use a comma list of {', '.join(PRECISIONS)}.")
    if not settings.sizes or any(h < 32 or w < 32 for h, w in settings.sizes):
        raise LivesegError("Each --size must be HxW with both sides at least 32 pixels, e.g. 360x480.")
    if settings.parity_images < 1 or settings.calib_images < 1:
        raise LivesegError("--parity-images and --calib-images must be at least 1.")


def _load_inputs(ckpt: dict, settings: ExportSettings, progress: Progress | None) -> _Inputs:
    if settings.no_data:
        h, w = settings.sizes[0]
        images = parity.synthetic_images(settings.parity_images + settings.calib_images, h, w)
        return _Inputs("synthetic", images[: settings.parity_images], None, images[settings.parity_images :], [])
    from liveseg.data import get_dataset

    name = ckpt["dataset"]["name"]
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
    if progress is not None:
        progress.remove_task(task)
    return _Inputs(f"{name}/val", [p[0] for p in pairs], [p[1] for p in pairs], calib, evaluation)


def _session(path: Path, output: str = LABELS):
    session = create_session(path)
    return lambda batch: session.run([output], {INPUT: batch})[0]


def _export_size(
    graph: BundleGraph,
    logits_graph: LogitsGraph | None,
    size: tuple[int, int],
    settings: ExportSettings,
    inputs: _Inputs,
    num_classes: int,
    work: Path,
    step: Callable[[str], None],
    advance: Callable[[], None],
) -> list[VariantResult]:
    h, w = size
    tag = f"{h}x{w}"
    step(f"{tag}: torch.onnx.export")
    raw, fp32 = work / f"{tag}-raw.onnx", work / f"{tag}-fp32.onnx"
    export_onnx(graph, h, w, raw)
    optimize(raw, fp32)
    advance()
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
    with torch.no_grad():
        reference = parity.run_batched(lambda b: graph(torch.from_numpy(b))[0].numpy(), batch)
    eval_batch = parity.stack([im for im, _ in inputs.evaluation], h, w) if inputs.evaluation else None
    measured: dict[str, dict[str, Any]] = {}
    # fp32 is measured even when not requested: it is the reference of the int8 mIoU check.
    for precision in [p for p in PRECISIONS if p in files]:
        step(f"{tag}: {precision} parity and val mIoU")
        run = _session(files[precision])
        labels = parity.run_batched(run, batch)
        measured[precision] = {
            "agreement": parity.pixel_agreement(labels, reference),
            "labels": labels,
            "val_miou": _miou(run, eval_batch, inputs.evaluation, num_classes) if eval_batch is not None else None,
        }
        advance()
    results = [
        _judge(p, size, files[p], measured, reference, inputs, num_classes)
        for p in settings.precisions
        if p in measured
    ]
    if logits_graph is not None:
        step(f"{tag}: WebGL logits graph and its parity")
        results.append(_logits_variant(logits_graph, size, batch, measured["fp32"]["labels"], inputs, work))
        advance()
    return results


def _logits_variant(
    graph: LogitsGraph, size: tuple[int, int], batch: np.ndarray, reference: np.ndarray, inputs: _Inputs, work: Path
) -> VariantResult:
    """The WebGL variant at `size`: fitted to the backend's operators, then decoded as the web app decodes it
    (bilinear upsampling, arg-max) and compared with the fp32 labels graph that every other backend runs."""
    h, w = size
    tag = f"{h}x{w}"
    raw, optimized, fitted = (work / f"{tag}-logits-{stage}.onnx" for stage in ("raw", "opt", "webgl"))
    export_onnx(graph, h, w, raw)
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
    run = _session(fitted, LOGITS)
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


def _miou(run, batch: np.ndarray, pairs: Sequence[tuple[np.ndarray, np.ndarray]], num_classes: int) -> float:
    """mIoU at each image's own resolution, predicted at the bundle size (what the runtime does)."""
    cm = ConfusionMatrix(num_classes)
    labels = parity.run_batched(run, batch)
    for pred, (_, gt) in zip(labels, pairs, strict=True):
        cm.update(gt, resize_nearest(pred, *gt.shape))
    return cm.summary()["miou"]


def _judge(
    precision: str,
    size: tuple[int, int],
    path: Path,
    measured: dict[str, dict[str, Any]],
    reference: np.ndarray,
    inputs: _Inputs,
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
    measured: dict[str, dict[str, Any]], reference: np.ndarray, inputs: _Inputs, num_classes: int
) -> tuple[float, float, str]:
    """(int8 mIoU, fp32 mIoU, what they were measured on): the val set, else the parity images."""
    q, f = measured["int8"], measured["fp32"]
    if q["val_miou"] is not None:
        return q["val_miou"], f["val_miou"], f"{inputs.source} ({len(inputs.evaluation)} images)"
    if inputs.parity_labels is not None:
        scores = []
        for labels in (q["labels"], f["labels"]):
            cm = ConfusionMatrix(num_classes)
            for pred, gt in zip(labels, inputs.parity_labels, strict=True):
                cm.update(gt, resize_nearest(pred, *gt.shape))
            scores.append(cm.summary()["miou"])
        return scores[0], scores[1], f"{inputs.source} ({len(inputs.parity)} parity images)"
    # No ground truth: score both against the PyTorch class maps.
    scores = []
    for labels in (q["labels"], f["labels"]):
        cm = ConfusionMatrix(num_classes)
        cm.update(reference, labels)
        scores.append(cm.summary()["miou"])
    return scores[0], scores[1], f"{len(inputs.parity)} synthetic images, PyTorch output as reference"


def _write_bundle(
    out: Path, ckpt: dict, net: torch.nn.Module, settings: ExportSettings, passed: list[VariantResult]
) -> dict[str, Any]:
    from liveseg import models

    dataset = ckpt["dataset"]
    model_name = ckpt["model"]["name"]
    labels = [r for r in passed if r.graph == "labels"]
    default = next((r for r in labels if r.precision == "fp32"), labels[0])
    complexity = {size: models.complexity(net, size) for size in {r.size for r in passed}}
    params = complexity[default.size][0]
    gflops = {size: c[1] for size, c in complexity.items()}
    with atomic.directory(out) as tmp:
        entries = []
        for r in passed:
            data = r.path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            kind = r.precision if r.graph == "labels" else r.graph
            file = f"model-{r.height}x{r.width}-{kind}.{digest[:8]}.onnx"
            shutil.copyfile(r.path, tmp / file)
            r.path = out / file  # where it is once the bundle directory is in place
            entry: dict[str, Any] = {"precision": r.precision}
            if r.graph != "labels":
                entry["graph"] = r.graph  # absent means "labels", which readers before logits variants assume
            entry |= {"height": r.height, "width": r.width, "file": file}
            entry |= {"bytes": len(data), "sha256": digest, "gflops": round(gflops[r.size], 4)}
            if r.val_miou is not None:
                entry["val_miou"] = round(r.val_miou, 6)
            entries.append(entry | {"parity": r.parity})
        manifest = {
            "format": FORMAT,
            "name": settings.name or f"{dataset['name']}-{model_name}",
            "version": settings.version,
            "task": "semantic-segmentation",
            "model": {
                "name": model_name,
                "kwargs": dict(ckpt["model"].get("kwargs", {})),
                "params": params,
                "gflops": round(gflops[default.size], 4),
            },
            "dataset": dataset["name"],
            "classes": [
                {"id": i, "name": n, "color": [int(c) for c in color]}
                for i, (n, color) in enumerate(zip(dataset["classes"], dataset["palette"], strict=True))
            ],
            "ignore_index": dataset["ignore_index"],
            "normalization": {k: list(ckpt["normalization"][k]) for k in ("mean", "std")},
            "input": {"name": INPUT, "dtype": "uint8", "layout": "NHWC", "channels": [3, 4]},
            "outputs": {
                "labels": {"name": LABELS, "dtype": "uint8"},
                "confidence": {"name": CONFIDENCE, "dtype": "uint8"},
            }
            | ({"logits": {"name": LOGITS, "dtype": "float32"}} if any(r.graph == "logits" for r in passed) else {}),
            "variants": entries,
            "default_variant": {"precision": default.precision, "height": default.height, "width": default.width},
            "training": {"epoch": ckpt["epoch"], "best_miou": ckpt["best_miou"]},
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "liveseg_version": liveseg.__version__,
        }
        atomic.write_text(tmp / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest
