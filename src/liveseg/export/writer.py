"""A bundle's folder: the variants that passed, under content-addressed names, and the manifest that lists
them, written atomically; `BundleMeta` is what the manifest says besides its variants."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import liveseg
from liveseg import atomic
from liveseg.export.settings import ExportSettings
from liveseg.export.variants import ExportResult, VariantResult
from liveseg.export.wrap import CONFIDENCE, INPUT, LABELS, LOGITS
from liveseg.runtime.manifest import (
    MODEL_CARD,
    Graph,
    Manifest,
    ModelInfo,
    Outputs,
    Parity,
    Precision,
    SourceInfo,
    TrainingInfo,
    VariantEntry,
    check_name,
)


@dataclass
class BundleMeta:
    """What a manifest says besides its variants: the network, its classes, its inputs and where it came from."""

    name: str
    model: ModelInfo  # {"name", "kwargs"}
    dataset: str | None  # None: an imported model's classes are no liveseg dataset's
    classes: Sequence[str]
    palette: Sequence[Sequence[int]]
    ignore_index: int | None
    normalization: Mapping[str, Sequence[float]]  # {"mean", "std"} on 0..1 RGB
    training: TrainingInfo | None = None  # {"epoch", "best_miou"} of a checkpoint liveseg trained
    source: SourceInfo | None = None  # {"origin", "license", ...} of a pulled or imported model
    # MODEL_CARD.md, written into the bundle from its finished manifest (which holds the measured params and
    # GFLOPs, so a card needs no second measurement).
    card: Callable[[Manifest], str] | None = None

    def __post_init__(self) -> None:
        """Before any tracing or judging: `Manifest.dump` would refuse the name only once all that is done."""
        check_name(self.name, "give the bundle another name")


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
        normalization={"mean": manifest.normalization["mean"], "std": manifest.normalization["std"]},
        training=manifest.training,
    )


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
            assert r.path is not None  # a variant that passed has its file
            data = r.path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            kind = r.precision if r.graph == "labels" else r.graph
            file = f"model-{r.height}x{r.width}-{kind}.{digest[:8]}.onnx"
            shutil.copyfile(r.path, tmp / file)
            r.path = out / file  # where it is once the bundle directory is in place
            entries.append(
                VariantEntry(  # the loosely typed result becomes the manifest's typed entry here
                    precision=cast(Precision, r.precision),
                    graph=cast(Graph, r.graph),
                    height=r.height,
                    width=r.width,
                    file=file,
                    bytes=len(data),
                    sha256=digest,
                    gflops=round(gflops[r.size], 4),
                    val_miou=None if r.val_miou is None else round(r.val_miou, 6),
                    parity=cast(Parity, r.parity),
                )
            )
        outputs: Outputs = {
            "labels": {"name": LABELS, "dtype": "uint8"},
            "confidence": {"name": CONFIDENCE, "dtype": "uint8"},
        }
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
            normalization={
                "mean": [float(x) for x in meta.normalization["mean"]],
                "std": [float(x) for x in meta.normalization["std"]],
            },
            input={"name": INPUT, "dtype": "uint8", "layout": "NHWC", "channels": [3, 4]},
            outputs=outputs,
            variants=entries,
            default_variant={
                "precision": cast(Precision, default.precision),
                "height": default.height,
                "width": default.width,
            },
            training=meta.training,
            source=meta.source,
            created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            liveseg_version=liveseg.__version__,
        )
        manifest.dump(tmp / "manifest.json")
        if meta.card is not None:
            (tmp / MODEL_CARD).write_text(meta.card(manifest), encoding="utf-8")
    return manifest
