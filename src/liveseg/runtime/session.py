"""The one place an onnxruntime session is set up, for the runtime, export's parity checks and the benchmarks.

Sharing it keeps what export measures (parity, val mIoU) and what the benchmarks time the same session the
runtime runs: same provider, same thread settings, same optimisation level unless a caller asks otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import onnxruntime as ort

CPU = ("CPUExecutionProvider",)
# onnxruntime 1.32 on x86 CPUs segfaults while creating a session for an fp16 graph with attention when it fuses
# a Transpose into a MatMul next to NCHWc convolutions (seen on an imported transformer); the fusion saves a
# copy, not a layer, so it is off everywhere rather than a crash for some bundles.
_DISABLED = ("MatmulTransposeFusion",)
Level = Literal["basic", "all"]


def create_session(
    model: str | os.PathLike | bytes,
    threads: int | None = None,
    *,
    providers: Sequence[str] = CPU,
    level: Level = "all",
    optimized_path: str | os.PathLike | None = None,
    profile_prefix: str | os.PathLike | None = None,
) -> ort.InferenceSession:
    """An onnxruntime session on `model` (a file or serialised bytes).

    `threads` caps the intra-op pool (None: onnxruntime's default, one per core); inter-op stays at 1 since the
    graphs run sequentially. `optimized_path` also writes the graph optimised at `level`; `profile_prefix` turns
    on onnxruntime's per-operator profiling. Its warnings are about its internals, not the user's input, so only
    errors are logged.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    if optimized_path is not None:
        options.optimized_model_filepath = str(optimized_path)
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_prefix)
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=list(providers), disabled_optimizers=list(_DISABLED))
