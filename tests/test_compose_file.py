"""docker-compose.yml: valid Compose, commands the CLI really has, and services that report health.

None of these tests starts a container: they read the compose file (and deploy/prometheus.yml)
and check them against the Compose schema, the project's own CLI and each other.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import typer
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
PROMETHEUS_FILE = REPO / "deploy" / "prometheus.yml"
# The upstream Compose Specification schema, kept byte for byte in shared/ beside the repository.
COMPOSE_SCHEMA = REPO.parent / "shared" / "specs" / "compose-spec.json"

# Which jsonschema validator goes with the draft a schema declares. Matched on a fragment of
# `$schema`, because the Compose schema writes draft-07 as "https://...draft-07/schema" without
# the trailing "#", which jsonschema's own validator_for() does not recognise.
DRAFTS: tuple[tuple[str, type[jsonschema.protocols.Validator]], ...] = (
    ("draft-04/", jsonschema.Draft4Validator),
    ("draft-06/", jsonschema.Draft6Validator),
    ("draft-07/", jsonschema.Draft7Validator),
    ("draft/2019-09/", jsonschema.Draft201909Validator),
    ("draft/2020-12/", jsonschema.Draft202012Validator),
)


def load_yaml(path: Path) -> dict[str, Any]:
    # safe_load resolves the `<<: *anchor` merges, so each service is seen fully assembled.
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def argv(command: str | list[str] | None) -> list[str]:
    """A compose `command` as the argument list the container gets (a string is split like a shell)."""
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def option_values(args: list[str], option: str) -> list[str]:
    """The values given after ``option`` up to the next option, e.g. ``--queues a b --x`` → a, b."""
    if option not in args:
        return []
    values = []
    for token in args[args.index(option) + 1 :]:
        if token.startswith("-"):
            break
        values.append(token)
    return values


COMPOSE = load_yaml(COMPOSE_FILE)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
VERDICTS_COMMANDS = {
    name: argv(service.get("command"))
    for name, service in SERVICES.items()
    if argv(service.get("command"))[:1] == ["verdicts"]
}
WORKERS = {name: args for name, args in VERDICTS_COMMANDS.items() if args[1:2] == ["worker"]}


def validator_for(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    declared = schema.get("$schema", "")
    for fragment, validator_class in DRAFTS:
        if fragment in declared:
            validator_class.check_schema(schema)
            return validator_class(schema)
    pytest.fail(f"{COMPOSE_SCHEMA} declares a $schema this test does not know: {declared!r}")


@pytest.fixture(scope="module")
def compose_validator() -> jsonschema.protocols.Validator:
    if not COMPOSE_SCHEMA.is_file():
        message = f"the Compose schema is missing: {COMPOSE_SCHEMA}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return validator_for(json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8")))


def schema_errors(validator: jsonschema.protocols.Validator, document: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, error.absolute_path)) or '(top level)'}: {error.message}"
        for error in validator.iter_errors(document)
    )


def test_compose_file_validates_against_the_compose_specification(compose_validator):
    """Given the Compose Specification's JSON schema,
    when docker-compose.yml is validated against it,
    then there is no error (no misspelt key, no wrongly typed value)."""
    assert schema_errors(compose_validator, COMPOSE) == []


def test_schema_check_rejects_a_misspelt_service_key(compose_validator):
    """Given the compose file with `ports` misspelt as `portz` in the web service,
    when it is validated,
    then the schema reports it, so the test above can fail at all."""
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["web"]["portz"] = broken["services"]["web"].pop("ports")

    errors = schema_errors(compose_validator, broken)

    assert any("portz" in error for error in errors), errors


# --- the commands against the project's CLI ---------------------------------------------------


# Typer up to 0.1x builds real click objects; newer Typer (0.2x) builds them from its own vendored
# copy of click, whose classes are not click's. So groups, options and parse errors are recognised
# by what they offer (`get_command`, `param_type_name`), not by isinstance checks on click classes.
USAGE_ERRORS: tuple[type[Exception], ...] = (
    click.ClickException,
    getattr(typer, "TyperException", click.ClickException),
)


@pytest.fixture(scope="module")
def cli() -> Any:
    from services.cli import app

    return typer.main.get_command(app)


def is_group(command: Any) -> bool:
    return all(callable(getattr(command, method, None)) for method in ("get_command", "list_commands"))


def resolve(root: Any, args: list[str]) -> tuple[Any, list[str], Any, str]:
    """Walk ``verdicts a b ...`` down the groups to the command that would run.

    Returns that command, the arguments left for it, its parent context and the command path.
    """
    context = root.context_class(root, info_name="verdicts")
    command, rest, path = root, args[1:], "verdicts"
    while is_group(command):
        subcommands = sorted(command.list_commands(context))
        if not rest or rest[0].startswith("-"):
            pytest.fail(f"`{path}` is a group, not a command; name one of {subcommands}")
        name, rest = rest[0], rest[1:]
        subcommand = command.get_command(context, name)
        if subcommand is None:
            pytest.fail(f"`{path}` has no subcommand {name!r}; it has {subcommands}")
        command, path = subcommand, f"{path} {name}"
        if is_group(command):
            context = command.context_class(command, info_name=name, parent=context)
    return command, rest, context, path


def declared_options(command: Any) -> set[str]:
    return {
        flag
        for param in command.params
        if getattr(param, "param_type_name", None) == "option"
        for flag in (*param.opts, *param.secondary_opts)
    }


@pytest.mark.parametrize("service", sorted(VERDICTS_COMMANDS))
def test_verdicts_command_in_compose_exists_in_the_cli(cli, service):
    """Given a compose service whose command starts with `verdicts`,
    when its words are looked up in the Typer app's command tree,
    then each word names a group or command that exists, every option it passes is declared by
    that command, and the whole line parses (option arity and value types included)."""
    args = VERDICTS_COMMANDS[service]

    command, rest, parent, path = resolve(cli, args)

    flags = rest[: rest.index("--")] if "--" in rest else rest
    used = {token.split("=", 1)[0] for token in flags if token.startswith("-")}
    declared = declared_options(command)
    assert used <= declared, (
        f"{service}: `{path}` declares no option {sorted(used - declared)}; it has {sorted(declared)}"
    )
    problem = None
    try:
        # Parses without running the command: catches `--queues a b` given to an option that takes
        # one value per flag, or `--port eighty`.
        command.make_context(path.rsplit(" ", 1)[-1], list(rest), parent=parent)
    except USAGE_ERRORS as exc:
        problem = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    assert problem is None, f"{service}: `{' '.join(args)}` does not parse: {problem}"


def test_every_broker_queue_is_consumed_by_a_worker_service():
    """Given the queues the broker declares,
    when the `--queues` of every worker service are put together,
    then each queue is served by some worker and no worker names a queue that does not exist."""
    from services.core.broker import QUEUES

    served = {queue for args in WORKERS.values() for queue in option_values(args, "--queues")}

    assert WORKERS, "no `verdicts worker` service in the compose file"
    assert set(QUEUES) - served == set(), "queues nobody consumes"
    assert served - set(QUEUES) == set(), "queues the broker does not declare"


# --- health, start order and storage ----------------------------------------------------------


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def has_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("test")) and not check.get("disable", False)


@pytest.mark.parametrize("service", sorted(name for name, spec in SERVICES.items() if "command" in spec))
def test_service_with_a_command_has_a_healthcheck_or_is_a_one_shot(service):
    """Given a service that runs a command,
    when compose starts it,
    then either it has a health check compose can watch, or it is a one-shot that is not restarted."""
    spec = SERVICES[service]

    assert has_healthcheck(spec) or is_one_shot(spec), f"{service}: add a healthcheck or `restart: \"no\"`"


def test_one_shot_migration_runs_the_schema_upgrade_and_is_not_restarted():
    """Given the migrate service,
    when it has finished,
    then compose does not restart it, and it ran `verdicts db upgrade`."""
    migrate = SERVICES["migrate"]

    assert is_one_shot(migrate)
    assert argv(migrate["command"]) == ["verdicts", "db", "upgrade"]


def test_depends_on_conditions_are_ones_the_dependency_can_meet():
    """Given every `depends_on` with a condition,
    when the dependency is looked at,
    then `service_healthy` points at a service with a health check and
    `service_completed_successfully` at a one-shot, so `docker compose up` cannot wait forever."""
    problems = []
    for name, spec in SERVICES.items():
        depends_on = spec.get("depends_on") or {}
        if isinstance(depends_on, list):  # short syntax: no conditions to check
            continue
        for dependency, options in depends_on.items():
            condition = (options or {}).get("condition", "service_started")
            target = SERVICES.get(dependency)
            if target is None:
                problems.append(f"{name} depends on unknown service {dependency}")
            elif condition == "service_healthy" and not has_healthcheck(target):
                problems.append(f"{name} waits for {dependency} to be healthy, but it has no healthcheck")
            elif condition == "service_completed_successfully" and not is_one_shot(target):
                problems.append(f"{name} waits for {dependency} to complete, but it is restarted")

    assert problems == []


def test_postgres_keeps_its_data_in_a_named_volume():
    """Given the postgres service,
    when its volumes are read,
    then its data directory is a named volume declared at the top level, so it survives
    `docker compose down` and a container rebuild."""
    mounts = {}
    for volume in SERVICES["postgres"].get("volumes", []):
        if isinstance(volume, str):
            source, _, target = volume.partition(":")
            mounts[target.split(":", 1)[0]] = source
        elif volume.get("type", "volume") == "volume":
            mounts[volume["target"]] = volume.get("source", "")

    source = mounts.get("/var/lib/postgresql/data")

    assert source, "postgres has no volume on /var/lib/postgresql/data"
    assert source in (COMPOSE.get("volumes") or {}), f"{source!r} is not a named volume"


def test_web_healthcheck_requests_healthz():
    """Given the web service's health check,
    when its command is read,
    then it requests /healthz on the port the web server listens on inside the container."""
    web = SERVICES["web"]
    test = web["healthcheck"]["test"]
    check = test if isinstance(test, str) else " ".join(map(str, test))
    port = option_values(argv(web["command"]), "--port")

    assert f"127.0.0.1:{port[0]}/healthz" in check


def test_prometheus_scrapes_web_and_every_worker_service():
    """Given deploy/prometheus.yml,
    when its scrape targets are collected,
    then it scrapes web:8000 and, on dramatiq's exposition port 9191, every worker service."""
    config = load_yaml(PROMETHEUS_FILE)
    static_targets, worker_names, worker_ports = set(), set(), set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            static_targets.update(static["targets"])
        for dns in job.get("dns_sd_configs", []):
            worker_names.update(dns["names"])
            worker_ports.add(dns.get("port"))

    assert "web:8000" in static_targets
    assert worker_names == set(WORKERS)
    assert worker_ports == {9191}
    assert "metrics" in SERVICES["prometheus"].get("profiles", [])
