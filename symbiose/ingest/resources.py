"""The resource of a row: a taxonomy code as written, an animator's
correction of the same text, the classifier's reading of the text, or,
when the text is empty, the row's EWC code.

Two functions are meant to be switched when the classifier package and
the taxonomy grow their own: :func:`correction_key` (the classifier's
``normalise_key``) and :func:`resource_for_ewc` (``Taxonomy.resource_for_ewc``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from symbiose.classify import LOW_CONFIDENCE, UNKNOWN_THRESHOLD
from symbiose.domain import UNKNOWN_RESOURCE
from symbiose.taxonomy import Taxonomy
from symbiose.text import fold

_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Resolved:
    """The code chosen for a row, how sure, the runners-up and where it came from
    (``code``: written as a code, ``correction``, ``text``, ``ewc``)."""

    code: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    source: str = "text"


@lru_cache(maxsize=8)
def _accepted(kind: type) -> frozenset[str]:
    return frozenset(inspect.signature(kind.classify).parameters)


def classify(classifier: Any, text: str, **evidence: Any) -> Any:
    """``classifier.classify(text, ...)`` with the evidence this classifier accepts
    (unit, direction, description and a territory's corrections where it reads them)."""
    accepted = _accepted(type(classifier))
    return classifier.classify(text, **{k: v for k, v in evidence.items() if v is not None and k in accepted})


def correction_key(text: str) -> str:
    """The key under which a correction of ``text`` is kept: folded words, punctuation and spacing ignored."""
    return " ".join(_WORDS.findall(fold(text or "")))


def correction_subject(text: str, ewc: str | None) -> str:
    """What a flow's correction is attached to: its text, or ``EWC <code>`` for a row that gave only a code."""
    if (text or "").strip():
        return text.strip()
    return f"EWC {ewc}" if ewc else ""


def resource_for_ewc(ewc: str, *, taxonomy: Taxonomy, classifier: Any, naf: str | None = None) -> Resolved:
    """The resource of a row that gives only an EWC code.

    The taxonomy's own mapping when it has one; otherwise the classifier
    reading the code's List-of-Waste label, kept within the resources that
    list the code (a low confidence sends the flow to review, never to
    ``unknown`` when the code names resources)."""
    mapped = getattr(taxonomy, "resource_for_ewc", None)
    result = classifier.classify("", ewc=ewc, naf=naf)
    alternatives = tuple(result.alternatives)
    if mapped is not None:
        code = mapped(ewc)
        if code:
            confidence = result.confidence if result.code == code else min(LOW_CONFIDENCE, max(result.confidence, UNKNOWN_THRESHOLD))
            return Resolved(code, float(confidence), alternatives, "ewc")
    if result.code != UNKNOWN_RESOURCE and result.confidence >= UNKNOWN_THRESHOLD:
        return Resolved(result.code, float(result.confidence), alternatives, "ewc")
    listed = taxonomy.codes_for_ewc(ewc)
    if listed:
        ranked = [c for c, _ in classifier.ranked("", ewc=ewc, naf=naf) if c in listed]
        code = ranked[0] if ranked else min(listed, key=lambda c: (c.count("."), c))
        return Resolved(code, float(result.confidence), alternatives, "ewc")
    return Resolved(UNKNOWN_RESOURCE, float(result.confidence), alternatives, "ewc")


def resolve_resource(
    text: str,
    *,
    taxonomy: Taxonomy,
    classifier: Any,
    corrections: Mapping[str, str],
    ewc: str | None = None,
    naf: str | None = None,
    temperature_c: float | None = None,
    concentration_pct: float | None = None,
    **evidence: Any,
) -> Resolved:
    """The resource of a row from its text (or its EWC code when the text is empty);
    ``evidence`` (``unit``, ``direction``, ``description``) goes to a classifier that reads it."""
    subject = correction_subject(text, ewc)
    if text.strip().lower() in taxonomy.resources:
        return Resolved(text.strip().lower(), 1.0, (), "code")
    corrected = corrections.get(correction_key(subject)) if subject else None
    if corrected is not None and corrected in taxonomy.resources:
        return Resolved(corrected, 1.0, (), "correction")
    if not text.strip():
        return resource_for_ewc(ewc or "", taxonomy=taxonomy, classifier=classifier, naf=naf)
    result = classify(classifier, text, ewc=ewc, naf=naf, temperature_c=temperature_c,
                      concentration_pct=concentration_pct, corrections=corrections or None, **evidence)
    confidence = float(result.confidence)
    known = result.code != UNKNOWN_RESOURCE and confidence >= UNKNOWN_THRESHOLD
    return Resolved(result.code if known else UNKNOWN_RESOURCE, confidence, tuple(result.alternatives), "text")
