"""A description of the machine a benchmark ran on, so figures are never quoted without their context."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else whatever `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class Machine:
    """What every result records of the machine it was measured on."""

    cpu: str
    logical_cores: int | None
    usable_cores: int | None
    physical_cores: int | None
    memory_gb: float
    os: str
    python: str
    packages: dict[str, str | None]  # package → version, None when not installed
    load_average: list[float] | None  # 1, 5 and 15 minutes, where the OS tells


def describe() -> Machine:
    import psutil

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return Machine(
        cpu=cpu_model(),
        logical_cores=os.cpu_count(),
        usable_cores=cpus,
        physical_cores=psutil.cpu_count(logical=False),
        memory_gb=round(psutil.virtual_memory().total / 2**30, 1),
        os=platform.platform(),
        python=platform.python_version(),
        packages={p: _version(p) for p in ("liveseg", "onnxruntime", "torch", "onnx", "playwright")},
        load_average=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    )
