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

from liveseg import atomic
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
    width: int
    height: int
    fps: Fraction
    frames: int  # 0 when the container does not say


def probe_video(path: str | os.PathLike) -> VideoInfo:
    with _open_input(path) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        return VideoInfo(stream.codec_context.width, stream.codec_context.height, Fraction(fps), stream.frames)


def read_video(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Yield the frames of the first video stream as HxWx3 uint8 RGB arrays."""
    import av

    with _open_input(path) as container:
        try:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
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


def write_videos(paths: Sequence[str | os.PathLike], frames: Iterable[Sequence[np.ndarray]], fps: Fraction) -> int:
    """Encode one H.264 mp4 per path in a single pass (each item of `frames` holds one RGB frame per path).

    Browsers play yuv420p H.264; every file appears atomically, once all frames are written.
    Returns the number of frames.
    """
    paths = list(paths)
    count = 0

    def encode(tmps: list[Path]) -> None:
        nonlocal count
        import av

        with contextlib.ExitStack() as stack:
            outs = [stack.enter_context(av.open(str(t), "w", format="mp4")) for t in tmps]
            streams = []
            for group in frames:
                if not streams:
                    streams = [_add_stream(out, rgb, fps) for out, rgb in zip(outs, group, strict=True)]
                for out, stream, rgb in zip(outs, streams, group, strict=True):
                    # yuv420p needs even sides: pad odd ones by repeating the last row/column.
                    rgb = np.pad(rgb, ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0)), mode="edge")
                    out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
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


def _add_stream(out, rgb: np.ndarray, fps: Fraction):
    stream = out.add_stream("libx264", rate=fps)
    stream.width, stream.height = rgb.shape[1] + rgb.shape[1] % 2, rgb.shape[0] + rgb.shape[0] % 2
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": "20"}
    return stream
