"""What `liveseg data fetch` and `liveseg data info` are asked, declared once for the commands and the library
(`base.fetch_dataset`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from liveseg.settings import option


@dataclass
class FetchSettings:
    name: str = option(help="Dataset to download (see `liveseg data list`).", argument=True)
    location: str | None = option(
        None, "Folder or URL holding the dataset's SHA256SUMS (overrides LIVESEG_MIRROR).", decls=("--from",)
    )
    dest: Path | None = option(None, "Where to place it (default: the liveseg data dir / NAME).")


@dataclass
class InfoSettings:
    name: str = option(help="Dataset name (see `liveseg data list`).", argument=True)
    data_root: Path | None = option(None, "The dataset's folder (default: the liveseg data dir / NAME).")
    shares: str | None = option(None, "Also count class pixel shares over this split (reads its labels).")
