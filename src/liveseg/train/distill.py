"""Knowledge distillation: a frozen teacher's softened per-pixel distribution guides the student.

Loss added to the student's own loss: weight · T² · KL(softmax(teacher/T) ‖ softmax(student/T)), averaged over
labelled pixels; the T² keeps gradient magnitudes comparable across temperatures (Hinton et al., 2015).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from liveseg.errors import LivesegError
from liveseg.models import checkpoint


def load_teacher(path: str, num_classes: int, device: torch.device) -> nn.Module:
    ckpt = checkpoint.load(path)
    if ckpt["model"]["num_classes"] != num_classes:
        raise LivesegError(
            f"Teacher {path} predicts {ckpt['model']['num_classes']} classes but the student {num_classes}; "
            "distil from a teacher trained on the same dataset."
        )
    return checkpoint.build_model(ckpt).to(device).requires_grad_(False)


def distillation_loss(
    student: torch.Tensor, teacher: torch.Tensor, target: torch.Tensor, ignore_index: int, temperature: float
) -> torch.Tensor:
    t = temperature
    log_p_student = F.log_softmax(student.float() / t, dim=1)
    log_p_teacher = F.log_softmax(teacher.float() / t, dim=1)
    kl = F.kl_div(log_p_student, log_p_teacher, reduction="none", log_target=True).sum(dim=1)
    valid = (target != ignore_index).to(kl.dtype)
    return (kl * valid).sum() / valid.sum().clamp(min=1.0) * (t * t)
