"""Where benchmark results live: one JSON file per `liveseg bench` command in the results folder, written and read
here for the report and the commands alike."""

from __future__ import annotations

import json
from pathlib import Path

from liveseg import atomic

PYTHON_JSON = "python.json"
BROWSER_JSON = "browser.json"
SOAK_JSON = "soak.json"
PERSON_JSON = "person.json"
TEMPORAL_JSON = "temporal.json"
RESULT_FILES = {
    "python": PYTHON_JSON,
    "browser": BROWSER_JSON,
    "soak": SOAK_JSON,
    "person": PERSON_JSON,
    "temporal": TEMPORAL_JSON,
}


def save_json(path: Path, data: dict) -> None:
    atomic.write_text(path, json.dumps(data, indent=1, allow_nan=True) + "\n")


def load_results(out: Path) -> dict:
    results = {}
    for key, name in RESULT_FILES.items():
        if (out / name).is_file():
            results[key] = json.loads((out / name).read_text())
    return results
