"""Temporal stabilisation of class maps on live video: one frame's labels and confidences plus the previous state in,
steadier labels out. Pure integer arithmetic, so `web/src/lib/stabilise.ts` computes the very same bytes; both are
held to tests/vectors/stabilise.json.

Per pixel the state is the stabilised label and its *evidence*: a running estimate, 0..255, of that label's
probability. Every frame blends the new frame's probability of the state label into it:

    E' = (w·E + (256 − w)·q + 128) >> 8

where q is the new confidence c when the frame agrees with the state label, else 255 − c (exact for two classes, an
upper bound for more). The past's weight w (of 256) comes from the new confidence alone (`weights`): 0 from
`FOLLOW` up, so confident pixels take the new frame at once and nothing trails motion, rising linearly to the
strength's maximum at `CHANCE` and below, so only uncertain pixels lean on the past. A frame that disagrees makes
its label the state when that label's blended evidence, N = (w·(255 − E) + (256 − w)·c + 128) >> 8, beats E' by
more than a margin: a hysteresis on blended probabilities, so a pixel that hovers near 50% does not toggle. The
strength (0..1) scales both the past's weight and the margin: more steadiness, more lag on motion.

`liveseg bench temporal` measures it beside the raw labels and the label hysteresis on raw confidences that it
must beat (BENCHMARKS.md, "Temporal stability"). It needs nothing but the labels and confidences every backend
gives; without motion compensation, a pan still costs uncertain pixels some lag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liveseg.errors import LivesegError

FOLLOW = 242  # confidence (of 255) from which a pixel follows the new frame with no memory: ≈ 95%
CHANCE = 128  # confidence at and below which the past gets the strength's full weight: 50%
MAX_PAST = 240  # the past's weight (of 256) at strength 1 and chance confidence
MAX_MARGIN = 64  # at strength 1, how far (of 255) a new label's blended evidence must beat the state label's
DEFAULT_STRENGTH = 0.75


@dataclass(frozen=True)
class State:
    """A stabilised frame: its labels and their evidence (HxW uint8 each) at the model's resolution."""

    labels: np.ndarray
    evidence: np.ndarray


def check_strength(strength: float) -> float:
    """A strength as a float in 0..1 (0: off); anything else is the caller's error, said in one sentence."""
    if not 0.0 <= float(strength) <= 1.0:
        raise LivesegError(f"stabiliser strength {strength} is not between 0 (off) and 1; pass e.g. 0.75.")
    return float(strength)


def weights(strength: float) -> np.ndarray:
    """The past's weight (0..256) for each confidence byte: one 256-entry table per strength, no per-pixel maths."""
    top = round(check_strength(strength) * MAX_PAST)
    c = np.arange(256, dtype=np.int32)
    uncertainty = np.clip((FOLLOW - c) * 256 // (FOLLOW - CHANCE), 0, 256)
    return (top * uncertainty) >> 8


def margin(strength: float) -> int:
    """How far (of 255) a new label's blended evidence must beat the state label's to replace it."""
    return round(check_strength(strength) * MAX_MARGIN)


def stabilise(labels: np.ndarray, confidence: np.ndarray, previous: State | None, strength: float) -> State:
    """The stabilised state after one frame (labels, confidence: HxW uint8 at the model's size). With no previous
    state, another size, or strength 0 the frame is taken as it is."""
    if previous is None or previous.labels.shape != labels.shape or strength == 0:
        return State(labels.copy(), confidence.copy())
    w = weights(strength)[confidence]
    c = confidence.astype(np.int32)
    e = previous.evidence.astype(np.int32)
    same = labels == previous.labels
    q = np.where(same, c, 255 - c)
    kept = (w * e + (256 - w) * q + 128) >> 8
    challenger = (w * (255 - e) + (256 - w) * c + 128) >> 8
    switch = ~same & (challenger > kept + margin(strength))
    return State(
        np.where(switch, labels, previous.labels).astype(np.uint8),
        np.where(switch, challenger, kept).astype(np.uint8),
    )
