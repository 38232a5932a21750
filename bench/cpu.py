"""CPU seconds of processes, for the benchmarks that split a run's cost between its processes."""

from __future__ import annotations

import psutil


def cpu_seconds(*pids: int, name: str | None = None) -> float:
    """CPU seconds used so far by the given processes, or by every process called ``name``."""
    processes = [psutil.Process(pid) for pid in pids] if not name else \
        [p for p in psutil.process_iter(["name"]) if p.info["name"] == name]
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total
