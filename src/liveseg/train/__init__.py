"""Training: the loop, losses, learning-rate schedules, EMA and distillation (checkpoints: liveseg.models.checkpoint).

from liveseg.train import TrainConfig, train
train(TrainConfig(model="ddrnet_tiny", data="camvid", epochs=100, out="runs/ddrnet"))
"""

from liveseg.train.config import TrainConfig
from liveseg.train.loop import train

__all__ = ["TrainConfig", "train"]
