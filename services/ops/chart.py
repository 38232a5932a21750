"""The numbers behind small server-rendered SVG charts (drawn by the templates): a queue's last hour, and any
few series of counts over the same steps (the engagement report's first 72 hours)."""

from __future__ import annotations

from dataclasses import dataclass

from services.ops.throughput import Throughput

WIDTH, HEIGHT = 180, 36


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    processed_points: str
    failed_points: str
    peak: int
    label: str


def _points(values: list[int], peak: int, width: int = WIDTH, height: int = HEIGHT) -> str:
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - (value / peak) * (height - 2) - 1:.1f}" for i, value in enumerate(values))


def sparkline(queue: str, hour: Throughput) -> Sparkline:
    """Polyline points for processed and failed per minute, scaled to the busier minute of the two."""
    peak = max([*hour.processed, *hour.failed, 1])
    label = (f"{queue}: {hour.processed_total} processed and {hour.failed_total} failed in the last hour; "
             f"busiest minute {peak}")
    return Sparkline(WIDTH, HEIGHT, _points(hour.processed, peak), _points(hour.failed, peak), peak, label)


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: str
    total: int


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    series: list[Series]
    peak: int
    label: str


def line_chart(series: dict[str, tuple[str, list[int]]], label: str, width: int = 480,
               height: int = 120) -> LineChart:
    """Polylines for ``series`` (name → (CSS colour, counts per step; every list as long)), scaled to the
    busiest step of all; ``label`` describes the chart for screen readers (the busiest step is added)."""
    peak = max([1, *(value for _colour, values in series.values() for value in values)])
    return LineChart(width, height, [Series(name, colour, _points(values, peak, width, height), sum(values))
                                     for name, (colour, values) in series.items()],
                     peak, f"{label}; busiest step {peak}")
