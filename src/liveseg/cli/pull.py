"""`liveseg pull` (a well-known pretrained model → a bundle) and `liveseg import` (your ONNX, TFLite or TF.js
model → a bundle).

Their options are liveseg.export.settings' PullSettings and ImportSettings."""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from liveseg import atomic, paths
from liveseg.cli.display import download_bars
from liveseg.cli.export import report_result, step_progress
from liveseg.cli.options import check_out_dir, command
from liveseg.errors import LivesegError
from liveseg.export.settings import ExportSettings, ImportSettings, PullSettings, tried_precisions

if TYPE_CHECKING:
    import numpy as np

    from liveseg.export.imported import Network
    from liveseg.export.pretrained import Pretrained

err = Console(stderr=True)


def _is_pulled(entry: Pretrained) -> bool:
    from liveseg.runtime.effects import effects_dir

    folder = effects_dir() if entry.converter == "effect" else paths.models_dir()
    return (folder / entry.name).is_dir()


def _list() -> None:
    """One short block per model, wrapped to the terminal: a table of eight columns is unreadable at 80."""
    from liveseg.export.pretrained import PRETRAINED, describe_classes

    console = Console(highlight=False, markup=False)
    console.print("GFLOPs at the model's input size, a multiply-add counted as 2 FLOPs; sizes are downloads.\n")
    for entry in PRETRAINED.values():
        licence = entry.licence + (" (needs --accept-licence)" if entry.accept_licence else "")
        console.print(
            Text.assemble((entry.name, "bold"), f"  {entry.download}", "  pulled" if _is_pulled(entry) else "")
        )
        lines = [
            f"{describe_classes(entry)}, input {entry.size[0]}x{entry.size[1]}, GFLOPs {entry.gflops}",
            f"upstream: {entry.accuracy}",
            f"licence: {licence}",
        ]
        if entry.source.sha256 is None:
            lines.append("checksum: none published; recorded at first download, once the file passes a format check")
        if entry.notes:
            lines.append(f"note: {entry.notes}")
        for line in lines:
            console.print(textwrap.fill(line, console.width, initial_indent="  ", subsequent_indent="    "))


def _list_json() -> None:
    """The registry for scripts: where each upstream file is, its digest (null: recorded at first download)."""
    from liveseg.export.pretrained import PRETRAINED

    entries = [
        {
            "name": e.name,
            "url": e.url,
            "sha256": e.source.sha256,
            "bytes": e.bytes,
            "licence": e.licence,
            "licence_terms": e.source.license,
            "accept_licence": e.accept_licence,
            "classes": e.classes or None,
            "converter": e.converter,
            "notes": e.notes or None,
            "pulled": _is_pulled(e),
        }
        for e in PRETRAINED.values()
    ]
    sys.stdout.write(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")


def pull_cmd(
    name: Annotated[str | None, typer.Argument(help="Model to pull (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the models that can be pulled, with licences.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print the entries as JSON.")] = False,
    *,
    settings: PullSettings,
) -> None:
    """Download a pretrained model (VOC, ADE20K, Cityscapes, MediaPipe's person models) and turn it into a
    parity-checked bundle.

    The bundle lands in the liveseg models folder: `liveseg serve` lists it, `liveseg segment --model NAME`
    and `liveseg.load("NAME")` open it.
    """
    if list_:
        _list_json() if as_json else _list()
        return
    if name is None:
        raise LivesegError("Name a model to pull, or pass --list to see them.")
    from liveseg.export.pretrained import check_licence, check_requirements, get_pretrained, pull, pull_effect

    entry = get_pretrained(name)
    check_licence(entry, settings.accept_licence)
    check_requirements(entry)
    err.print(f"[bold]{escape(name)}[/]: {escape(entry.source.description)} ({entry.download})", highlight=False)
    err.print(f"licence: {escape(entry.source.license)}", highlight=False)
    err.print(f"source: {escape(entry.source.origin)}", highlight=False)
    if entry.source.sha256 is None:
        err.print("[yellow]No published checksum to pin: the file's sha256 is recorded at first download.[/]")
    check_out_dir(paths.models_dir(), "the models folder")
    atomic.clean_stale(paths.models_dir())
    if entry.converter == "effect":
        from liveseg.runtime.effects import effects_dir

        with download_bars() as progress, _installing(name, effects_dir()):
            folder = pull_effect(name, location=settings.location, progress=progress, force=settings.force)
        err.print(f"Effect model installed in {escape(str(folder))}; `liveseg serve` offers it among the effects.")
        return
    with step_progress() as progress, _installing(name, paths.models_dir()):
        result = pull(name, settings, progress)
    report_result(result)


@contextmanager
def _installing(name: str, folder: Path) -> Iterator[None]:
    """An OSError escaping a pull is a failed write (a failed download is already a sentence of its own): a full
    disk ends in one sentence. The bundle is written into a temporary folder that replaces the installed one only
    when complete (`liveseg.atomic.directory`), so the failure leaves nothing half-installed."""
    try:
        yield
    except OSError as exc:
        raise LivesegError(
            f"Installing {name} into {folder} failed ({exc.strerror or exc}); nothing was "
            "installed or changed; free some space, then pull again."
        ) from None


def _classes(spec: str) -> tuple[str, list[str], list[list[int]]]:
    """(dataset name, class names, colours) of a dataset name, a comma list of class names (colours from a
    fixed palette) or a JSON file listing {"name", "color"} objects."""
    from liveseg.data import get_info, list_datasets

    if "," in spec and not spec.lower().endswith(".json"):
        names = [n.strip() for n in spec.split(",")]
        if any(not n for n in names):
            raise LivesegError(f"--classes {spec!r} has an empty class name; list names like background,person.")
        return "custom", names, [list(c) for c in _palette(len(names))]
    if not spec.lower().endswith(".json"):
        if spec not in list_datasets() or spec == "folder":
            raise LivesegError(
                f"--classes {spec!r} is neither a dataset (voc, ade20k, cityscapes, camvid) nor a .json file."
            )
        info = get_info(spec)
        return spec, list(info.classes), [list(c) for c in info.palette]
    try:
        entries = json.loads(Path(spec).read_text(encoding="utf-8"))
        names = [str(e["name"]) for e in entries]
        colors = [[int(x) for x in e["color"]] for e in entries]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise LivesegError(
            f'--classes {spec} is not a JSON list of {{"name": str, "color": [r, g, b]}} objects ({exc}).'
        ) from None
    if not names or any(len(c) != 3 or not all(0 <= x <= 255 for x in c) for c in colors):
        raise LivesegError(f"--classes {spec} needs at least one class, each colour three values 0..255.")
    return "custom", names, colors


def _palette(n: int) -> list[tuple[int, int, int]]:
    """`n` distinct colours: black for the first class (usually the background), then hues around the wheel."""
    import colorsys

    hues = [colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.75, 1.0) for i in range(n - 1)]
    return [(0, 0, 0), *((round(255 * r), round(255 * g), round(255 * b)) for r, g, b in hues)]


def import_cmd(settings: ImportSettings) -> None:
    """Turn your own ONNX, TFLite or TF.js segmentation network into a parity-checked bundle with in-graph pre- and
    post-processing. A TFLite model ending in a single-channel sigmoid becomes two classes (background, foreground);
    a TF.js model is converted in the TensorFlow conversion environment and checked against TF.js itself."""
    from liveseg.runtime.manifest import check_name

    s, source = settings, settings.source
    check_name(s.name, "pass --name")
    if not source.is_file():
        raise LivesegError(f"{source} is not a file; pass an .onnx, .tflite or TF.js model.json file.")
    dataset, names, colors = _classes(s.classes)
    target = check_out_dir(s.out or paths.models_dir() / s.name)
    from liveseg.export.imported import import_bundle
    from liveseg.export.writer import BundleMeta

    with tempfile.TemporaryDirectory(prefix="liveseg-import-") as tmp:
        network, original, kind = _network(s, Path(tmp), len(names))
        sizes = s.sizes or [network.fixed_size or (384, 512)]
        meta = BundleMeta(
            name=s.name,
            model={"name": "onnx", "kwargs": {}},
            dataset=dataset,
            classes=names,
            palette=colors,
            ignore_index=255,
            normalization={"mean": list(network.mean), "std": list(network.std)},
            source={"imported": source.name, "format": kind, "layout": network.layout},
        )
        precisions, optional = tried_precisions(s.precisions)
        export = ExportSettings(sizes=sizes, precisions=precisions, optional=optional, name=s.name, no_data=True)
        atomic.clean_stale(target.parent)
        with step_progress() as progress:
            result = import_bundle(network, target, export, meta, progress, original)
    report_result(result)


def _network(
    s: ImportSettings, work: Path, classes: int
) -> tuple[Network, Callable[[np.ndarray], np.ndarray] | None, str]:
    """(the network, its parity reference when that is not the network itself, the source format) of
    `s.source`, by its suffix; a normalisation not given is the format's default."""
    from liveseg.export.imported import load_network, load_tflite

    source = s.source
    suffix = source.suffix.lower()
    if suffix == ".tflite":  # unless given, the normalisation is the file's metadata's, else RGB on 0..1
        network, converted = load_tflite(source, s.mean, s.std)
        if converted.foreground and classes != 2:
            raise LivesegError(
                f"{source} outputs one foreground probability, which becomes two classes; pass two --classes, "
                "e.g. background,person."
            )
        return network, None, "tflite"
    if suffix == ".json":
        from liveseg import tfenv
        from liveseg.export import tfjs

        kind = tfjs.read(source)["format"]
        venv = tfenv.require(tfenv.location(s.tfjs_venv), f"Importing the TF.js model {source}")
        mean, std = s.mean or tfjs.PIXELS[0], s.std or tfjs.PIXELS[1]
        network = tfjs.load(source, venv, work, mean, std, s.output)
        return network, tfjs.reference(source, venv, mean, std, s.output), f"tfjs-{kind}"
    from liveseg.data import NORMALIZATION

    mean, std = s.mean or list(NORMALIZATION["mean"]), s.std or list(NORMALIZATION["std"])
    return load_network(source, mean, std, s.layout.lower(), s.output), None, "onnx"


def register(app: typer.Typer) -> None:
    app.command("pull")(command(pull_cmd))
    app.command("import")(command(import_cmd))
