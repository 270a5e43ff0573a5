"""Effect models: image-to-image ONNX networks (style transfer) that the web app runs on the segmented classes.

`liveseg pull` installs one per folder of `paths.models_dir()/effects/`: the ONNX file under a content-addressed
name and `effect.json` describing it. The server lists them (`/api/effects`) and serves only those files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from liveseg import atomic, paths
from liveseg.errors import LivesegError

EFFECT_FILE = "effect.json"


@dataclass(frozen=True)
class Effect:
    name: str
    file: str  # inside the effect's folder; carries the first 8 hex digits of its sha256
    sha256: str
    bytes: int
    scale: int  # the pixel range the network takes and returns: 1 (0..1) or 255 (0..255)
    license: str
    origin: str

    def dump(self, folder: Path) -> None:
        atomic.write_text(folder / EFFECT_FILE, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Effect:
        try:
            effect = cls(**json.loads((folder / EFFECT_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise LivesegError(f"{folder / EFFECT_FILE} is unreadable ({exc}); pull the effect again.") from None
        if Path(effect.file).name != effect.file or effect.scale not in (1, 255):
            raise LivesegError(f"{folder / EFFECT_FILE} is malformed; pull the effect again.")
        return effect


def effects_dir() -> Path:
    return paths.models_dir() / "effects"


def installed_effects() -> list[tuple[Path, Effect]]:
    """(folder, effect) of every installed effect model, by name."""
    root = effects_dir()
    folders = sorted(p for p in root.iterdir() if (p / EFFECT_FILE).is_file()) if root.is_dir() else []
    return [(folder, Effect.load(folder)) for folder in folders]
