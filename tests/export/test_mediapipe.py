"""The bundled person models: the set-up step converts the npm package's selfie files into two-class bundles that
segment people in real portraits; agreement with MediaPipe's CPU runtime when a Python MediaPipe is at hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import liveseg
from liveseg import paths
from liveseg.bench.photos import portraits
from liveseg.export.mediapipe import BUNDLED, LICENCE, NPM_PACKAGE, PERSON_CLASSES, build_bundled
from liveseg.runtime.bundle import open_bundle


@pytest.fixture(scope="module")
def package(repo_root: Path) -> Path:
    path = repo_root / "web" / "node_modules" / NPM_PACKAGE
    if not path.is_dir():
        pytest.skip("web/node_modules lacks @mediapipe/selfie_segmentation: run npm ci in web/")
    return path


@pytest.fixture(scope="module")
def built(package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundled")
    for result in build_bundled(package, out):
        assert result.out is not None and not result.failed
    return out


def test_set_up_converts_both_selfie_models(built: Path) -> None:
    for model in BUNDLED:
        bundle = open_bundle(built / model.name)
        manifest = bundle.manifest
        assert [c["name"] for c in manifest.classes] == list(PERSON_CLASSES)
        assert manifest.source["license"] == LICENCE
        assert {v.precision for v in bundle.variants} == {"fp32", "fp16"}
        assert all(v.parity["pixel_agreement"] >= 0.999 for v in bundle.variants)
        assert {onnx.load(str(v.path)).ir_version for v in bundle.all_variants} <= set(range(13 + 1))  # ort-web 1.30
        card = (bundle.root / "MODEL_CARD.md").read_text()
        assert LICENCE in card and model.file in card


@pytest.mark.parametrize("name", [m.name for m in BUNDLED])
def test_person_models_find_the_person_in_portraits(built: Path, name: str) -> None:
    segmenter = liveseg.load(built / name)
    for photo, image in portraits().items():
        share = float((segmenter.segment(image).labels == 1).mean())
        assert 0.4 <= share <= 0.75, (photo, share)  # measured: 0.55-0.58 for both models


def test_set_up_step_has_made_them_from_the_current_files(repo_root: Path, package: Path) -> None:
    """`make serve`'s set-up step (`python hatch_build.py`) has run: running it again converts nothing, since the
    bundled models were made from the npm files and converter sources the checkout holds now; they open by name."""
    proc = subprocess.run(
        [sys.executable, "hatch_build.py"], cwd=repo_root, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert "converting the person models" not in proc.stdout
    for model in BUNDLED:
        assert liveseg.load(model.name).bundle.root == paths.BUNDLED_DIR / model.name


def _mediapipe_python() -> Path | None:
    """A Python with MediaPipe's legacy solutions API (`pip install mediapipe==0.10.21` needs numpy < 2, so it
    lives in its own environment): LIVESEG_MEDIAPIPE_PYTHON, else .venv-mediapipe at the checkout's root."""
    env = os.environ.get("LIVESEG_MEDIAPIPE_PYTHON")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / ".venv-mediapipe" / "bin" / "python"
    return path if path.is_file() else None


MEDIAPIPE_RUN = """
import sys, numpy as np, mediapipe as mp
from pathlib import Path
modules = Path(mp.__file__).parent / "modules" / "selfie_segmentation"
for f in sys.argv[2:4]:  # the npm package's files replace the wheel's own (another release of the weights)
    (modules / Path(f).name).write_bytes(Path(f).read_bytes())
data = np.load(sys.argv[1])
out = {}
for selection in (0, 1):
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=selection) as seg:
        out[f"m{selection}"] = seg.process(data[f"i{selection}"]).segmentation_mask
np.savez(sys.argv[1], **out)
"""


def test_same_probabilities_as_mediapipe_cpu_runtime(built: Path, package: Path, tmp_path: Path) -> None:
    python = _mediapipe_python()
    if python is None:
        pytest.skip("no Python with mediapipe==0.10.21 (set LIVESEG_MEDIAPIPE_PYTHON or make .venv-mediapipe)")
    from PIL import Image

    image = Image.fromarray(portraits()["hopper"])
    sizes = [open_bundle(built / m.name).manifest.default_size for m in BUNDLED]
    # At the network's own size, so that neither runtime resamples: the same input, the same arithmetic.
    inputs = {f"i{i}": np.asarray(image.resize((w, h), Image.BILINEAR)) for i, (h, w) in enumerate(sizes)}
    np.savez(tmp_path / "io.npz", **inputs)
    files = [str(package / m.file) for m in BUNDLED]
    proc = subprocess.run(
        [str(python), "-c", MEDIAPIPE_RUN, str(tmp_path / "io.npz"), *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = np.load(tmp_path / "io.npz")
    for i, model in enumerate(BUNDLED):
        result = liveseg.load(built / model.name).segment(inputs[f"i{i}"])
        p = result.alpha([1]) / 255.0  # the person probability, by the app's own rule
        reference = theirs[f"m{i}"]
        agreement = float(((p > 0.5) == (reference > 0.5)).mean())
        print(
            f"{model.name}: pixel agreement {agreement:.5f}, mean |p - p_mediapipe| {np.abs(p - reference).mean():.5f}"
        )
        assert agreement >= 0.99
        assert np.abs(p - reference).mean() < 0.01
