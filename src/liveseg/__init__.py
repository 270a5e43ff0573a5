"""liveseg: real-time semantic segmentation in the browser.

The top level stays torch-free: `import liveseg` must work where only the runtime extras are installed.
"""

from liveseg.errors import LivesegError

__version__ = "0.1.0"
__all__ = ["LivesegError", "Segmenter", "__version__", "load"]


def __getattr__(name: str):
    # Lazy so that `import liveseg` does not pay for onnxruntime until inference is asked for.
    if name in ("load", "Segmenter"):
        from liveseg import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'liveseg' has no attribute {name!r}")
