"""The catalogue of event types agrees with the code: every type written in services/ is listed
with the payload keys it is written with, every listed type is written somewhere, and every type
has either the handler its named module registers (and the worker imports) or, deliberately, none."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import services
from services.core import events
from services.core.event_types import CATALOGUE, EventName

SERVICES = Path(services.__file__).parent
HANDLED = {name: kind.handled_by for name, kind in CATALOGUE.items() if kind.handled_by is not None}


@dataclass(frozen=True)
class Written:
    """An event type written in the source: ``events.record(…)`` or ``events.row(…)``."""

    where: str
    names: tuple[str, ...]  # the catalogue names it can be (an f-string can be several)
    keys: frozenset[str] | None  # None when the payload's keys cannot be read from the source


def _names(node: ast.expr, where: str) -> tuple[str, ...]:
    """The catalogue names an expression can evaluate to: a literal, an EventName, either branch
    of a conditional, or every name an f-string's pattern matches."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "EventName":
        return (str(EventName[node.attr]),)
    if isinstance(node, ast.IfExp):
        return _names(node.body, where) + _names(node.orelse, where)
    if isinstance(node, ast.JoinedStr):
        pattern = "".join(re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z_]+" for part in node.values)
        matched = tuple(name for name in CATALOGUE if re.fullmatch(pattern, name))
        assert matched, f"{where}: no catalogue type matches the event type f-string /{pattern}/"
        return matched
    raise AssertionError(f"{where}: the event type is not a literal, an EventName, a conditional or an f-string")


def _written() -> Iterator[Written]:
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(SERVICES.parent)}:{getattr(node, 'lineno', '?')}"
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("record", "row")
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "events"):
                named = [keyword.arg for keyword in node.keywords]
                keys = None if None in named else frozenset(k for k in named if k is not None)
                # record(session, type, …) writes one event; row(type, …) one row of a bulk insert
                yield Written(where, _names(node.args[1 if node.func.attr == "record" else 0], where), keys)


def test_every_event_type_written_in_services_is_listed_with_the_keys_it_is_written_with() -> None:
    # Given every events.record(…) and events.row(…) call in services/
    written = list(_written())
    assert len(written) >= len(CATALOGUE) / 2, "the source scan found too little to be looking at the right code"
    # Then each names listed types, with exactly the listed payload keys
    unlisted = [(w.where, name) for w in written for name in w.names if name not in CATALOGUE]
    assert unlisted == []
    wrong_keys = [(w.where, name, sorted(w.keys)) for w in written for name in w.names
                  if w.keys is not None and w.keys != CATALOGUE[name].keys]
    assert wrong_keys == []


def test_every_listed_event_type_is_written_somewhere_in_services() -> None:
    written = {name for w in _written() for name in w.names}
    assert sorted(set(CATALOGUE) - written) == []


def test_every_name_is_an_event_name_and_every_handler_module_is_a_services_module() -> None:
    assert set(CATALOGUE) == {str(name) for name in EventName}
    assert all(module.startswith("services.") for module in HANDLED.values())


def test_every_handled_type_has_a_handler_registered_by_the_module_the_catalogue_names() -> None:
    # Given every module the catalogue names as a handler's
    for module in set(HANDLED.values()):
        importlib.import_module(module)
    # Then each handled type has handlers, all from that module
    registered = {name: sorted({handler.__module__ for handler in events.handlers_for(name)}) for name in HANDLED}
    assert registered == {name: [module] for name, module in HANDLED.items()}


def test_every_registered_handler_is_for_a_type_the_catalogue_says_its_module_handles() -> None:
    registered = {(name, handler.__module__) for name, found in events.registered().items() for handler in found}
    assert registered <= set(HANDLED.items())


def test_a_worker_process_registers_exactly_the_handlers_the_catalogue_names() -> None:
    # Given a fresh process; When it declares its actors as a worker does
    script = ("import json\n"
              "from dramatiq.brokers.stub import StubBroker\n"
              "from services.core import broker, events\n"
              "from services.workers import declare_actors\n"
              "broker.setup(StubBroker())\n"
              "declare_actors()\n"
              "print(json.dumps({name: sorted({handler.__module__ for handler in found})\n"
              "                  for name, found in events.registered().items()}))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False,
                          cwd=SERVICES.parent)
    assert done.returncode == 0, done.stderr
    # Then every handled type has its handler, from the module named, and nothing else is registered
    assert json.loads(done.stdout.splitlines()[-1]) == {name: [module] for name, module in HANDLED.items()}
