"""`liveseg bench person`: the bundled person model as camera users meet it, beside MediaPipe running the same
network as it ships.

- Browser: the web app with the person model and "Blur background" on a fake webcam of a portrait, against
  MediaPipe's own selfie segmentation solution (its WASM + WebGL runtime) on the same webcam — the same network
  (`selfie_segmentation.tflite` from the same npm package), each runtime as it ships.
- Python: images per second over real photos, liveseg's onnxruntime bundle against MediaPipe's Python solution on
  the same .tflite (run in its own environment: MediaPipe 0.10.21 needs numpy < 2), one image at a time.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from liveseg.bench.browser import WARMUP_FRAMES, BrowserOptions, BrowserResult, run_browser
from liveseg.bench.machine import Machine
from liveseg.bench.photos import portraits
from liveseg.bench.y4m import portrait_webcam
from liveseg.runtime.bundle import open_bundle
from liveseg.runtime.segmenter import load

MODEL = "person-selfie"
EFFECT = "blur"
CAMERA = (480, 640)  # H, W of the fake webcam: a video call's VGA

# Runs inside MediaPipe's environment: argv = npz of images, the npm .tflite; prints images/s as JSON.
_MEDIAPIPE_TIMING = """
import json, sys, time, numpy as np, mediapipe as mp
from pathlib import Path
modules = Path(mp.__file__).parent / "modules" / "selfie_segmentation"
(modules / "selfie_segmentation.tflite").write_bytes(Path(sys.argv[2]).read_bytes())
images = list(np.load(sys.argv[1]).values())
with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
    seg.process(images[0])
    t0 = time.perf_counter()
    for im in images:
        seg.process(im)
    print(json.dumps({"images_per_s": len(images) / (time.perf_counter() - t0)}))
"""


@dataclass(frozen=True)
class PersonPython:
    """Images per second over the photos, one at a time: liveseg's, and MediaPipe Python's when it ran."""

    images: int
    threads: int
    liveseg_images_per_s: float
    mediapipe_images_per_s: float | None = None
    mediapipe_threads: str | None = None


@dataclass(frozen=True)
class PersonResult:
    """`liveseg bench person`'s person.json; `machine` to `notes` are the suite's."""

    model: str
    python: PersonPython
    browser: BrowserResult | None = None
    machine: Machine | None = None
    command: str | None = None
    notes: list[str] | None = None


@dataclass
class PersonOptions:
    photos: Sequence[Path]  # timed in Python, at their own sizes
    threads: int
    frames: int
    mediapipe_python: Path | None  # a Python with mediapipe==0.10.21, or None to leave that peer out
    npm_package: Path | None  # @mediapipe/selfie_segmentation, for the same .tflite in MediaPipe Python
    browser: bool = True


def run_person(opts: PersonOptions, notes: list[str]) -> PersonResult:
    """Every measurement `opts` asks for; a peer that cannot run is noted and the rest go on."""
    python = python_rates(opts, notes)
    return PersonResult(MODEL, python, browser_rates(opts, notes) if opts.browser else None)


def python_rates(opts: PersonOptions, notes: list[str]) -> PersonPython:
    images = [np.asarray(Image.open(p).convert("RGB")) for p in opts.photos]
    segmenter = load(MODEL, threads=opts.threads)
    segmenter.segment(images[0])
    t0 = time.perf_counter()
    for image in images:
        segmenter.segment(image)
    rates = PersonPython(len(images), opts.threads, len(images) / (time.perf_counter() - t0))
    if opts.mediapipe_python is None or opts.npm_package is None:
        notes.append("MediaPipe Python was not measured: pass --mediapipe-python (a Python with mediapipe==0.10.21).")
        return rates
    with tempfile.TemporaryDirectory(prefix="liveseg-bench-") as tmp:
        np.savez(Path(tmp) / "images.npz", *images)
        proc = subprocess.run(
            [
                str(opts.mediapipe_python),
                "-c",
                _MEDIAPIPE_TIMING,
                str(Path(tmp) / "images.npz"),
                str(opts.npm_package / "selfie_segmentation.tflite"),
            ],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    if proc.returncode != 0:
        notes.append(f"MediaPipe Python failed: {proc.stderr.strip().splitlines()[-1:]}")
        return rates
    return replace(
        rates,
        mediapipe_images_per_s=json.loads(proc.stdout.strip().splitlines()[-1])["images_per_s"],
        mediapipe_threads="its own (the solution API sets no thread count)",
    )


def browser_rates(opts: PersonOptions, notes: list[str]) -> BrowserResult:
    bundle = open_bundle(MODEL)
    with tempfile.TemporaryDirectory(prefix="liveseg-bench-") as tmp:
        webcam = portrait_webcam(portraits()["hopper"], Path(tmp) / "portrait.y4m", size=CAMERA)
        browser_opts = BrowserOptions(
            bundle=bundle,
            precision="fp32",
            size=bundle.manifest.default_size,
            backends=["wasm"],
            threads=opts.threads,
            frames=opts.frames,
            warmup=WARMUP_FRAMES,
            webcam=webcam,
            logits_onnx=None,
            tfjs_model=None,
            mediapipe=True,
            probes=[],
            effect=EFFECT,
            camera=CAMERA,
        )
        return run_browser(browser_opts, notes)
