"""The fake webcam: CamVid frames written as a .y4m, the format Chromium's fake capture device plays in a loop."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

# Faster than any pipeline here, so the camera never limits a measured frame rate (a page sees at most one new
# frame per 60 Hz rendering step anyway: requestVideoFrameCallback fires once per step).
CAMERA_FPS = 60


def write_y4m(path: Path, frames: Sequence[np.ndarray], fps: int = CAMERA_FPS) -> None:
    """Raw 4:2:0 video (limited-range BT.601) of HxWx3 uint8 RGB frames with even H and W."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420mpeg2\n".encode())
        for rgb in frames:
            r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
            y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
            u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
            v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
            f.write(b"FRAME\n")
            for plane, step in ((y, 1), (u, 2), (v, 2)):
                if step == 2:
                    plane = plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
                f.write(np.clip(np.rint(plane), 0, 255).astype(np.uint8).tobytes())


def camvid_webcam(
    images: Sequence[Path], path: Path, size: tuple[int, int] = (360, 480), fps: int = CAMERA_FPS
) -> Path:
    """A looping fake webcam of `images` resized to `size` (H, W)."""
    frames = [np.asarray(Image.open(p).convert("RGB").resize((size[1], size[0]))) for p in images]
    write_y4m(path, frames, fps=fps)
    return path


def portrait_webcam(
    portrait: np.ndarray, path: Path, size: tuple[int, int] = (480, 640), fps: int = CAMERA_FPS
) -> Path:
    """A looping fake webcam of a person: `portrait` scaled to the frame's height, centred on a grey wall, and
    swaying a few pixels from frame to frame as a person in a video call does."""
    height, width = size
    scaled = Image.fromarray(portrait).resize((round(portrait.shape[1] * height / portrait.shape[0]), height))
    frames = []
    for dx in (0, 2, 4, 6, 4, 2):
        wall = Image.new("RGB", (width, height), (118, 122, 128))
        wall.paste(scaled, ((width - scaled.width) // 2 + dx - 3, 0))
        frames.append(np.asarray(wall))
    write_y4m(path, frames, fps=fps)
    return path
