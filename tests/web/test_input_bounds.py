"""Bounds on every input: ids past the database's integer range, text past its limit, and bidirectional
controls in names and addresses are refused with a 4xx naming the field, never a 500."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.cli import app as cli
from services.core import limits
from services.core.runtime import Runtime
from services.web.auth import issue_token
from tests import factories
from tests.web.conftest import add_user, sign_in

PAST_THE_RANGE = limits.ROW_ID_MAX + 1
#: A value for each path parameter that is not an id.
OTHER_PARAMETERS = {"week": "2026-W48", "queue": "ingest", "letter_id": "x"}
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def _bearer(rt: Runtime) -> dict[str, str]:
    user = add_user(rt, "bounds@example.org", "admin")
    with rt.sessions() as session, session.begin():
        return {"authorization": f"Bearer {issue_token(session, session.merge(user), rt.settings.api_token_days)}"}


def test_every_route_taking_an_id_refuses_one_past_the_database_range_with_422(rt: Runtime,
                                                                              client: TestClient) -> None:
    # Given a signed-in admin (a session with its CSRF token, and an API token)
    token = sign_in(client, add_user(rt, "admin@example.org", "admin").email)
    bearer = _bearer(rt)
    routes = [(ctx.path, method) for ctx in iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
              for method in ctx.methods or () if method != "HEAD" and re.search(r"\{\w*_id\}", ctx.path)]
    assert len(routes) >= 20, "the walk finds the routes taking an id, through included routers"
    for template, method in routes:
        # When each is asked for an id one past PostgreSQL's integer range
        path = _PARAMETER.sub(lambda m: OTHER_PARAMETERS.get(m.group(1), str(PAST_THE_RANGE)), template)
        if str(PAST_THE_RANGE) not in path:
            continue  # its "id" is no row id (a dead letter's message id)
        answer = client.request(method, path, headers=bearer if path.startswith("/api/") else {},
                                data=None if path.startswith("/api/") else {"csrf_token": token},
                                follow_redirects=False)
        # Then it is refused as unprocessable, never a server error
        assert answer.status_code == 422, (method, path, answer.status_code, answer.text[:200])


def test_ids_in_json_bodies_are_bounded_too(rt: Runtime, client: TestClient) -> None:
    # Given a candidate and an API token
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "Fuzzed").id
    bearer = _bearer(rt)
    # When a merge names a target past the range, Then it is a 422 naming the field
    answer = client.post(f"/api/queue/{tool_id}/merge", headers=bearer, json={"into_id": PAST_THE_RANGE})
    assert answer.status_code == 422 and "into_id" in answer.text


def test_a_bidirectional_control_in_a_name_or_homepage_is_refused_naming_the_field(rt: Runtime,
                                                                                  client: TestClient) -> None:
    # Given a candidate and an API token
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "Spoofed").id
    bearer = _bearer(rt)
    for field, value in (("name", "Good\u202eliveD"), ("homepage", "https://exa\u2066mple.org")):
        # When an approval gives it a right-to-left override or an isolate
        answer = client.post(f"/api/queue/{tool_id}/approve", headers=bearer, json={field: value})
        # Then it is refused, naming the field and the character
        assert answer.status_code == 400, answer.text
        assert f"the {field} holds a bidirectional control character" in answer.json()["detail"]


def test_every_text_field_of_a_request_states_its_maximum_length_in_the_schema(client: TestClient) -> None:
    # Given the API's OpenAPI document
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    requested = {ref.rsplit("/", 1)[1] for ref in re.findall(r'"(#/components/schemas/\w+)"', str(
        [op.get("requestBody", {}) for item in document["paths"].values() for op in item.values()]).replace("'", '"'))}
    assert {"Approval", "Rejection", "Bulk", "PanelCall", "NewComparison", "ComparisonEdit"} <= requested
    # Then every free string property of every request body (forms too; an uploaded file is no text) has a maxLength
    unbounded = [f"{name}.{prop}" for name in requested for prop, spec in schemas[name]["properties"].items()
                 for kind in spec.get("anyOf", [spec]) if kind.get("type") == "string" and "enum" not in kind
                 and kind.get("format") != "binary" and "contentMediaType" not in kind and "maxLength" not in kind]
    assert unbounded == []


def test_the_cli_refuses_an_id_past_the_database_range_as_a_usage_error() -> None:
    # When a command is given an id past the range, Then it stops with a usage error naming the bound
    for args in (["users", "revoke-token", str(PAST_THE_RANGE)], ["queue", "approve", "0"],
                 ["queue", "merge", "1", "--into", str(PAST_THE_RANGE)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)


def test_a_minimum_score_that_is_not_a_number_from_0_to_1_is_refused_naming_the_parameter(
        rt: Runtime, client: TestClient) -> None:
    # Given an editor's API token
    bearer = _bearer(rt)
    for value in ("nan", "inf", "-0.5", "1.5"):
        # When the queue is asked for candidates scoring at least that
        answer = client.get("/api/queue", params={"min_score": value}, headers=bearer)
        # Then the request is refused with the parameter named, not answered with an empty page
        assert answer.status_code == 422, value
        assert "min_score" in answer.text
    # And a score in range still filters
    assert client.get("/api/queue", params={"min_score": "0.5"}, headers=bearer).status_code == 200
