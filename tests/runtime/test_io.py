"""Video input and output keep what a player shows: a phone's rotation and each frame's own timing."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from liveseg.errors import LivesegError
from liveseg.runtime.io import read_video, read_video_timed, write_videos

TIMES = [Fraction(0), Fraction(33, 1000), Fraction(100, 1000), Fraction(500, 1000), Fraction(533, 1000)]


def frame_times(path: Path) -> list[Fraction]:
    with av.open(str(path)) as container:
        return [frame.pts * frame.time_base for frame in container.decode(video=0)]


def same_times(times: list[Fraction | None], expected: list[Fraction]) -> bool:
    """Equal to the millisecond: MP4 stores them in its own time base (1/16000 s for this input)."""
    return len(times) == len(expected) and all(
        abs(t - e) < Fraction(1, 1000) for t, e in zip(times, expected, strict=True)
    )


def _red_corner(rgb: np.ndarray) -> str:
    h, w = rgb.shape[0] // 2, rgb.shape[1] // 2
    quarters = {
        "top-left": rgb[:h, :w],
        "top-right": rgb[:h, w:],
        "bottom-left": rgb[h:, :w],
        "bottom-right": rgb[h:, w:],
    }
    return max(quarters, key=lambda name: quarters[name][..., 0].mean())


@pytest.mark.parametrize(("rotation", "corner"), [(-90, "top-right"), (90, "bottom-left"), (180, "bottom-right")])
def test_frames_are_read_upright_with_their_own_times(
    sideways_video, tmp_path: Path, rotation: int, corner: str
) -> None:
    frames = list(read_video_timed(sideways_video(tmp_path / "phone.mp4", rotation)))
    assert same_times([time for _, time in frames], TIMES)
    rgb = frames[0][0]
    assert rgb.shape == ((32, 64, 3) if rotation == 180 else (64, 32, 3))  # a quarter turn swaps the sides
    assert _red_corner(rgb) == corner  # turned as a player shows it (FFmpeg's autorotate)


def test_written_videos_keep_uneven_timing(sideways_video, tmp_path: Path) -> None:
    frames = list(read_video_timed(sideways_video(tmp_path / "phone.mp4")))
    out = tmp_path / "out.mp4"
    assert write_videos([out], ([rgb] for rgb, _ in frames), Fraction(30), [time for _, time in frames]) == 5
    assert same_times(frame_times(out), TIMES)
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height, frame.rotation) == (32, 64, 0)  # upright pixels, no matrix to apply
    evenly = tmp_path / "even.mp4"
    write_videos([evenly], ([rgb] for rgb, _ in frames), Fraction(30))  # no times: 1/fps steps, as before
    assert same_times(frame_times(evenly), [Fraction(i, 30) for i in range(5)])


def test_without_pyav_videos_name_the_video_extra(monkeypatch, tmp_path: Path) -> None:
    from liveseg import extras

    monkeypatch.setattr(extras, "_importable", lambda module: module != "av")
    with pytest.raises(LivesegError, match=r"needs the av package.*pip install 'liveseg\[video\]'"):
        next(read_video(tmp_path / "clip.mp4"))
