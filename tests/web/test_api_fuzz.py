"""Schemathesis over ``/api/openapi.json``: generated requests, valid and invalid, signed in with an admin's
API token, get no server error and answers that match the documented response schemas."""

from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import response_schema_conformance

from services.core.runtime import Runtime
from services.web.auth import issue_token
from tests import factories
from tests.conftest import REDIS_NAMESPACE
from tests.web.conftest import add_user
from tests.web.sendgrid_signing import Signer, webhook_client

#: Examples per operation: enough to reach the edges (huge ids, long and odd text), few enough for a
#: run well under a minute on two cores.
EXAMPLES = 10


def _api_schema(rt: Runtime) -> BaseSchema:
    """The API's own OpenAPI document over the ASGI app (its SendGrid webhook configured, so unsigned
    posts are refused rather than unserved; its rate limits in a Redis namespace of its own, so the
    fuzzer's many subscribe posts throttle no later test), every request with an admin's Bearer token, and a
    candidate to act on."""
    user = add_user(rt, "fuzz@example.org", "admin")
    with rt.sessions() as session, session.begin():
        token = issue_token(session, session.merge(user), rt.settings.api_token_days)
        factories.candidate(session, "Fuzzed")
    app = webhook_client(rt, Signer(), redis_namespace=f"{REDIS_NAMESPACE}-fuzz").app
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    schema.config.headers = {"authorization": f"Bearer {token}"}
    return schema


def test_generated_api_requests_get_no_server_error_and_documented_answers(rt: Runtime) -> None:
    # Given the API's schema and an admin's token
    schema = _api_schema(rt)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the API documents its operations"

    # When each operation gets requests the schema allows, and requests it does not (ids past the range,
    # text past its limit, wrong types)
    for operation, mode in itertools.product(operations, GenerationMode):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Case) -> None:
            # Then the answer is no 5xx and, where documented, its body matches the documented schema
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        try:
            fuzz()
        except Unsatisfiable:
            # an operation whose every input is free text (or that takes none) has nothing to get wrong
            if mode is GenerationMode.POSITIVE:
                raise
