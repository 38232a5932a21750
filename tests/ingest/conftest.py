from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.local_http import LocalServer, serving


@pytest.fixture
def http() -> Iterator[LocalServer]:
    with serving() as server:
        yield server
