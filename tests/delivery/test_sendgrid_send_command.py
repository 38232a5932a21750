"""`verdicts digest send` end to end: batches through the SendGrid library to our recording endpoint."""

from __future__ import annotations

import subprocess

from services.core.runtime import Runtime
from services.digest import compose
from tests import factories
from tests.cli import run_cli
from tests.sendgrid_endpoint import bad_request, recording_endpoint


def _digest(rt: Runtime, readers: int) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        factories.confirmed_subscribers(session, readers)
        compose.compile_week(session, rt.settings, "2026-W48")


def _send(rt: Runtime, host: str) -> subprocess.CompletedProcess[str]:
    return run_cli(rt, "digest", "send", "--week", "2026-W48", "--yes", timeout=300,
                   VERDICTS_SENDGRID_API_KEY="SG.cli-test", VERDICTS_SENDGRID_HOST=host,
                   VERDICTS_SENDGRID_MAX_ATTEMPTS="1")


def test_send_returns_once_every_batch_settled_with_everyone_mailed_once(rt: Runtime) -> None:
    # Given a compiled digest and 2,500 confirmed readers
    _digest(rt, 2500)
    with recording_endpoint() as endpoint:
        # When the editor sends it from the command line
        result = _send(rt, endpoint.host)
    # Then it exits 0 after three requests, each reader counted once at the receiving end
    assert result.returncode == 0, result.stdout + result.stderr
    assert endpoint.requests == 3 and len(endpoint.deliveries) == 2500 and set(endpoint.deliveries.values()) == {1}
    assert "sent" in result.stdout


def test_send_exits_non_zero_when_a_batch_failed(rt: Runtime) -> None:
    # Given an endpoint that refuses the first request
    _digest(rt, 1500)
    with recording_endpoint() as endpoint:
        endpoint.answer_next(bad_request("The from address does not match a verified Sender Identity."))
        result = _send(rt, endpoint.host)
    # Then the command says so and exits 1; the other batch went out
    assert result.returncode == 1
    assert "failed" in result.stdout and endpoint.requests == 1
