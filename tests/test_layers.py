"""Imports flow one way, down the layers that docs/ARCHITECTURE.md states: every `import` of a liveseg module
(inside functions too) is parsed and must name a lower layer, or the importer's own component."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first; a module may import from its own component and from earlier layers only, never from a sibling
# component of its own layer. The top-level modules (errors, atomic, paths, sources, limits, images, extras,
# settings) form "core".
LAYERS = (
    ("core",),
    ("data", "runtime"),
    ("models",),
    ("evaluate",),
    ("train",),
    ("export",),
    ("bench", "serve"),
    ("cli",),
    ("__main__",),  # `python -m liveseg`
)

# (importer, imported) component pairs that break the order on purpose, with the reason.
ALLOWED = {
    ("core", "runtime"): "`liveseg.load` and `liveseg.Segmenter` re-export the runtime lazily (liveseg/__init__.py)",
    ("runtime", "export"): "open_bundle(NAME) of a registered but unpulled model names its pull command, read "
    "lazily from the torch-free pretrained registry (which imports no runtime module when loaded)",
}


def _component(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"  # the package itself: __version__ and the lazy facade
    if (SRC / "liveseg" / parts[1]).is_dir() or parts[1] == "__main__":
        return parts[1]
    return "core"


def _rank(component: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if component in layer)


def _imports(path: Path) -> set[str]:
    """Every liveseg module `path` imports; `from liveseg import atomic` names liveseg.atomic."""
    module = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "liveseg" or name.startswith("liveseg.")}


def _modules() -> list[Path]:
    return sorted(p for p in (SRC / "liveseg").rglob("*.py") if "static" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_flow_down(path: Path) -> None:
    importer = _component(".".join(path.relative_to(SRC).with_suffix("").parts))
    wrong = []
    for name in sorted(_imports(path)):
        imported = _component(name)
        if imported == importer or (importer, imported) in ALLOWED:
            continue
        if _rank(imported) >= _rank(importer):
            wrong.append(f"{name} ({imported}, layer {_rank(imported)})")
    assert not wrong, f"{path.name} ({importer}, layer {_rank(importer)}) imports upward or sideways: {wrong}"


def test_every_component_has_a_layer() -> None:
    components = {_component(".".join(p.relative_to(SRC).with_suffix("").parts)) for p in _modules()}
    assert components == {c for layer in LAYERS for c in layer}
