"""Fitting the scorer with scikit-learn: logistic regression over the features of ``features``.

The target is "announces a release" (labels ``new`` and ``update``) against ``noise``. Classes are
weighted by their frequency (the corpus is mostly noise). The fit is deterministic (lbfgs, examples
in corpus order), so the same corpus gives the same artefact. Weights below ``MIN_WEIGHT`` are
dropped to keep the artefact small; they change no score by more than a rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from services.core.domain import ParsedEntry, SourceFacts
from services.ingest.detector.features import features
from services.ingest.detector.model import FAMILIES, THRESHOLD, Model, version_of
from services.ingest.detector.signals import read

#: Inverse regularisation strength; measured leave-one-feed-out by bench/detect.py.
C = 1.0
MIN_WEIGHT = 1e-3


@dataclass(frozen=True)
class Example:
    """One training example: an entry, its source, and whether it announces a release."""

    entry: ParsedEntry
    source: SourceFacts
    positive: bool


def selected(found: set[str], families: Sequence[str]) -> set[str]:
    """The features of ``found`` that belong to ``families`` (the part before the colon)."""
    return {name for name in found if name.partition(":")[0] in families}


def fit(examples: Sequence[Example], threshold: float = THRESHOLD, families: Sequence[str] = FAMILIES) -> Model:
    """A Model fitted on ``examples`` over the feature ``families``; raises ValueError when the
    examples hold only one class."""
    if len({e.positive for e in examples}) < 2:
        raise ValueError("training needs both releases and noise among the examples")
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform([dict.fromkeys(selected(features(read(e.entry, e.source), tuple(families))[0],
                                                              families), 1) for e in examples])
    classifier = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    classifier.fit(matrix, [e.positive for e in examples])
    weights = {name: round(float(w), 4) for name, w in zip(vectorizer.get_feature_names_out(), classifier.coef_[0],
                                                             strict=True) if abs(w) >= MIN_WEIGHT}
    intercept = round(float(classifier.intercept_[0]), 4)
    return Model(version=version_of(intercept, weights, threshold, tuple(families)), intercept=intercept,
                 weights=weights, threshold=threshold, families=tuple(families))


@dataclass(frozen=True)
class Agreement:
    """How a model's calls agree with labels: true/false positives and false negatives."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def f1(self) -> float:
        """2·TP / (2·TP + FP + FN); 1.0 when there is nothing to find and nothing was found."""
        total = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / total if total else 1.0


def agreement(model: Model, examples: Sequence[Example]) -> Agreement:
    """Score each example with ``model`` at its threshold and count agreement with the labels."""
    tp = fp = fn = 0
    for example in examples:
        called = model.score(features(read(example.entry, example.source), model.families)[0]) >= model.threshold
        tp += called and example.positive
        fp += called and not example.positive
        fn += example.positive and not called
    return Agreement(tp, fp, fn)
