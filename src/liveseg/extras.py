"""The optional extras of the package and what each provides, so that a command missing one says which to install.

A serve-only install (`pip install liveseg`) lacks them; a command that needs one calls `require` before any work,
and the user reads one sentence instead of a ModuleNotFoundError after minutes of work. `EXTRAS` mirrors
pyproject.toml's optional dependencies (a test compares them).
"""

from __future__ import annotations

import importlib.util

from liveseg.errors import LivesegError

# extra → {distribution liveseg needs from it (pyproject.toml's name): the module it is imported as}; the
# distributions the base install has already (onnx, onnxconverter-common) are not listed.
EXTRAS: dict[str, dict[str, str]] = {
    "train": {
        "torch": "torch",
        "onnxscript": "onnxscript",
        "albumentations": "albumentations",
        "matplotlib": "matplotlib",
    },
    "bench": {"matplotlib": "matplotlib", "scikit-image": "skimage", "psutil": "psutil", "playwright": "playwright"},
    "video": {"av": "av"},
    "ray": {"ray": "ray"},
}


def missing(extra: str, *modules: str) -> list[str]:
    """The `modules` of `extra` (all of its modules when none are named) that this install cannot import."""
    provided = EXTRAS[extra].values()
    unknown = set(modules) - set(provided)
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not modules of the {extra} extra")  # a programming error
    return [m for m in modules or provided if not _importable(m)]


def require(extra: str, *modules: str, what: str) -> None:
    """Raise one sentence naming the extra to install when `what` needs `modules` of `extra` that are missing."""
    if lacking := missing(extra, *modules):
        names = " and ".join(lacking) + (" packages" if len(lacking) > 1 else " package")
        raise LivesegError(
            f"{what} needs the {names}, which this install lacks; run pip install 'liveseg[{extra}]', then try again."
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as absent
        return False
