"""What the benchmarks measure the same way: this process's CPU time and peak memory, and the
per-step figures of a timed scenario (see `bench/run.py` for their definitions)."""

import resource
import statistics
from pathlib import Path
from typing import Any


def cpu_seconds() -> float:
    """CPU time of this process (all threads): a figure a loaded machine inflates less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak RSS. Not `ru_maxrss` where Linux says better: it carries that across
    exec, so a child would report its parent's peak if that was higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def per_step(
    scenario: str, *, latency: float, steps: int, critical_path: int, walls: list[float]
) -> dict[str, Any]:
    """The median run's figures: overhead per step beyond `latency` x `critical_path`, and the
    ratio to that critical path (None when latency is 0)."""
    median = statistics.median(walls)
    ideal = latency * critical_path
    return {
        "scenario": scenario,
        "latency_s": latency,
        "steps": steps,
        "wall_median_s": round(median, 4),
        "overhead_ms_per_step": round((median - ideal) / steps * 1000, 3),
        "ratio_to_critical_path": round(median / ideal, 4) if ideal else None,
    }
