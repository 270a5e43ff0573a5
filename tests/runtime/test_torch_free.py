"""Inference must work where PyTorch and onnx are not installed: block their import and segment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCKER = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "onnx", "onnxscript", "onnxconverter_common", "albumentations"):
            raise ImportError(f"{name} is blocked: the runtime must not need it")
sys.meta_path.insert(0, _Block())
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + code, *args], capture_output=True, text=True, timeout=120)


def test_load_and_segment_without_torch(bundle_dir: Path, val_pairs) -> None:
    code = """
import liveseg
result = liveseg.load(sys.argv[1]).segment(sys.argv[2])
assert "torch" not in sys.modules and "onnx" not in sys.modules
print(result.labels.shape, len(result.legend))
"""
    proc = _run(code, str(bundle_dir), str(val_pairs[0][0]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("(360, 480)")


def test_segment_command_without_torch(bundle_dir: Path, val_pairs, tmp_path: Path) -> None:
    code = """
from liveseg.cli import main
sys.argv = ["liveseg", *sys.argv[1:]]
main()
"""
    proc = _run(code, "segment", str(val_pairs[0][0]), "--model", str(bundle_dir), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / f"{val_pairs[0][0].stem}.png").is_file()


# Every module docs/ARCHITECTURE.md lists as torch-free (its "Rules" paragraph and the package table).
TORCH_FREE = (
    "liveseg",
    "liveseg.errors",
    "liveseg.atomic",
    "liveseg.paths",
    "liveseg.limits",
    "liveseg.images",
    "liveseg.sources",
    "liveseg.data",
    "liveseg.evaluate.metrics",
    "liveseg.runtime",
    "liveseg.runtime.bundle",
    "liveseg.runtime.manifest",
    "liveseg.runtime.segmenter",
    "liveseg.runtime.result",
    "liveseg.runtime.io",
    "liveseg.runtime.batch",
    "liveseg.runtime.session",
    "liveseg.runtime.effects",
    "liveseg.serve",
    "liveseg.serve.app",
    "liveseg.serve.bundles",
    "liveseg.serve.server",
    "liveseg.cli",
)


def test_every_torch_free_module_imports_without_torch() -> None:
    code = """
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
assert not {"torch", "onnx", "albumentations"} & set(sys.modules), sorted(sys.modules)
print("ok")
"""
    proc = _run(code, *TORCH_FREE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# Importing ONNX and TFLite models needs onnx, not PyTorch: a serve-only install converts and pulls them.
ONNX_IMPORT = (
    "liveseg.export.variants",
    "liveseg.export.writer",
    "liveseg.export.imported",
    "liveseg.export.tflite",
    "liveseg.export.mediapipe",
    "liveseg.export.pretrained",
)


def test_onnx_and_tflite_import_needs_no_torch() -> None:
    code = """
import importlib
sys.meta_path.pop(0)  # onnx allowed; torch stays blocked below
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "albumentations"):
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, _NoTorch())
for name in sys.argv[1:]:
    importlib.import_module(name)
assert "torch" not in sys.modules
print("ok")
"""
    proc = _run(code, *ONNX_IMPORT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
