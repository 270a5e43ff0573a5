"""Well-known pretrained models, one entry each: where the upstream file is, what it predicts, how to convert it.

`pull(name)` downloads the upstream file through `liveseg.sources` (pinned sha256, licence, resume, mirror and
`--from` overrides) and turns it into a bundle in `paths.models_dir()/<name>`, parity-checked like every
bundle: torchvision state dicts load into liveseg's own copy of the architecture (`liveseg.models`, same
parameter names) and export through PyTorch; ONNX files (e.g. Hugging Face exports) are imported unchanged
between liveseg's in-graph pre- and post-processing (`liveseg.export.imported`); TFLite files (MediaPipe's
hosted segmentation models) are converted to ONNX first (`liveseg.export.tflite`), without PyTorch, fed the
normalisation their metadata gives.

Adding a model is one `register_pretrained(...)` with its `Source`. The registry itself imports neither PyTorch
nor onnx, so that `liveseg pull --list` works from any install.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from liveseg import extras, paths, sources
from liveseg.data import NORMALIZATION, get_info
from liveseg.errors import LivesegError
from liveseg.export.mediapipe import CLASS_LISTS, HAIR_DATASET, MULTICLASS_DATASET, PERSON_DATASET, UNIT_RANGE
from liveseg.progress import QUIET, Progress
from liveseg.registry import Registry
from liveseg.sources import Source, register_source

if TYPE_CHECKING:
    from liveseg.export.settings import ExportSettings, PullSettings
    from liveseg.export.tflite import Converted
    from liveseg.export.variants import ExportResult
    from liveseg.export.writer import BundleMeta
    from liveseg.runtime.manifest import Manifest, SourceInfo

Converter = Literal["torchvision", "onnx", "tflite", "effect"]
# Converters that need a library a serve-only install lacks: the extra that installs it and the module they import.
REQUIRES: dict[Converter, tuple[str, str]] = {"torchvision": ("train", "torch")}


@dataclass(frozen=True)
class Pretrained:
    """A pullable model: its upstream file (`source`), the dataset whose classes it predicts, how to convert it."""

    name: str  # the bundle's name, as `liveseg segment --model NAME` and the web app show it
    source: Source
    classes: str  # a liveseg dataset name or a key of `mediapipe.CLASS_LISTS`: its class names and palette
    converter: Converter
    size: tuple[int, int]  # default input size of the bundle (height, width)
    accuracy: str  # as the upstream reports it; not measured here
    citation: str
    licence: str  # its short name; the source carries the full terms
    # At `size`, counting a multiply-add as 2 FLOPs like every liveseg figure: measured for the architectures
    # liveseg has, else scaled from the paper (doubled where the paper counts a multiply-add as one, as mmcv does).
    gflops: str
    model: str = ""  # liveseg architecture the weights load into (torchvision converter)
    scale: int = 1  # effect models: the pixel range they take and return (1 or 255)
    # The input normalisation on 0..1 RGB; a TFLite file's own metadata, when it has some, takes precedence.
    mean: Sequence[float] = NORMALIZATION["mean"]
    std: Sequence[float] = NORMALIZATION["std"]
    accept_licence: bool = False  # the licence restricts use: `pull` needs --accept-licence
    bytes: int | None = None  # the upstream file's size as its host lists it; None: not published
    notes: str = ""  # what a user must know to use it (shown by `pull --list`, kept in the manifest and card)

    @property
    def url(self) -> str:
        """Where the upstream file is downloaded from, unless `--from` or a mirror says otherwise."""
        return f"{self.source.url}/{self.source.filename}"

    @property
    def download(self) -> str:
        """The upstream file's size for people, e.g. "13.1 MB"."""
        return f"{self.bytes / 1e6:.1f} MB" if self.bytes else "size not published"


PRETRAINED: Registry[Pretrained] = Registry("pretrained model", "`liveseg pull --list` shows them: ")


def register_pretrained(entry: Pretrained) -> Pretrained:
    register_source(entry.source)
    return PRETRAINED.add(entry.name, entry)


def get_pretrained(name: str) -> Pretrained:
    return PRETRAINED.lookup(name)


_TORCHVISION_LICENCE = (
    "BSD-3-Clause (torchvision). Trained on the COCO train2017 images of the 20 Pascal VOC categories; "
    "COCO annotations are CC BY 4.0, the images carry their Flickr terms."
)
_SEGFORMER_LICENCE = (
    "NVIDIA Source Code License for SegFormer: non-commercial use only (research or evaluation); "
    "https://github.com/NVlabs/SegFormer/blob/master/LICENSE"
)
_SEGFORMER_CITATION = (
    "Xie et al., SegFormer: Simple and Efficient Design for Semantic Segmentation with Transformers, NeurIPS 2021"
)
_MOBILENETV3_CITATION = "Howard et al., Searching for MobileNetV3, ICCV 2019"


def _torchvision_voc(
    model: str, digest: str, size: int, description: str, gflops: str, accuracy: str, citation: str
) -> Pretrained:
    """A torchvision segmentation model with its COCO-with-VOC-labels weights (file named `MODEL-<sha8>.pth`)."""
    return Pretrained(
        name=f"voc-{model.split('_')[0]}-mobilenetv3",
        source=Source(
            name=f"torchvision-{model.replace('_', '-')}",
            kind="file",
            filename=f"{model}-{digest[:8]}.pth",
            sha256=digest,
            license=_TORCHVISION_LICENCE,
            origin=f"https://pytorch.org/vision/stable/models/generated/torchvision.models.segmentation.{model}.html",
            url="https://download.pytorch.org/models",
            description=description,
        ),
        classes="voc",
        converter="torchvision",
        model=model,
        size=(384, 512),
        gflops=gflops,
        accuracy=f"COCO val2017 (VOC labels) {accuracy} (torchvision, at 520)",
        citation=citation,
        licence="BSD-3-Clause",
        bytes=size,
    )


register_pretrained(
    _torchvision_voc(
        "lraspp_mobilenet_v3_large",
        "d234d4eae9d55d5f76de18b77cf0dc62c66fe5c5482758209d00f950c92bb280",
        13_097_061,
        "LR-ASPP MobileNetV3-Large, COCO with VOC labels",
        gflops="2.96",
        accuracy="mIoU 57.9, pixel accuracy 91.2",
        citation=_MOBILENETV3_CITATION,
    )
)
register_pretrained(
    _torchvision_voc(
        "deeplabv3_mobilenet_v3_large",
        "fc3c493d68e89cc31ef488c803d5d7dd2f3190fb570598faa49fef69be8e5e70",
        44_356_159,
        "DeepLabV3 MobileNetV3-Large, COCO with VOC labels",
        gflops="14.74",
        accuracy="mIoU 60.3, pixel accuracy 91.2",
        citation="Chen et al., Rethinking Atrous Convolution for Semantic Image Segmentation, 2017; "
        + _MOBILENETV3_CITATION,
    )
)


def _segformer_b0(dataset: str, finetuned: str, digest: str | None, url: str, **entry) -> Pretrained:
    """SegFormer-B0 as Xenova's ONNX export of NVIDIA's checkpoint `segformer-b0-finetuned-<finetuned>`."""
    return Pretrained(
        name=f"{dataset}-segformer-b0",
        source=Source(
            name=f"segformer-b0-{dataset}-onnx",
            kind="file",
            filename="model.onnx",
            sha256=digest,
            license=_SEGFORMER_LICENCE,
            origin=f"https://huggingface.co/nvidia/segformer-b0-finetuned-{finetuned} (ONNX export by Xenova)",
            url=url,
            description=entry.pop("description"),
        ),
        classes=dataset,
        converter="onnx",
        citation=_SEGFORMER_CITATION,
        licence="NVIDIA SegFormer licence, non-commercial",
        accept_licence=True,
        **entry,
    )


register_pretrained(
    _segformer_b0(
        "ade20k",
        "ade-512-512",
        "3e5c18a4be395f16646438d54c42377ddc202edfa33d5eced0c9506de75c44c2",
        "https://huggingface.co/Xenova/segformer-b0-finetuned-ade-512-512/resolve/d3e5499fa8701ff0453ca940a8dfeae39b2f1504/onnx",
        description="SegFormer-B0 fine-tuned on ADE20K at 512x512, ONNX",
        bytes=15_335_446,
        size=(384, 512),
        gflops="≈12.6 (paper's 8.4 at 512x512, doubled and scaled)",
        accuracy="ADE20K val mIoU 37.4 (paper, at 512x512)",
    )
)
register_pretrained(
    _segformer_b0(
        "cityscapes",
        "cityscapes-1024-1024",
        # The checkpoint the paper's figure belongs to; the 768x768 one's digest is published nowhere.
        "142427caa45a47d57d5bd23b62c3bfc852fa7df0c6c2291c5ef34f581fa406bf",
        "https://huggingface.co/Xenova/segformer-b0-finetuned-cityscapes-1024-1024/resolve/64e537ca2bf6bf2afc13727ee6bb61cfca9e1048/onnx",
        description="SegFormer-B0 fine-tuned on Cityscapes (1024x1024 crops), ONNX",
        size=(384, 768),
        gflops="≈35.3 (paper's 125.5 at 1024x2048, doubled and scaled)",
        accuracy="Cityscapes val mIoU 76.2 (paper, B0 trained on 1024x1024 crops: this checkpoint)",
    )
)

_STYLE_LICENCE = (
    "BSD-3-Clause (pytorch/examples fast_neural_style, Johnson et al. 2016), converted to ONNX by the ONNX Model "
    "Zoo (Apache-2.0)"
)
# The ONNX Model Zoo left GitHub LFS in 2025 for one Hugging Face repository per model: its commit, the file's sha256.
_STYLES = {
    "udnie-9": (
        "ab74109f694dc8117f5e39a8571ac53bf83618f6",
        "8656b6ce7dec8f22ee13c2d557d6b67bd6f550dde88d0f2e7c9972aeb765cc0d",
    ),
    "pointilism-9": (
        "d9c3c80c36d238db4155f3029f996ce62b3c101f",
        "5ee2b8d4d6bc60a777f54e0fe96a1b717360a004b79d56c67390d4a975b14d98",
    ),
    "candy-9": (
        "f24fcf558bd4564360f41cf3b5321975a33f962f",
        "9d11a3529d1e547da6ae07201d93484dbab2ec0a3614535752c8f40f0fe2968a",
    ),
    "mosaic-9": (
        "9a267ba8540fba8fb12bc78f3770e0fd9c923c56",
        "fa646dedade881243f8d5a2ceb7de2b93675b21fc24f7482894ac4851a9a0a47",
    ),
    "rain-princess-9": (
        "205625e4c00565b6c0946814de6165116b271e58",
        "4162912e6f75fedef6f810ae989b9e10d3d5d43308dab34b027c850cf255e152",
    ),
}
for _style, (_revision, _digest) in _STYLES.items():
    register_pretrained(
        Pretrained(
            name=f"style-{_style.rsplit('-', 1)[0]}",
            source=Source(
                name=f"fast-neural-style-{_style}",
                kind="file",
                filename=f"{_style}.onnx",
                sha256=_digest,
                license=_STYLE_LICENCE,
                origin=f"https://huggingface.co/onnxmodelzoo/{_style}",
                url=f"https://huggingface.co/onnxmodelzoo/{_style}/resolve/{_revision}",
                description=f"fast neural style transfer '{_style.rsplit('-', 1)[0]}' (effect model)",
            ),
            classes="",
            converter="effect",
            size=(224, 224),
            accuracy="- (an effect: no classes)",
            citation="Johnson et al., Perceptual Losses for Real-Time Style Transfer and Super-Resolution, ECCV 2016",
            licence="BSD-3-Clause",
            gflops="≈15.5",
            scale=255,
            bytes=6_728_029,
        )
    )


_MEDIAPIPE_MODELS = "https://storage.googleapis.com/mediapipe-models/image_segmenter"
_MEDIAPIPE_ORIGIN = "https://ai.google.dev/edge/mediapipe/solutions/vision/image_segmenter#models"
_MEDIAPIPE_LICENCE = "Apache-2.0 (MediaPipe's model cards); https://www.apache.org/licenses/LICENSE-2.0"


def _mediapipe(model: str, precision: str, digest: str | None, description: str, **entry) -> Pretrained:
    """A MediaPipe ImageSegmenter model as Google hosts it: version 1 of `model` at `precision` (a versioned path,
    never `latest`, which moves). The TFLite file converts without PyTorch."""
    return Pretrained(
        name=f"mediapipe-{model.removesuffix('_256x256').replace('_', '-')}",
        source=Source(
            name=f"mediapipe-{model}-{precision}-v1",
            kind="file",
            filename=f"{model}.tflite",
            sha256=digest,
            license=_MEDIAPIPE_LICENCE,
            origin=_MEDIAPIPE_ORIGIN,
            url=f"{_MEDIAPIPE_MODELS}/{model}/{precision}/1",
            description=description,
        ),
        converter="tflite",
        licence="Apache-2.0",
        gflops="unknown until pulled (then measured into the manifest)",
        accuracy="not stated here (see MediaPipe's model card)",
        **entry,
    )


_FOREGROUND_NOTE = (
    "A foreground model for selfie and video-call scenes: it marks what dominates the foreground close to the "
    "camera (a pet or an object held to the lens too) and misses people far away."
)
register_pretrained(
    _mediapipe(
        "selfie_segmenter",
        "float16",
        "191ac9529ae506ee0beefa6b2c945a172dab9d07d1e802a290a4e4038226658b",
        "MediaPipe selfie segmenter (square, 256x256), fp16 weights, TFLite",
        classes=PERSON_DATASET,
        size=(256, 256),
        citation="Google MediaPipe, Selfie Segmentation model card",
        mean=UNIT_RANGE["mean"],
        std=UNIT_RANGE["std"],
        bytes=249_537,
        notes=_FOREGROUND_NOTE + " One sigmoid output: person where p > 0.5.",
    )
)
register_pretrained(
    _mediapipe(
        "deeplab_v3",
        "float32",
        "ff36e24d40547fe9e645e2f4e8745d1876d6e38b332d39a82f0bf0f5d1d561b3",
        "MediaPipe DeepLab v3 (Pascal VOC, 21 classes, 257x257), TFLite",
        classes="voc",
        size=(257, 257),
        citation="Chen et al., Rethinking Atrous Convolution for Semantic Image Segmentation, 2017",
        mean=(0.5, 0.5, 0.5),  # -1..1
        std=(0.5, 0.5, 0.5),
        bytes=2_780_176,
        notes="Pascal VOC's 20 object classes and background; input normalised to -1..1.",
    )
)
register_pretrained(
    _mediapipe(
        "selfie_multiclass_256x256",
        "float32",
        "c6748b1253a99067ef71f7e26ca71096cd449baefa8f101900ea23016507e0e0",
        "MediaPipe selfie multiclass segmenter (6 classes, 256x256), TFLite",
        classes=MULTICLASS_DATASET,
        size=(256, 256),
        citation="Google MediaPipe, Selfie Multiclass Segmentation model card",
        mean=UNIT_RANGE["mean"],
        std=UNIT_RANGE["std"],
        bytes=16_371_837,
        notes="People close to the camera, split into hair, body skin, face skin, clothes and others (accessories).",
    )
)
register_pretrained(
    _mediapipe(
        "hair_segmenter",
        "float32",
        "2628cf3ce5f695f604cbea2841e00befcaa3624bf80caf3664bef2656d59bf84",
        "MediaPipe hair segmenter (hair vs background, 512x512), TFLite",
        classes=HAIR_DATASET,
        size=(512, 512),
        citation="Google MediaPipe, Hair Segmentation model card",
        mean=UNIT_RANGE["mean"],
        std=UNIT_RANGE["std"],
        bytes=781_618,
        notes="Its input has a 4th channel, the previous frame's hair mask; liveseg feeds it zeros (every frame is "
        "segmented on its own), so the steadiness MediaPipe gets from that feedback is absent.",
    )
)


def class_list(dataset: str) -> tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]]:
    """(class names, colours) of an entry's `classes`: MediaPipe's lists, else a liveseg dataset's."""
    if dataset in CLASS_LISTS:
        return CLASS_LISTS[dataset]
    info = get_info(dataset)
    return info.classes, info.palette


def describe_classes(entry: Pretrained) -> str:
    """The entry's classes for people: named when they are few, else the dataset and how many."""
    if not entry.classes:
        return "effect (no classes)"
    names = class_list(entry.classes)[0]
    return f"classes: {', '.join(names)}" if len(names) <= 6 else f"{entry.classes} classes ({len(names)})"


def pull_command(name: str) -> str | None:
    """The command that installs the segmentation model `name`, if it is registered: what to tell someone who asks
    for it before pulling it (licence acceptance included, since that pull would otherwise be refused)."""
    entry = PRETRAINED.get(name)
    if entry is None or entry.converter == "effect":
        return None
    return f"liveseg pull {name}" + (" --accept-licence" if entry.accept_licence else "")


def check_licence(entry: Pretrained, accepted: bool) -> None:
    """A licence that restricts use must be accepted explicitly, before anything is downloaded."""
    if entry.accept_licence and not accepted:
        raise LivesegError(
            f"{entry.name} is under a licence that restricts its use ({entry.source.license}); read it, then pull "
            "again with --accept-licence."
        )


def check_requirements(entry: Pretrained) -> None:
    """A converter's library that this install lacks is named with its extra, before anything is downloaded."""
    if entry.converter in REQUIRES:
        extra, module = REQUIRES[entry.converter]
        extras.require(extra, module, what=f"Converting {entry.name}")


def pull(name: str, settings: PullSettings | None = None, progress: Progress | None = None) -> ExportResult:
    """Download `name`'s upstream file (verified, cached; `settings.force`: downloaded again) and write its bundle
    to `paths.models_dir()/name`."""
    from liveseg.export.settings import ExportSettings, PullSettings, tried_precisions

    s = settings or PullSettings()
    entry = get_pretrained(name)
    check_licence(entry, s.accept_licence)
    check_requirements(entry)
    if entry.converter == "effect":
        raise LivesegError(
            f"{name} is an effect model, not a segmentation model; install it with pull_effect({name!r})."
        )
    precisions, optional = tried_precisions(s.precisions)
    export = ExportSettings(
        sizes=list(s.sizes or [entry.size]), precisions=precisions, optional=optional, name=name, no_data=True
    )
    file = sources.fetch(entry.source, location=s.location, progress=progress or QUIET, force=s.force)
    out = paths.models_dir() / name
    if entry.converter == "tflite":
        return _convert_tflite(entry, file, out, export, progress)
    meta = _meta(entry)
    if entry.converter == "onnx":
        from liveseg.export.imported import import_bundle, load_network

        return import_bundle(load_network(file, entry.mean, entry.std), out, export, meta, progress)
    return _convert_torchvision(entry, file, out, export, meta, progress)


def _meta(
    entry: Pretrained,
    normalization: tuple[Sequence[float], Sequence[float]] | None = None,
    card: Callable[[Manifest], str] | None = None,
) -> BundleMeta:
    from liveseg.export.writer import BundleMeta

    classes, palette = class_list(entry.classes)
    mean, std = normalization or (entry.mean, entry.std)
    source: SourceInfo = {
        "pulled": entry.source.name,
        "origin": entry.source.origin,
        "license": entry.source.license,
        "citation": entry.citation,
        "accuracy": entry.accuracy,
        "sha256": entry.source.sha256,
    }
    return BundleMeta(
        name=entry.name,
        model={"name": entry.model or entry.converter, "kwargs": {}},
        dataset=entry.classes,
        classes=classes,
        palette=palette,
        ignore_index=255 if entry.classes in CLASS_LISTS else get_info(entry.classes).ignore_index,
        normalization={"mean": list(mean), "std": list(std)},
        source=source | ({"notes": entry.notes} if entry.notes else {}),
        card=card,
    )


def _convert_tflite(
    entry: Pretrained, file: Path, out: Path, settings: ExportSettings, progress: Progress | None
) -> ExportResult:
    """A TFLite file → a bundle, normalised as its metadata says (else as the entry says), with a model card."""
    from liveseg.export.imported import import_bundle, load_tflite

    network, converted = load_tflite(file, default=(entry.mean, entry.std))

    def card(manifest: Manifest) -> str:
        return _tflite_card(entry, converted, (network.mean, network.std), manifest)

    return import_bundle(network, out, settings, _meta(entry, (network.mean, network.std), card), progress)


def _tflite_card(
    entry: Pretrained,
    converted: Converted,
    normalization: tuple[Sequence[float], Sequence[float]],
    manifest: Manifest,
) -> str:
    h, w = converted.size
    params, gflops = manifest.model["params"], manifest.model["gflops"]
    mean, std = (", ".join(f"{v:g}" for v in values) for values in normalization)
    told = "its metadata" if converted.metadata and converted.metadata.mean else "this entry (the file has no metadata)"
    head = (
        "a single sigmoid channel p, turned into the logits (−x/2, x/2): the foreground wins where p > 0.5"
        if converted.foreground
        else "logits per class (a final softmax is dropped: the arg-max is unchanged)"
    )
    extra = (
        f"\n- **Extra input channels**: {converted.extra_channels}, fed zeros (see the notes)."
        if converted.extra_channels
        else ""
    )
    return f"""# {entry.name}

{entry.source.description}. {entry.notes}

- **Source**: {entry.url}, by Google (MediaPipe); {entry.source.origin}.
- **Licence**: {entry.source.license}. The weights are MediaPipe's, unchanged; liveseg converted the graph from
  TFLite to ONNX (`liveseg.export.tflite`) and added its in-graph pre- and post-processing.
- **Network**: {params / 1e6:.2f} M parameters, {gflops:.3f} GFLOPs at {h}x{w} (a multiply-add counts as two FLOPs).
- **Input**: RGB resized to {h}x{w}, normalised as `(pixels / 255 − mean) / std` with mean ({mean}) and
  std ({std}), as {told} says.{extra}
- **Output**: {head}; classes {", ".join(class_list(entry.classes)[0])}.
- **Upstream accuracy**: {entry.accuracy}.
- **Citation**: {entry.citation}.

Pulled with `liveseg pull {entry.name}`; every variant was checked against the converted network in onnxruntime
before it was written.
"""


def _convert_torchvision(
    entry: Pretrained, file: Path, out: Path, settings: ExportSettings, meta: BundleMeta, progress: Progress | None
) -> ExportResult:
    import torch

    from liveseg import models
    from liveseg.export.build import export_network

    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle and zip errors alike: the file is not a state dict
        raise LivesegError(f"{file} is not a readable PyTorch state dict ({exc}); delete it and pull again.") from None
    net = models.create(entry.model, num_classes=len(meta.classes))
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise LivesegError(
            f"{file} does not fit {entry.model} ({first}); it is not the file {entry.name} expects."
        ) from None
    return export_network(net.eval(), meta, out, settings, progress)


def pull_effect(name: str, location: str | None = None, progress: Progress = QUIET, force: bool = False) -> Path:
    """Download an effect model (verified, cached; `force`: downloaded again), check that it maps an image to an
    image, and install it for the web app's effect picker; returns its folder."""
    import onnx

    from liveseg import atomic
    from liveseg.runtime.effects import Effect, effects_dir

    entry = get_pretrained(name)
    if entry.converter != "effect":
        raise LivesegError(f"{name} is a segmentation model, not an effect model.")
    file = sources.fetch(entry.source, location=location, progress=progress, force=force)
    atomic.clean_stale(effects_dir())
    try:
        graph = onnx.load(str(file)).graph
    except Exception as exc:  # protobuf and OS errors alike: the file is unusable
        raise LivesegError(f"{file} is not a readable ONNX file ({exc}); delete it and pull again.") from None
    dims = [len(v.type.tensor_type.shape.dim) for v in (graph.input[0], graph.output[0])]
    if dims != [4, 4]:
        raise LivesegError(f"{file} does not map an image to an image (input and output must be 4-D).")
    digest = sources.sha256_file(file)
    stored = f"model.{digest[:8]}.onnx"
    effect = Effect(name, stored, digest, file.stat().st_size, entry.scale, entry.source.license, entry.source.origin)
    with atomic.directory(effects_dir() / name) as tmp:
        shutil.copyfile(file, tmp / stored)
        effect.dump(tmp)
    return effects_dir() / name
