"""Small statistics helpers (no numpy needed)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def spread(values: Sequence[float]) -> float:
    """Relative spread (max-min)/median, to show how noisy a figure was."""
    if len(values) < 2:
        return 0.0
    mid = median(values)
    return (max(values) - min(values)) / mid if mid else float("nan")


def loglog_slope(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Least-squares slope of log(time) over log(size): 1 = linear, 2 = quadratic."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-9)) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if not sxx:
        return float("nan")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def segment_slopes(sizes: Sequence[float], times: Sequence[float]) -> list[float]:
    """Slope between neighbouring sizes: a fixed cost flattens the first ones, a quadratic term
    shows in the last one."""
    return [loglog_slope([sizes[i], sizes[i + 1]], [times[i], times[i + 1]]) for i in range(len(sizes) - 1)]
