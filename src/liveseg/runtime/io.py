"""Image and video input/output for the runtime: Pillow for images, PyAV (FFmpeg) for video."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from liveseg import atomic, extras
from liveseg.errors import LivesegError
from liveseg.images import IMAGE_SUFFIXES as IMAGE_SUFFIXES  # the one image reader, re-exported
from liveseg.images import ImageLike as ImageLike
from liveseg.images import read_image as read_image

VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".avi", ".mov", ".mkv", ".m4v"})


def is_video(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize (antialiased when shrinking, as Pillow does) of an HxWxC uint8 image."""
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def resize_nearest(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of a class map, so no new class ids appear at boundaries."""
    if labels.shape[:2] == (height, width):
        return labels
    return np.asarray(Image.fromarray(labels).resize((width, height), Image.Resampling.NEAREST))


@dataclass(frozen=True)
class VideoInfo:
    width: int  # as stored; a rotated video's frames are read upright, its sides swapped
    height: int
    fps: Fraction  # the average rate: the frames' own timestamps may step unevenly
    frames: int  # 0 when the container does not say


def probe_video(path: str | os.PathLike) -> VideoInfo:
    with _open_input(path) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        return VideoInfo(stream.codec_context.width, stream.codec_context.height, Fraction(fps), stream.frames)


def read_video(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Yield the frames of the first video stream as HxWx3 uint8 RGB arrays, upright (see `read_video_timed`)."""
    return (rgb for rgb, _ in read_video_timed(path))


def read_video_timed(path: str | os.PathLike) -> Iterator[tuple[np.ndarray, Fraction | None]]:
    """Yield (frame, its presentation time in seconds, None where the file gives none) for each frame of the first
    video stream. A phone's portrait video is stored sideways with a display matrix: its frames are turned as a
    player shows them, so that the network sees the scene upright and the outputs are upright too."""
    extras.require("video", "av", what=f"Reading the video {path}")
    import av

    with _open_input(path) as container:
        try:
            for frame in container.decode(video=0):
                rgb = frame.to_ndarray(format="rgb24")
                turns = round(getattr(frame, "rotation", 0) / 90)  # counter-clockwise quarter turns (PyAV ≥ 14)
                time = frame.pts * frame.time_base if frame.pts is not None and frame.time_base else None
                yield (np.ascontiguousarray(np.rot90(rgb, turns)) if turns % 4 else rgb), time
        except av.FFmpegError as exc:
            raise LivesegError(f"Video {path} is corrupt ({exc}); replace or remove it.") from None


def _open_input(path: str | os.PathLike):
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise LivesegError(f"Video {path} is unreadable or corrupt ({exc}); replace or remove it.") from None
    if not container.streams.video:
        container.close()
        raise LivesegError(f"File {path} has no video stream; pass an image or a video.")
    return container


def write_videos(
    paths: Sequence[str | os.PathLike],
    frames: Iterable[Sequence[np.ndarray]],
    fps: Fraction,
    times: Sequence[Fraction | None] = (),
) -> int:
    """Encode one H.264 mp4 per path in a single pass (each item of `frames` holds one RGB frame per path).

    Browsers play yuv420p H.264; every file appears atomically, once all frames are written. `times[i]`, when
    present by the time frame i is yielded, is its presentation time in seconds (`read_video_timed`'s), so that
    uneven frame timing is kept; frames without one follow the last at 1/`fps`. Returns the number of frames.
    """
    extras.require("video", "av", what="Writing videos")
    paths = list(paths)
    count = 0
    clock = _Clock(fps, times)

    def encode(tmps: list[Path]) -> None:
        nonlocal count
        import av

        with contextlib.ExitStack() as stack:
            outs = [stack.enter_context(av.open(str(t), "w", format="mp4")) for t in tmps]
            streams: list[av.video.stream.VideoStream] = []
            for group in frames:
                if not streams:
                    streams = [_add_stream(out, rgb, fps) for out, rgb in zip(outs, group, strict=True)]
                pts = clock.pts(count)
                for out, stream, rgb in zip(outs, streams, group, strict=True):
                    # yuv420p needs even sides: pad odd ones by repeating the last row/column.
                    rgb = np.pad(rgb, ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0)), mode="edge")
                    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    frame.pts, frame.time_base = pts, TIME_BASE
                    out.mux(stream.encode(frame))
                count += 1
            if not streams:
                raise LivesegError("The input video has no decodable frames; nothing to write.")
            for out, stream in zip(outs, streams, strict=True):
                out.mux(stream.encode(None))

    def nest(i: int, tmps: list[Path]) -> None:
        # One atomic.write_with per file, nested, so each is renamed into place only when all succeeded.
        if i == len(paths):
            encode(tmps)
        else:
            atomic.write_with(paths[i], lambda tmp: nest(i + 1, [*tmps, tmp]))

    nest(0, [])
    return count


# Output timestamps are in 1/90000 s, MPEG's clock: fine enough for any frame rate's steps.
TIME_BASE = Fraction(1, 90_000)


class _Clock:
    """Output timestamps: the input frames' own times from the first one on, strictly increasing, else 1/fps
    after the previous frame."""

    def __init__(self, fps: Fraction, times: Sequence[Fraction | None]) -> None:
        self.step = max(1, round(1 / (fps * TIME_BASE)))
        self.times = times
        self.start: Fraction | None = None
        self.last = -self.step  # so that a first frame without a time is at 0

    def pts(self, index: int) -> int:
        time = self.times[index] if index < len(self.times) else None
        if time is None:
            wanted = self.last + self.step
        else:
            self.start = time if self.start is None else self.start
            wanted = round((time - self.start) / TIME_BASE)
        self.last = max(wanted, self.last + 1)
        return self.last


def _add_stream(out, rgb: np.ndarray, fps: Fraction):
    stream = out.add_stream("libx264", rate=fps)
    stream.codec_context.time_base = TIME_BASE  # the encoder's clock: at 1/fps it would round times to even steps
    stream.width, stream.height = rgb.shape[1] + rgb.shape[1] % 2, rgb.shape[0] + rgb.shape[0] % 2
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": "20"}
    return stream
