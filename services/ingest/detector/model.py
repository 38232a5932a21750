"""The trained scorer as shipped: a JSON artefact of feature weights, scored with a dot product.

The artefact (``model.json`` beside this module, written by ``verdicts detect train``) holds the
logistic regression's intercept and one weight per feature name, the threshold, and a version (a
hash of the weights). JSON, not pickle: loading it runs no code, it diffs in review, and scoring
needs neither scikit-learn nor numpy — a sum over the few hundred features an entry has. It is
read once per process (``current_model``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from services.ingest.detector.signals import Signal

ARTEFACT = Path(__file__).with_name("model.json")
#: How many of the strongest signals an editor is shown.
REASONS = 4
#: The feature families the shipped model uses. bench/detect.py measures each choice leave-one-feed-out:
#: on the corpus of 2026-08, word and character n-grams lowered precision and recall (they learn each
#: feed's vocabulary, which the next feed does not share), so the model weighs the rule signals and
#: the source kind.
FAMILIES: tuple[str, ...] = ("rule", "kind")
#: The score from which an entry is called a release.
THRESHOLD = 0.5


@dataclass(frozen=True)
class Model:
    """Logistic regression weights by feature name."""

    version: str
    intercept: float
    weights: dict[str, float]
    threshold: float = THRESHOLD
    #: The feature families the weights are over (see ``features``).
    families: tuple[str, ...] = FAMILIES

    def score(self, found: set[str]) -> float:
        """The probability (0–1) that an entry with features ``found`` announces a release."""
        total = self.intercept + sum(self.weights.get(name, 0.0) for name in found)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, total))))

    def reasons(self, found: set[str], signals: list[Signal]) -> tuple[str, ...]:
        """The strongest signals for the score, in words: rule signals in the order the rules find
        them (the source's shape first), then words.

        Rule signals read as their own words; words of the title or summary as quoted words;
        character n-grams are summed into one line (they are the title's spelling, not a phrase).
        """
        words = {f"rule:{s.name}": s.words for s in signals}
        spelled = sum(self.weights.get(name, 0.0) for name in found if name.startswith("chars:"))
        order = {f"rule:{s.name}": n for n, s in enumerate(signals)}
        parts = [(self.weights.get(name, 0.0), order.get(name, len(order)), _said(name, words))
                 for name in sorted(found) if not name.startswith("chars:")]
        parts.append((spelled, len(order), "the title's spelling resembles past launches" if spelled > 0
                      else "the title's spelling resembles past non-launches"))
        strongest = sorted((p for p in parts if abs(p[0]) >= 0.05), key=lambda p: (-abs(p[0]), p[1]))[:REASONS]
        return tuple(text for _, _, text in sorted(strongest, key=lambda p: p[1])) or ("no strong signal",)

    def as_json(self) -> dict[str, object]:
        return {"version": self.version, "threshold": self.threshold, "intercept": self.intercept,
                "families": list(self.families), "weights": dict(sorted(self.weights.items()))}


def _said(name: str, words: dict[str, str]) -> str:
    if name in words:
        return words[name]
    where, _, text = name.partition(":")
    return {"title": f"title has {text!r}", "summary": f"summary has {text!r}",
            "kind": f"a {text} source"}.get(where, name)


def version_of(intercept: float, weights: dict[str, float], threshold: float, families: tuple[str, ...]) -> str:
    """A short hash of what the model computes: equal weights, equal version."""
    blob = json.dumps([intercept, sorted(weights.items()), threshold, list(families)]).encode()
    return "m-" + hashlib.sha256(blob).hexdigest()[:12]


def from_json(document: dict[str, object]) -> Model:
    """A Model from an artefact's JSON; raises KeyError/TypeError/ValueError on a malformed one."""
    weights = {str(k): float(v) for k, v in dict(document["weights"]).items()}  # type: ignore[call-overload]
    return Model(version=str(document["version"]), intercept=float(document["intercept"]),  # type: ignore[arg-type]
                 weights=weights, threshold=float(document.get("threshold", THRESHOLD)),  # type: ignore[attr-defined,arg-type]
                 families=tuple(document.get("families", FAMILIES)))  # type: ignore[attr-defined,arg-type]


def load(path: Path) -> Model:
    """The model stored at ``path``; raises OSError or ValueError when it is missing or malformed."""
    return from_json(json.loads(path.read_text(encoding="utf-8")))


def save(model: Model, path: Path) -> None:
    """Write ``model`` as JSON, keys sorted, so a rebuild from the same data gives the same bytes."""
    path.write_text(json.dumps(model.as_json(), indent=0, sort_keys=True) + "\n", encoding="utf-8")


@functools.cache
def current_model() -> Model:
    """The shipped model, read on first use and kept for the life of the process."""
    return load(ARTEFACT)
