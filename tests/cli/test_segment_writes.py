"""What `liveseg segment` writes: nothing half-written when the disk is full (an injected ENOSPC stops the run in one
sentence), and videos as a player shows their input (rotation, each frame's timing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

# The first file is written, then the disk is "full": every later write fails as a real ENOSPC would.
DISK_FULL = """
import errno, pathlib, sys
real_write = pathlib.Path.write_bytes
writes = []
def write_bytes(self, data):
    writes.append(self)
    if len(writes) > 1:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))
    return real_write(self, data)
pathlib.Path.write_bytes = write_bytes
from liveseg.cli import main
sys.argv = ["liveseg", *sys.argv[1:]]
main()
"""


def test_a_full_disk_is_one_sentence_and_leaves_nothing_half_written(street: Path, tmp_path: Path) -> None:
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    for name in ("a", "b", "c"):
        shutil.copy(street, photos / f"{name}{street.suffix}")
    args = ["segment", str(photos), "--out", str(out), "--save", "labels", "--threads", "1"]
    env = {**os.environ, "COLUMNS": "400"}
    proc = subprocess.run([sys.executable, "-c", DISK_FULL, *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    error = " ".join(proc.stderr.split("error: ")[-1].split())  # after the progress bar as it stood
    assert error.startswith(f"Writing into {out} failed (No space left on device);") and error.endswith("again.")
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]  # no temporaries, no partial file
    assert np.asarray(Image.open(out / "a.png")).shape == Image.open(street).size[::-1]


def test_a_phone_video_comes_out_upright_with_its_own_timing(cli, sideways_video, tmp_path: Path) -> None:
    import av

    video = sideways_video(tmp_path / "phone.mp4")
    proc = cli("segment", video, "--out", tmp_path / "out", "--save", "overlay", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    with av.open(str(tmp_path / "out" / "phone.overlay.mp4")) as container:
        frames = list(container.decode(video=0))
    assert {(f.width, f.height) for f in frames} == {(32, 64)}  # portrait, as the phone showed it
    times = [round(float(f.pts * f.time_base) * 1000) for f in frames]
    assert times == [0, 33, 100, 500, 533]  # the 400 ms stall kept, not flattened to 1/30 s steps
