"""The numbers behind a small server-rendered SVG chart of a queue's last hour (drawn by the template)."""

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


def _points(values: list[int], peak: int) -> str:
    step = WIDTH / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{HEIGHT - (value / peak) * (HEIGHT - 2) - 1:.1f}" for i, value in enumerate(values))


def sparkline(queue: str, hour: Throughput) -> Sparkline:
    """Polyline points for processed and failed per minute, scaled to the busier minute of the two."""
    peak = max([*hour.processed, *hour.failed, 1])
    label = (f"{queue}: {hour.processed_total} processed and {hour.failed_total} failed in the last hour; "
             f"busiest minute {peak}")
    return Sparkline(WIDTH, HEIGHT, _points(hour.processed, peak), _points(hour.failed, peak), peak, label)
