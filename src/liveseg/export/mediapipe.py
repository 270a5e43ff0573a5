"""MediaPipe's selfie segmentation models → liveseg's bundled person models.

The npm package `@mediapipe/selfie_segmentation` (Apache-2.0), which the web build installs, ships two TFLite
files: the general model (256x256) and the landscape one (144x256, the video-call model). Both end in a
single-channel sigmoid, so they become two-class bundles (background, person; see `liveseg.export.tflite`)
with the same in-graph pre/post-processing as every bundle. They take RGB on 0..1, so the normalisation is
mean 0, std 1. The weights are not committed: `build_bundled` converts them at set-up and wheel build time.

MediaPipe's hosted ImageSegmenter models are `liveseg pull` entries (`liveseg.export.pretrained`); their class
lists are here (`CLASS_LISTS`), importable without onnx so that `liveseg pull --list` works from any install.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from liveseg.errors import LivesegError
from liveseg.progress import Progress

if TYPE_CHECKING:
    from liveseg.export.variants import ExportResult
    from liveseg.runtime.manifest import Manifest

NPM_PACKAGE = "@mediapipe/selfie_segmentation"
NPM_VERSION = "0.1.1675465747"
LICENCE = "Apache-2.0"
LICENCE_URL = "https://www.apache.org/licenses/LICENSE-2.0"
PERSON_DATASET = "selfie"  # the manifest's dataset: two classes, a person in front of a camera
PERSON_CLASSES = ("background", "person")
PERSON_PALETTE = ((0, 0, 0), (255, 112, 40))
UNIT_RANGE = {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}  # MediaPipe feeds RGB on 0..1
MULTICLASS_DATASET = "selfie-multiclass"
HAIR_DATASET = "hair"
# The class lists of MediaPipe's segmentation models, by the manifest's dataset name: (names, colours). A model
# ending in one sigmoid channel has two classes, (background, what the probability is of).
CLASS_LISTS: dict[str, tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]]] = {
    PERSON_DATASET: (PERSON_CLASSES, PERSON_PALETTE),
    MULTICLASS_DATASET: (
        ("background", "hair", "body-skin", "face-skin", "clothes", "others"),
        ((0, 0, 0), (120, 60, 20), (255, 180, 140), (255, 210, 170), (40, 90, 200), (160, 160, 160)),
    ),
    HAIR_DATASET: (("background", "hair"), ((0, 0, 0), (150, 80, 30))),
}


@dataclass(frozen=True)
class BundledModel:
    """A person model made from a file of the npm package."""

    name: str
    file: str
    summary: str


BUNDLED = (
    BundledModel(
        "person-selfie",
        "selfie_segmentation.tflite",
        "MediaPipe selfie segmentation, general model (256x256): people within about 2 m of the camera.",
    ),
    BundledModel(
        "person-selfie-landscape",
        "selfie_segmentation_landscape.tflite",
        "MediaPipe selfie segmentation, landscape model (144x256, the video-call model): cheaper, coarser edges.",
    ),
)


def build_bundled(package: Path, out: Path, progress: Progress | None = None) -> list[ExportResult]:
    """Convert each of `BUNDLED` from the npm package folder `package` into `out/<name>`."""
    results = []
    for model in BUNDLED:
        source = package / model.file
        if not source.is_file():
            raise LivesegError(
                f"{source} is missing; install the web app's packages (npm ci in web/) to get {NPM_PACKAGE}."
            )
        results.append(convert_person_model(source, out / model.name, model, progress))
    return results


def convert_person_model(
    source: Path, out: Path, model: BundledModel, progress: Progress | None = None
) -> ExportResult:
    """One selfie TFLite file → a parity-checked two-class bundle with its model card."""
    from liveseg.export.imported import import_bundle, load_tflite
    from liveseg.export.settings import ExportSettings
    from liveseg.export.writer import BundleMeta

    network, converted = load_tflite(source, UNIT_RANGE["mean"], UNIT_RANGE["std"])
    if not converted.foreground:
        raise LivesegError(f"{source} does not end in a single-channel sigmoid; it is not a selfie model.")
    size = converted.size
    meta = BundleMeta(
        name=model.name,
        model={"name": "mediapipe-selfie", "kwargs": {}},
        dataset=PERSON_DATASET,
        classes=PERSON_CLASSES,
        palette=PERSON_PALETTE,
        ignore_index=255,
        normalization=dict(UNIT_RANGE),
        source={
            "origin": f"npm {NPM_PACKAGE}@{NPM_VERSION}, {model.file}",
            "license": LICENCE,
            "license_url": LICENCE_URL,
            "description": converted.description,
            "converted": "liveseg.export.tflite: single-channel sigmoid → two classes, person where p > 0.5",
        },
        card=lambda manifest: _card(model, manifest),
    )
    # No int8: calibrating a person model on synthetic images (all a serve-only set-up has) loses the person.
    settings = ExportSettings(sizes=[size], precisions=("fp32", "fp16"), name=model.name, no_data=True)
    return import_bundle(network, out, settings, meta, progress)


def _card(model: BundledModel, manifest: Manifest) -> str:
    h, w = manifest.default_size
    params, gflops = manifest.model["params"], manifest.model["gflops"]
    return f"""# {model.name}

{model.summary}

- **Source**: the npm package `{NPM_PACKAGE}@{NPM_VERSION}`, file `{model.file}`, by Google (MediaPipe).
- **Licence**: {LICENCE} ({LICENCE_URL}). The weights are MediaPipe's, unchanged; liveseg converted the
  graph from TFLite to ONNX and added its in-graph pre- and post-processing.
- **Network**: MobileNetV3-style encoder-decoder, {params / 1e6:.2f} M parameters, {gflops:.3f} GFLOPs at
  {h}x{w} (a multiply-add counts as two FLOPs).
- **Input**: RGB scaled to 0..1, resized to {h}x{w} without keeping the aspect ratio, as MediaPipe feeds it.
- **Output**: two classes, `background` and `person`. The network's single sigmoid output p becomes the logits
  (−x/2, x/2), so a pixel is `person` where p > 0.5 and its confidence byte is round(255 · max(p, 1 − p)).
  The person probability is therefore `conf / 255` where the label is person and `1 − conf / 255` elsewhere.

## What it is for, and what not

It is a foreground model for selfie and video-call scenes: one or two people close to the camera. It marks
whatever dominates the foreground, so a pet or an object held close to the lens can come out as `person`,
and people far from the camera (street scenes) are missed: use a street or general model for those. Measured
on sample photographs (`liveseg.bench.photos`), share of pixels marked `person` by the general / landscape
model: two portraits 0.58 and 0.55 / 0.57 and 0.57; a cat close-up 0.93 / 0.39; a cup of coffee 0.19 / 0.51.

## How it was made

`make serve` (and the wheel build) convert the file with `liveseg.export.mediapipe.build_bundled`; the same
conversion is `liveseg import {model.file} --name {model.name} --classes background,person --mean 0,0,0 --std 1,1,1`.
Every variant is checked against the converted network in onnxruntime before it is written; agreement with
MediaPipe's own runtime is measured by `tests/export/test_mediapipe.py` and reported in BENCHMARKS.md.
"""
