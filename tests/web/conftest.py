from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.core.runtime import Runtime
from services.web.app import create_app


@pytest.fixture
def client(rt: Runtime) -> TestClient:
    return TestClient(create_app(rt), base_url="https://verdicts.example.org")
