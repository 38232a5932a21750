"""`verdicts demo` runs the whole flow in embedded mode, from a clean folder, with nothing configured."""

from __future__ import annotations

import email
import os
import socket
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import httpx
import pytest


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VERDICTS_")}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo")
    done = subprocess.run([sys.executable, "-m", "services.cli", "demo", "--no-serve"], cwd=folder,
                          env=_clean_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done.stdout


def test_the_demo_mails_the_digest_to_the_file_outbox_with_one_click_unsubscribe(demo_run: tuple[Path, str]) -> None:
    folder, _ = demo_run
    [eml] = list((folder / "var" / "outbox").glob("*.eml"))
    assert eml.with_suffix(".html").exists()
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "reader@example.org"
    assert message["Subject"].startswith("Llama 4 Maverick Fine-Tuning Toolkit vs Mistral 3 Small")
    assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "Panel ship 75%" in text and "Community —" in text


def test_the_demo_reports_candidates_and_where_to_look(demo_run: tuple[Path, str]) -> None:
    folder, out = demo_run
    assert (folder / "var" / "verdicts.db").exists()
    flat = " ".join(out.split())
    assert "password:" in flat
    assert "Nimbus Coder 2" in flat
    for url in ("/editor/queue", "/c/llama-4-maverick-fine-tuning-toolkit-vs-mistral-3-small", "/editor/digests/"):
        assert url in flat


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_demo_then_serves_the_comparison_page(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "demo", "--port", str(port)], cwd=tmp_path,
                               env=_clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/c/llama-4-maverick-fine-tuning-toolkit-vs-mistral-3-small")
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert page is not None and page.status_code == 200
        assert "Llama 4 Maverick Fine-Tuning Toolkit vs Mistral 3 Small" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json() == {"database": "ok", "broker": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=30)
