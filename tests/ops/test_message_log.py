"""Structured logs: one JSON line per handled message (actor, id, duration, outcome), secrets never written."""

from __future__ import annotations

import io
import json
import logging

import pytest

from services.core.logging import JsonFormatter, MaskingTextFormatter, mask_secrets, mask_value
from tests.ops.conftest import wait_until, worker_thread

pytestmark = [pytest.mark.redis]


@pytest.fixture
def json_lines() -> io.StringIO:
    """Captures what the message logger writes, through the JSON formatter the processes use."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("verdicts.messages")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_handled_message_is_one_json_line_with_actor_id_duration_and_outcome(json_lines, make_probe) -> None:
    # Given a worker on a queue
    probe = make_probe()
    with worker_thread(probe.queue):
        # When one message succeeds and one fails for good (its argument is a token)
        ok = probe.succeed.send(1)
        bad = probe.fail.send("tok-abcdefghijklmnop", 2)
        wait_until(lambda: len(lines(json_lines)) == 2, what="two log lines")

    # Then there is one line each, with the fields ops search by, and the token appears nowhere
    by_id = {line["message_id"]: line for line in lines(json_lines)}
    assert by_id[ok.message_id]["actor"] == f"succeed_{probe.queue}"
    assert by_id[ok.message_id]["outcome"] == "done" and by_id[ok.message_id]["level"] == "info"
    assert by_id[bad.message_id]["outcome"] == "dead-lettered" and by_id[bad.message_id]["level"] == "warning"
    assert by_id[bad.message_id]["queue"] == probe.queue
    assert all(isinstance(line["duration_ms"], float) for line in by_id.values())
    assert "tok-abcdefghijklmnop" not in json_lines.getvalue()


@pytest.mark.parametrize("text, secret", [
    ("connecting to postgresql+psycopg://verdicts:pa55word@db:5432/verdicts", "pa55word"),
    ("Authorization: Bearer vdt_abcdefghijklmnopqrstu", "vdt_abcdefghijklmnopqrstu"),
    ("key SG.abcdefghijkl.mnopqrstuvwxyz0123 refused", "SG.abcdefghijkl.mnopqrstuvwxyz0123"),
    ("retry with api_key=zzzzzzzz1234 later", "zzzzzzzz1234"),
    ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
])
def test_secrets_in_log_text_are_masked(text: str, secret: str) -> None:
    # Given a message holding a secret; When it is masked; Then the secret is gone and the rest is kept
    masked = mask_secrets(text)
    assert secret not in masked and "•••" in masked
    assert masked.split()[0] == text.split()[0]


def test_secret_named_fields_are_masked_whatever_their_value() -> None:
    # Given arguments with secret-named keys at any depth
    value = {"user": "ana", "Password": "x", "nested": [{"api_key": 42, "note": "fine"}]}
    # When they are masked
    # Then only the secret-named values are hidden
    assert mask_value(value) == {"user": "ana", "Password": "•••", "nested": [{"api_key": "•••", "note": "fine"}]}


def test_json_and_text_formatters_mask_the_message_and_the_exception() -> None:
    # Given a record whose message and exception both carry a database password
    try:
        raise RuntimeError("cannot reach redis://:topsecret99@cache:6379/0")
    except RuntimeError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "using %s", ("postgresql://u:topsecret99@h/d",),
                                   sys.exc_info())
    # When it is formatted both ways
    as_json = JsonFormatter().format(record)
    as_text = MaskingTextFormatter().format(record)
    # Then neither shows the password, and the JSON line parses
    assert "topsecret99" not in as_json and "topsecret99" not in as_text
    assert json.loads(as_json)["exception"].startswith("Traceback")
