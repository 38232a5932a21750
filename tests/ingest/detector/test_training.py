"""`verdicts detect train`: the shipped model is rebuilt from the labelled corpus, byte for byte."""

from __future__ import annotations

import subprocess
from pathlib import Path

from services.ingest.detector.model import ARTEFACT, load
from tests.cli import run_cli
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[3]


def _train(out: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(None, "detect", "train", "--out", str(out), cwd=REPO, timeout=300)


def test_training_twice_on_the_corpus_writes_the_same_bytes_as_the_shipped_model(tmp_path: Path) -> None:
    shared_path("feeds")  # the corpus reads the captured feeds
    # When the model is trained twice from the labelled corpus
    first, second = _train(tmp_path / "a.json"), _train(tmp_path / "b.json")
    # Then both runs succeed and write the same bytes, which are the artefact the package ships
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes() == ARTEFACT.read_bytes()
    assert load(tmp_path / "a.json").version in first.stdout
