"""Real photographs for the person models' checks and benchmarks, taken from packages that ship them (nothing is
downloaded): two portraits, and two close-ups without a person that a foreground model is tempted by."""

from __future__ import annotations

import numpy as np

from liveseg.errors import LivesegError


def portraits() -> dict[str, np.ndarray]:
    """name → H×W×3 uint8 RGB: Grace Hopper (matplotlib's sample data) and Eileen Collins (scikit-image's)."""
    cbook, data = _packages()
    with cbook.get_sample_data("grace_hopper.jpg") as file:
        from PIL import Image

        hopper = np.asarray(Image.open(file).convert("RGB"))
    return {"hopper": hopper, "astronaut": data.astronaut()}


def without_people() -> dict[str, np.ndarray]:
    """name → RGB close-ups with no person in them: a cat and a cup of coffee (scikit-image's sample data)."""
    _, data = _packages()
    return {"cat": data.chelsea(), "coffee": data.coffee()}


def _packages():
    try:
        import matplotlib.cbook as cbook
        import skimage.data as data
    except ImportError as exc:
        raise LivesegError(
            f"The sample photographs come with matplotlib and scikit-image ({exc.name} is missing): "
            "pip install 'liveseg[bench]'."
        ) from None
    return cbook, data
