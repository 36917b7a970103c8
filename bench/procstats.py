"""CPU time and peak memory of a process tree, from /proc (via psutil for the tree)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (a pre-fork server's workers, gunicorn's)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by the process and its live descendants."""
    total = 0.0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _vm_hwm_bytes(pid: int) -> int:
    """VmHWM: the process's peak resident set size since it started."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def peak_rss_bytes(pid: int) -> int:
    """Sum of the peak RSS of every process in the tree (each process's own peak)."""
    return sum(_vm_hwm_bytes(process.pid) for process in tree(pid))
