"""`verdicts demo` runs the whole flow in embedded mode, from a clean folder, with nothing configured."""

from __future__ import annotations

import email
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from services.core.db.models import Source
from services.core.db.session import make_engine
from services.core.domain import SourceKind, SourceState
from services.demo.feed_server import FEEDS, TYPES
from tests.cli import cli_env, run_cli


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo")
    done = run_cli(None, "demo", "--no-serve", cwd=folder, timeout=240)
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


@dataclass(frozen=True)
class ServedDemo:
    folder: Path
    port: int
    page: httpx.Response
    ready: dict[str, str]
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory: pytest.TempPathFactory) -> ServedDemo:
    """`verdicts demo --port P` from a clean folder: its comparison page once served, then Ctrl-C."""
    folder, port = tmp_path_factory.mktemp("served-demo"), _free_port()
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "demo", "--port", str(port)], cwd=folder,
                               env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        page = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/c/llama-4-maverick-fine-tuning-toolkit-vs-mistral-3-small")
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert page is not None, process.communicate()
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return ServedDemo(folder, port, page, ready, process.returncode, out, err)


def test_the_demo_then_serves_the_comparison_page(served_demo: ServedDemo) -> None:
    assert served_demo.page.status_code == 200
    assert "Llama 4 Maverick Fine-Tuning Toolkit vs Mistral 3 Small" in served_demo.page.text
    assert served_demo.ready == {"database": "ok", "broker": "ok"}


def test_the_demos_links_and_mail_point_at_the_port_it_serves(served_demo: ServedDemo) -> None:
    # Given `verdicts demo --port P` with no VERDICTS_BASE_URL
    base = f"http://127.0.0.1:{served_demo.port}"
    # Then the links it prints are on port P, each whole on its line
    lines = served_demo.stdout.splitlines()
    assert f"Comparison page: {base}/c/llama-4-maverick-fine-tuning-toolkit-vs-mistral-3-small" in lines
    assert any(line.startswith("Review queue:") and line.endswith(f"{base}/editor/queue") for line in lines)
    assert ":8000" not in served_demo.stdout
    # And so are the links in the mail it sent
    [eml] = list((served_demo.folder / "var" / "outbox").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["List-Unsubscribe"].startswith(f"<{base}/unsubscribe/")


def test_ctrl_c_stops_the_serving_demo_cleanly(served_demo: ServedDemo) -> None:
    # Given the demo serving, with its in-process worker and scheduler, When it gets Ctrl-C (the fixture),
    # Then it shuts down with exit 0, with no traceback and nothing at error level from the shutdown on
    shutdown = served_demo.stderr[served_demo.stderr.index("Shutting down"):]
    assert served_demo.returncode == 0, shutdown
    assert "Traceback" not in served_demo.stdout + shutdown
    assert [line for line in shutdown.splitlines() if '"level": "error"' in line or '"level": "critical"' in line] == []


def test_rerunning_the_demo_in_the_same_folder_keeps_one_source_per_sample_feed(
        demo_run: tuple[Path, str], tmp_path: Path) -> None:
    # Given the folder of an earlier run, where runs before this rule had piled up a copy of a sample feed
    # at a port long dead
    folder = tmp_path / "again"
    shutil.copytree(demo_run[0], folder)
    engine = make_engine(f"sqlite:///{folder / 'var' / 'verdicts.db'}")
    with sessionmaker(engine)() as session, session.begin():
        session.add(Source(url="http://127.0.0.1:9/vendor-news.rss", kind=SourceKind.FEED))
    # When the demo runs there again
    done = run_cli(None, "demo", "--no-serve", cwd=folder, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    # Then each sample feed is one source, at this run's feed server, paused now that the server is gone
    with sessionmaker(engine)() as session:
        local = session.scalars(select(Source).where(Source.url.like("http://127.0.0.1:%"))).all()
    engine.dispose()
    assert sorted(urlsplit(source.url).path for source in local) == sorted(f"/{path.name}" for path in FEEDS.iterdir() if path.suffix in TYPES)
    assert len({urlsplit(source.url).port for source in local}) == 1
    assert urlsplit(local[0].url).port != 9
    assert {source.state for source in local} == {SourceState.PAUSED}
