"""Commands that need an extra, run from a serve-only install: one sentence naming the extra, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

TRAIN, BENCH = "pip install 'liveseg[train]'", "pip install 'liveseg[bench]'"
VIDEO = "pip install 'liveseg[video]'"


@pytest.mark.parametrize(
    ("args", "needs", "install"),
    [
        (("models",), "`liveseg models` needs the torch package", TRAIN),
        (("train", "--out", "OUT"), "`liveseg train` needs the torch and albumentations packages", TRAIN),
        (("export", "default", "--out", "OUT"), "`liveseg export` needs the torch and onnxscript packages", TRAIN),
        (("eval", "default", "--out", "OUT"), "`liveseg eval` needs the matplotlib package", TRAIN),
        (("eval", "run/best.pt", "--out", "OUT"), "`liveseg eval` needs the matplotlib and torch packages", TRAIN),
        (("bench", "python", "--out", "OUT"), "`liveseg bench python` needs the psutil and matplotlib packages", BENCH),
        (("segment", "VIDEO", "--out", "OUT"), "`liveseg segment` on a video needs the av package", VIDEO),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else None,
)
def test_a_missing_extra_is_named_before_any_work(
    serve_only, one_error, tmp_path: Path, args: tuple[str, ...], needs: str, install: str
) -> None:
    out, video = tmp_path / "out", tmp_path / "clip.mp4"
    video.write_bytes(b"")  # never opened: the check comes first
    proc = serve_only(*({"OUT": str(out), "VIDEO": str(video)}.get(a, a) for a in args))
    assert one_error(proc) == f"error: {needs}, which this install lacks; run {install}, then try again."
    assert not out.exists()  # nothing was written: the check came first
