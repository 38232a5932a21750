"""Process-wide logging: the scheduler's routine ticks stay out of the log, its failures do not."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler

from services.core.logging import ROUTINE_LOGGERS, configure


class Kept(logging.Handler):
    """Keeps every record the root logger hands it."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[Kept]:
    """A handler on the root logger; the root's level, its handlers' formatters and the routine loggers'
    levels are put back afterwards."""
    root = logging.getLogger()
    level, formatters = root.level, [(handler, handler.formatter) for handler in root.handlers]
    routine = {name: logging.getLogger(name).level for name in ROUTINE_LOGGERS}
    handler = Kept()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for each, formatter in formatters:
            each.setFormatter(formatter)
        for name, routine_level in routine.items():
            logging.getLogger(name).setLevel(routine_level)


def run_two_ticks() -> None:
    """A real APScheduler runs one tick that works and one that raises; returns when both are done."""
    def fails() -> None:
        raise RuntimeError("the tick broke")

    done = {"works": threading.Event(), "fails": threading.Event()}
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_listener(lambda event: done[event.job_id].set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.add_job(lambda: None, id="works")
    scheduler.add_job(fails, id="fails")
    scheduler.start()
    try:
        assert all(event.wait(60) for event in done.values())
    finally:
        scheduler.shutdown()


def from_apscheduler(kept: Kept, level: int) -> list[str]:
    return [r.getMessage() for r in kept.records if r.name.startswith("apscheduler") and r.levelno == level]


def test_at_info_the_scheduler_logs_a_failing_tick_but_not_the_routine_ones(kept: Kept) -> None:
    # Given logging configured at info, as every command does
    configure(logging.INFO, json_lines=True)
    # When the scheduler runs a tick that works and one that raises
    run_two_ticks()
    # Then the failure is logged at error, and no "Running job" / "executed successfully" line at info
    assert any("raised an exception" in message for message in from_apscheduler(kept, logging.ERROR))
    assert from_apscheduler(kept, logging.INFO) == []


def test_with_verbose_logging_the_routine_ticks_show(kept: Kept) -> None:
    # Given logging configured at debug (`verdicts -v`)
    configure(logging.DEBUG, json_lines=True)
    # When the scheduler runs its ticks
    run_two_ticks()
    # Then the routine lines are there too
    assert any("executed successfully" in message for message in from_apscheduler(kept, logging.INFO))

