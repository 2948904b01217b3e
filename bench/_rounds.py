"""Rounds: every figure is measured several times beside its anchor, and each round is printed.

A single figure on a shared machine says little; three rounds with their spread (max − min over
the median) show whether a difference is real. The load average goes beside them because the
same code gives other figures on a busy machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import time

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
"""Rounds per figure (BENCH_ROUNDS overrides; 3 by default)."""


def load_line() -> str:
    """When and under what load the figures were taken (as `uptime` shows it)."""
    one, five, fifteen = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"{stamp}, {os.cpu_count()} cores, load average {one:.2f} {five:.2f} {fifteen:.2f}"


def cpu_s() -> float:
    """CPU seconds this process has used, all its threads (user + system).

    On a machine shared with other work, wall time swings with the load; CPU time much less, so
    a ratio of CPU-time rates is the steadier comparison with an anchor."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def spread(values: list[float]) -> str:
    """`median m (min a, max b, spread s%)` of one figure's rounds."""
    if not values:
        return "no rounds"
    median = statistics.median(values)
    low, high = min(values), max(values)
    share = 100 * (high - low) / median if median else float("nan")
    return f"median {median:,.2f} (min {low:,.2f}, max {high:,.2f}, spread {share:.0f}%)"


def print_rounds(label: str, values: list[float], unit: str = "") -> None:
    """Each round's value, then the spread, on one line."""
    each = ", ".join(f"{v:,.2f}" for v in values)
    print(f"  {label}: rounds [{each}] {unit}; {spread(values)}")
