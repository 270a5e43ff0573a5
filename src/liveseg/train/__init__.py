"""Training: the loop, losses, learning-rate schedules, EMA and distillation (checkpoints: liveseg.models.checkpoint).

from liveseg.train import TrainConfig, train
train(TrainConfig(model="ddrnet_tiny", data="camvid", epochs=100, out="runs/ddrnet"))
"""

from typing import Any

from liveseg.train.config import TrainConfig

__all__ = ["TrainConfig", "train"]


def __getattr__(name: str) -> Any:
    """`train` (the loop, with torch and the data pipeline) on first use: the CLI reads TrainConfig without them."""
    if name == "train":
        from liveseg.train.loop import train

        return train
    raise AttributeError(f"module 'liveseg.train' has no attribute {name!r}")
