"""Decision: ranked scores → a code with a calibrated confidence, or ``unknown``.

A logistic map (``calibration`` in ``vocabulary.yaml``, fitted by
``benchmarks/bench_classifier.py --fit``) turns the best score, its lead over
the next code, the share of the text the best code explains (and explains
exactly, without typo correction) and whether two codes tie into a
probability of being right. Below :data:`UNKNOWN_THRESHOLD` the answer
is ``unknown`` and the three best guesses are kept as alternatives: a
confidently wrong code is worse than a review.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from symbiose.domain import UNKNOWN_RESOURCE

UNKNOWN_LABEL = "Ressource non reconnue"

UNKNOWN_THRESHOLD = 0.35
"""Below this confidence the import records ``unknown`` and lists the row for review."""
LOW_CONFIDENCE = 0.6
"""Below this confidence the import warns that the classification is doubtful."""

Result = tuple[str, str, float, tuple[tuple[str, float], ...]]


def sigmoid(x: float) -> float:
    """Logistic function, clipped to avoid overflow."""
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


TIE = 0.005  # two codes closer than this are tied: the text does not choose between them


def features(ranked: Sequence[tuple[str, float]], explained: tuple[float, ...]) -> tuple[float, ...]:
    """The calibration's inputs: 1, best score, its lead over the next, share of the text
    the best code explains, share it explains exactly (no typo, no prefix), a tie, and
    how well it explains the head noun (0 when the head noun is unknown or another code's)."""
    s1 = ranked[0][1]
    s2 = ranked[1][1] if len(ranked) > 1 else 0.0
    head = explained[2] if len(explained) > 2 else 1.0
    return (1.0, s1, s1 - s2, explained[0], explained[1], 1.0 if s1 - s2 < TIE else 0.0, head)


def confidence(weights: Sequence[float], feats: Sequence[float]) -> float:
    """Probability of being right for a feature vector."""
    return sigmoid(sum(w * f for w, f in zip(weights, feats, strict=False)))


def decide(
    ranked: Sequence[tuple[str, float]],
    weights: Sequence[float],
    explained: tuple[float, ...],
    label: Callable[[str], str],
) -> Result:
    """Scores → calibrated confidences, ``unknown`` with the top three guesses below the threshold."""
    if not ranked:
        return UNKNOWN_RESOURCE, UNKNOWN_LABEL, 0.0, ()
    feats = features(ranked, explained)
    top = confidence(weights, feats)
    s1 = ranked[0][1]
    confs = [(ranked[0][0], round(top, 4))]
    for code, s in ranked[1:4]:
        # a runner-up: the same map at its own score and (negative) lead, never above the best
        tied = feats[-1] if s1 - s < TIE else 0.0
        other = confidence(weights, (1.0, s, s - s1, explained[0], explained[1], tied, feats[-1]))
        confs.append((code, round(min(1.0 - top, top, other), 4)))
    if top < UNKNOWN_THRESHOLD:
        return UNKNOWN_RESOURCE, UNKNOWN_LABEL, confs[0][1], tuple(confs[:3])
    return confs[0][0], label(confs[0][0]), confs[0][1], tuple(confs[1:4])
