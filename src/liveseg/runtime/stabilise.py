"""Temporal stabilisation of class maps on live video: one frame's labels and confidences plus the previous state in,
steadier labels out. Pure integer arithmetic, so `web/src/lib/stabilise.ts` computes the very same bytes; both are
held to tests/vectors/stabilise.json.

Per pixel the state is the stabilised label, its *evidence* (a running estimate, 0..255, of that label's
probability), the label it left at its last switch and the frames since (its age). Each frame:

1. **Sustained motion is followed.** The global shift between the previous frame's own labels and the new ones is
   estimated (the best-agreeing integer shift within ±`SEARCH` px on a sparse grid). Once the scene has moved the
   same way along an axis for `SUSTAINED` frames in a row, the state moves with it, so a pan does not trail. Camera
   jitter (±1 px back and forth) never moves the same way that long, so it moves nothing.
2. **Evidence is blended** with the new frame's probability of the state label, q (the confidence c when the frame
   agrees, else 255 − c, exact for two classes and an upper bound for more):

       E' = (w·E + (256 − w)·q + 128) >> 8

   The past's weight w (of 256) comes from the new confidence (`weights`): 0 from `FOLLOW` up, so confident pixels
   take the new frame at once, rising to the strength's maximum at `CHANCE` and below, so only uncertain pixels
   lean on the past. A frame that disagrees makes its label the state when that label's blended evidence,
   N = (w·(255 − E) + (256 − w)·c + 128) >> 8, beats E' by more than a margin.
3. **Oscillation is held.** A pixel that wants to switch back to the label it left fewer than `hold` frames ago
   (an edge that jitters, noise that toggles) is weighed with the full weight of the past whatever its
   confidence; a first change, as a moving edge makes, is not. Held labels expire: after `hold` frames the old
   label counts as new again.

The strength (0..1) scales the past's weight, the margin and the hold: more steadiness, more lag on motion that
is neither global nor sustained. `liveseg bench temporal` measures it (BENCHMARKS.md, "Temporal stability").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liveseg.errors import LivesegError

FOLLOW = 242  # confidence (of 255) from which a pixel follows the new frame with no memory: ≈ 95%
CHANCE = 128  # confidence at and below which the past gets the strength's full weight: 50%
MAX_PAST = 252  # the past's weight (of 256) at strength 1 and chance confidence
MAX_MARGIN = 85  # at strength 1, how far (of 255) a new label's blended evidence must beat the state label's
MAX_HOLD = 16  # at strength 1, for how many frames a switch back to the label a pixel left is held
SEARCH = 3  # global motion searched, px per frame either way on each axis
GRID = 8  # global motion is estimated on every GRID-th row and column
SUSTAINED = 3  # frames in a row of motion the same way along an axis before the state follows it
DEFAULT_STRENGTH = 0.75


@dataclass(frozen=True)
class State:
    """A stabilised frame at the model's resolution (HxW uint8 maps): its labels and their evidence, the label each
    pixel left at its last switch and the frames since (saturating at 255), the frame's own labels, and for each
    axis (y, x) the frames in a row the scene has moved the same way (signed)."""

    labels: np.ndarray
    evidence: np.ndarray
    left: np.ndarray
    age: np.ndarray
    raw: np.ndarray
    run: tuple[int, int] = (0, 0)


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


def hold(strength: float) -> int:
    """For how many frames after a switch a switch back to the left label is weighed as uncertain."""
    return round(check_strength(strength) * MAX_HOLD)


def global_shift(previous: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """The integer shift (dy, dx), within ±SEARCH, under which `labels[y, x]` agrees most often with
    `previous[y − dy, x − dx]` on the grid; ties go to the smaller |dy| + |dx|, then to the first in row-major
    order of (dy, dx)."""
    h, w = labels.shape
    r = SEARCH
    core = labels[r : h - r : GRID, r : w - r : GRID]
    best, shift = -1, (0, 0)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            agree = int(np.count_nonzero(previous[r - dy : h - r - dy : GRID, r - dx : w - r - dx : GRID] == core))
            if agree > best or (agree == best and abs(dy) + abs(dx) < abs(shift[0]) + abs(shift[1])):
                best, shift = agree, (dy, dx)
    return shift


def _runs(run: tuple[int, int], shift: tuple[int, int]) -> tuple[int, int]:
    """Per axis, the frames in a row moved the same way (signed, saturating at ±255) after `shift`."""
    out = []
    for n, s in zip(run, shift, strict=True):
        step = (s > 0) - (s < 0)
        same_way = step != 0 and n != 0 and (n > 0) == (step > 0)
        out.append(max(-255, min(255, n + step)) if same_way else step)
    return out[0], out[1]


def _moved(a: np.ndarray, dy: int, dx: int, fill: np.ndarray) -> np.ndarray:
    """`a` shifted by (dy, dx); the uncovered border comes from `fill`."""
    if dy == 0 and dx == 0:
        return a
    h, w = a.shape
    out = fill.copy()
    to = (slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0)))
    out[to] = a[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
    return out


def _fresh(labels: np.ndarray, confidence: np.ndarray) -> State:
    return State(labels.copy(), confidence.copy(), labels.copy(), np.full(labels.shape, 255, np.uint8), labels.copy())


def stabilise(labels: np.ndarray, confidence: np.ndarray, previous: State | None, strength: float) -> State:
    """The stabilised state after one frame (labels, confidence: HxW uint8 at the model's size). With no previous
    state, another size, or strength 0 the frame is taken as it is."""
    if previous is None or previous.labels.shape != labels.shape or strength == 0:
        return _fresh(labels, confidence)
    shift = global_shift(previous.raw, labels)
    run = _runs(previous.run, shift)
    dy, dx = (s if abs(n) >= SUSTAINED else 0 for s, n in zip(shift, run, strict=True))
    age_fill = np.full(labels.shape, 255, np.uint8)
    state_labels = _moved(previous.labels, dy, dx, labels)
    e = _moved(previous.evidence, dy, dx, confidence).astype(np.int32)
    left = _moved(previous.left, dy, dx, labels)
    age = _moved(previous.age, dy, dx, age_fill).astype(np.int32)

    table = weights(strength)
    same = labels == state_labels
    back = ~same & (labels == left) & (age < hold(strength))
    w = np.where(back, table[0], table[confidence])
    c = confidence.astype(np.int32)
    kept = (w * e + (256 - w) * np.where(same, c, 255 - c) + 128) >> 8
    challenger = (w * (255 - e) + (256 - w) * c + 128) >> 8
    switch = ~same & (challenger > kept + margin(strength))
    return State(
        labels=np.where(switch, labels, state_labels).astype(np.uint8),
        evidence=np.where(switch, challenger, kept).astype(np.uint8),
        left=np.where(switch, state_labels, left).astype(np.uint8),
        age=np.where(switch, 0, np.minimum(age + 1, 255)).astype(np.uint8),
        raw=labels.copy(),
        run=run,
    )
