"""What a conversion writes (`ExportSettings`), how a registered model is pulled (`PullSettings`) and how a
network from elsewhere is imported (`ImportSettings`), declared once for the commands (`liveseg export`, `pull`,
`import`) and the library. Torch- and onnx-free, so that the CLI builds its options without loading either."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveseg import tfenv
from liveseg.errors import LivesegError
from liveseg.runtime.manifest import PRECISIONS
from liveseg.settings import option, parse_precisions, parse_sizes

# The variants a conversion writes, the same for export, pull and import: `option(**PRECISION)`.
PRECISION: dict[str, Any] = {
    "default": ",".join(PRECISIONS), "help": "Variants to write.", "parse": parse_precisions, "items": PRECISIONS,
    "flag": "precision",
}  # fmt: skip
# Pull and import have no dataset: int8 is calibrated on synthetic images, which some models survive and others (a
# foreground head) do not. Unless --precision names the variants, int8 is tried and a failure leaves it out with a
# warning; named, its failure is the command's (exit 1).
TRIED_PRECISION: dict[str, Any] = PRECISION | {
    "default": None,
    "help": "Variants to write (default: fp32,fp16, and int8 if it passes its check on synthetic calibration).",
}


def tried_precisions(named: Sequence[str] | None) -> tuple[Sequence[str], tuple[str, ...]]:
    """(the precisions a pull or import writes, those of them that may be left out with a warning)."""
    return (named, ()) if named else (PRECISIONS, ("int8",))


def parse_eval_images(text: str) -> int | None:
    """'all' → None (the whole val split), a number → that many images (0: no val mIoU)."""
    if text.strip().lower() == "all":
        return None
    if text.strip().isdigit():
        return int(text)
    raise LivesegError(f"--eval-images {text!r} is neither a number nor 'all'.")


def rgb(name: str) -> Callable[[str], list[float]]:
    """The parser of option --`name`: three comma-separated numbers (R,G,B), e.g. a normalisation mean."""

    def parse(text: str) -> list[float]:
        try:
            values = [float(x) for x in text.split(",")]
        except ValueError:
            raise LivesegError(
                f"--{name} {text!r} is not three comma-separated numbers, e.g. 0.485,0.456,0.406."
            ) from None
        if len(values) != 3:
            raise LivesegError(f"--{name} needs three values (R,G,B), got {len(values)}.")
        return values

    return parse


@dataclass
class ExportSettings:
    sizes: Sequence[tuple[int, int]] = option(
        "360x480", "Input size(s) HxW, comma-separated, e.g. 360x480,240x320.", parse=parse_sizes, flag="size"
    )
    precisions: Sequence[str] = option(**PRECISION)
    name: str | None = option(None, "Bundle name (default: DATASET-MODEL).")
    version: str = option("1.0.0", "Bundle version written to the manifest.")
    data_root: Path | None = option(None, "Dataset folder for parity, calibration and val mIoU.")
    calib_images: int = option(64, "Training images that calibrate int8.")
    parity_images: int = option(16, "Val images compared against PyTorch.")
    # None: the whole val split; 0: do not measure val mIoU
    eval_images: int | None = option(
        "all", "Val images for each variant's mIoU: N, 'all' or 0.", parse=parse_eval_images
    )
    # check parity on synthetic images instead of the dataset
    no_data: bool = option(
        False, "No dataset at hand: check parity on synthetic street-like images.", decls=("--no-data",)
    )
    # also write each size's logits variant for onnxruntime-web's WebGL backend
    webgl: bool = option(True, "Also write each size's logits variant, which onnxruntime-web's WebGL backend runs.")
    optional: Sequence[str] = ()  # precisions tried without being named: their failure is a warning, not an error


@dataclass
class PullSettings:
    """Where `liveseg.export.pretrained.pull` finds the upstream file, and what it converts it into."""

    location: str | None = option(
        None, "Folder or URL holding the upstream file (a mirror, or offline).", flag="from_", decls=("--from",)
    )
    sizes: Sequence[tuple[int, int]] | None = option(
        None, "Input size(s) HxW, comma-separated (default: the model's).", parse=parse_sizes, flag="size"
    )
    precisions: Sequence[str] | None = option(**TRIED_PRECISION)
    accept_licence: bool = option(
        False, "Accept a licence that restricts use (it is printed first).", decls=("--accept-licence",)
    )
    force: bool = option(
        False, "Download again even if cached (forgets a digest recorded at first use).", decls=("--force",)
    )


@dataclass
class ImportSettings:
    """`liveseg import`: the network file, the bundle's name and classes, and how to read the network."""

    source: Path = option(
        help="ONNX file (normalised float N×3×H×W in, logits out), TFLite segmentation model, or a TF.js layers or "
        "graph model's model.json.",
        argument=True,
    )
    name: str = option(help="Bundle name (letters, digits, '.', '_', '-').")
    classes: str = option(
        help="voc, ade20k, cityscapes, camvid, a comma list of names (background,person) or a JSON file."
    )
    sizes: Sequence[tuple[int, int]] | None = option(
        None, "Input size(s) HxW, comma-separated (default: the model's own, else 384x512).", parse=parse_sizes,
        flag="size",
    )  # fmt: skip
    mean: list[float] | None = option(
        None,
        "Normalisation mean, R,G,B on 0..1 (default: ImageNet's for ONNX; for TFLite the file's metadata, else 0; "
        "0 for TF.js).",
        parse=rgb("mean"),
    )
    std: list[float] | None = option(
        None,
        "Normalisation std, R,G,B on 0..1 (default: ImageNet's for ONNX; for TFLite the file's metadata, else 1; "
        "1/255 for TF.js, which takes pixel values 0..255 as tf.browser.fromPixels gives them).",
        parse=rgb("std"),
    )
    layout: str = option("nchw", "Logits layout of an ONNX file.", choices=("nchw", "nhwc"), case_sensitive=False)
    output: str | None = option(None, "The logits output's name, of an ONNX file or TF.js graph (default: the first).")
    precisions: Sequence[str] | None = option(**TRIED_PRECISION)
    out: Path | None = option(None, "Bundle folder (default: the models folder / NAME).")
    tfjs_venv: Path | None = option(**tfenv.OPTION)
