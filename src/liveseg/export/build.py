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
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from rich.progress import Progress

import liveseg
from liveseg import atomic
from liveseg.errors import LivesegError
from liveseg.evaluate.metrics import ConfusionMatrix
from liveseg.export import parity, webgl
from liveseg.export.graph import NETWORK_OUTPUT, logits_size, trace_network
from liveseg.export.optimize import optimize, to_fp16, to_int8
from liveseg.export.wrap import CONFIDENCE, INPUT, LABELS, LOGITS, LOGITS_CHANNELS, labels_graph, logits_graph
from liveseg.runtime.io import resize_nearest
from liveseg.runtime.manifest import PRECISIONS, Manifest, VariantEntry
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
    manifest: Manifest | None
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
class Inputs:
    """Original-size images for parity, calibration and val mIoU; labels are None for synthetic inputs."""

    source: str
    parity: list[np.ndarray]
    parity_labels: list[np.ndarray] | None
    calib: list[np.ndarray]
    evaluation: list[tuple[np.ndarray, np.ndarray]]


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
        from liveseg.runtime.bundle import open_bundle
        from liveseg.train.init import network_from_bundle

        net, meta = network_from_bundle(str(source)), bundle_meta(open_bundle(str(source)).manifest, settings.name)
    return export_network(net, meta, Path(out), settings, progress)


def export_network(
    net: torch.nn.Module, meta: BundleMeta, out: Path, settings: ExportSettings, progress: Progress | None = None
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


def progress_steps(
    progress: Progress | None, label: str, total: int
) -> tuple[Callable[[str], None], Callable[[], None]]:
    """(describe the current step, count one step done) on a progress bar, or no-ops without one."""
    if progress is None:
        return (lambda _: None), (lambda: None)
    task = progress.add_task(label, total=total)
    return (lambda text: progress.update(task, description=text)), (lambda: progress.advance(task))


def finish(
    out: Path,
    meta: BundleMeta,
    settings: ExportSettings,
    results: list[VariantResult],
    complexity: Callable[[tuple[int, int]], tuple[int, float]],
) -> ExportResult:
    """Write the bundle of the variants that passed, if any labels variant did; called inside the work folder."""
    for r in results:
        if not r.passed:
            r.path = None  # its work directory is about to go
    passed = [r for r in results if r.passed]
    if not any(r.graph == "labels" for r in passed):
        return ExportResult(out=None, manifest=None, variants=results)
    manifest = write_bundle(out, meta, settings, passed, complexity)
    return ExportResult(out=out, manifest=manifest, variants=results)


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
    if progress is not None:
        progress.remove_task(task)
    return Inputs(f"{name}/val", [p[0] for p in pairs], [p[1] for p in pairs], calib, evaluation)


def _session(path: Path, output: str = LABELS):
    session = create_session(path)
    return lambda batch: session.run([output], {INPUT: batch})[0]


def _export_size(
    net: torch.nn.Module,
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
    net: torch.nn.Module, mean: Sequence[float], std: Sequence[float]
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
        run = _session(files[precision])
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
    return Derived(variants, measured["fp32"]["labels"])


def _logits_variant(
    net: torch.nn.Module,
    mean: Sequence[float],
    std: Sequence[float],
    size: tuple[int, int],
    batch: np.ndarray,
    reference: np.ndarray,
    inputs: Inputs,
    work: Path,
) -> VariantResult:
    """The WebGL variant at `size`: fitted to the backend's operators, then decoded as the web app decodes it
    (bilinear upsampling, arg-max) and compared with the fp32 labels graph that every other backend runs."""
    h, w = size
    tag = f"{h}x{w}"
    traced, raw, optimized, fitted = (
        work / f"{tag}-logits-{stage}.onnx" for stage in ("network", "raw", "opt", "webgl")
    )
    trace_network(net, h, w, traced, batch=1)
    onnx.save(logits_graph(onnx.load(str(traced)), NETWORK_OUTPUT, mean, std, size), str(raw))
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
    return scores[0], scores[1], f"{len(inputs.parity)} synthetic images, the reference class maps as ground truth"


@dataclass
class BundleMeta:
    """What a manifest says besides its variants: the network, its classes, its inputs and where it came from."""

    name: str
    model: dict[str, Any]  # {"name", "kwargs"}
    dataset: str
    classes: Sequence[str]
    palette: Sequence[Sequence[int]]
    ignore_index: int
    normalization: dict[str, Sequence[float]]  # {"mean", "std"} on 0..1 RGB
    training: dict[str, Any] | None = None  # {"epoch", "best_miou"} of a checkpoint liveseg trained
    source: dict[str, Any] | None = None  # {"origin", "license", ...} of a pulled or imported model


def checkpoint_meta(ckpt: dict, name: str | None) -> BundleMeta:
    dataset = ckpt["dataset"]
    return BundleMeta(
        name=name or f"{dataset['name']}-{ckpt['model']['name']}",
        model={"name": ckpt["model"]["name"], "kwargs": dict(ckpt["model"].get("kwargs", {}))},
        dataset=dataset["name"],
        classes=dataset["classes"],
        palette=dataset["palette"],
        ignore_index=dataset["ignore_index"],
        normalization=ckpt["normalization"],
        training={"epoch": ckpt["epoch"], "best_miou": ckpt["best_miou"]},
    )


def bundle_meta(manifest: Manifest, name: str | None) -> BundleMeta:
    return BundleMeta(
        name=name or manifest.name,
        model={"name": manifest.model["name"], "kwargs": dict(manifest.model.get("kwargs", {}))},
        dataset=manifest.dataset,
        classes=[c["name"] for c in manifest.classes],
        palette=[c["color"] for c in manifest.classes],
        ignore_index=manifest.ignore_index,
        normalization=manifest.normalization,
        training=manifest.training,
    )


def write_bundle(
    out: Path,
    meta: BundleMeta,
    settings: ExportSettings,
    passed: list[VariantResult],
    complexity: Callable[[tuple[int, int]], tuple[int, float]],
) -> Manifest:
    """Copy the passed variants into `out` under content-addressed names and write the manifest, atomically.

    `complexity(size)` gives (parameters, GFLOPs) of the network at that input size.
    """
    labels = [r for r in passed if r.graph == "labels"]
    default = next((r for r in labels if r.precision == "fp32"), labels[0])
    measured = {size: complexity(size) for size in {r.size for r in passed}}
    gflops = {size: c[1] for size, c in measured.items()}
    with atomic.directory(out) as tmp:
        entries = []
        for r in passed:
            data = r.path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            kind = r.precision if r.graph == "labels" else r.graph
            file = f"model-{r.height}x{r.width}-{kind}.{digest[:8]}.onnx"
            shutil.copyfile(r.path, tmp / file)
            r.path = out / file  # where it is once the bundle directory is in place
            entries.append(
                VariantEntry(
                    precision=r.precision,
                    graph=r.graph,
                    height=r.height,
                    width=r.width,
                    file=file,
                    bytes=len(data),
                    sha256=digest,
                    gflops=round(gflops[r.size], 4),
                    val_miou=None if r.val_miou is None else round(r.val_miou, 6),
                    parity=r.parity,
                )
            )
        outputs = {"labels": {"name": LABELS, "dtype": "uint8"}, "confidence": {"name": CONFIDENCE, "dtype": "uint8"}}
        if any(r.graph == "logits" for r in passed):
            outputs["logits"] = {"name": LOGITS, "dtype": "float32"}
        manifest = Manifest(
            name=meta.name,
            version=settings.version,
            task="semantic-segmentation",
            model=meta.model | {"params": measured[default.size][0], "gflops": round(gflops[default.size], 4)},
            dataset=meta.dataset,
            classes=[
                {"id": i, "name": n, "color": [int(c) for c in color]}
                for i, (n, color) in enumerate(zip(meta.classes, meta.palette, strict=True))
            ],
            ignore_index=meta.ignore_index,
            normalization={k: [float(x) for x in meta.normalization[k]] for k in ("mean", "std")},
            input={"name": INPUT, "dtype": "uint8", "layout": "NHWC", "channels": [3, 4]},
            outputs=outputs,
            variants=entries,
            default_variant={"precision": default.precision, "height": default.height, "width": default.width},
            training=meta.training,
            source=meta.source,
            created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            liveseg_version=liveseg.__version__,
        )
        manifest.dump(tmp / "manifest.json")
    return manifest
