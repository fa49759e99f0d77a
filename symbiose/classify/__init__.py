"""Free text of a diagnostic row → taxonomy code, with a calibrated confidence.

The steps, one module each:

- :mod:`~symbiose.classify.vocabulary`: the word lists and roles of
  ``taxonomy/data/vocabulary.yaml`` (abbreviations, stop words, purpose,
  origin and context words, state words, form words, number patterns,
  evidence tables, calibration);
- :mod:`~symbiose.classify.normalise`: text → words with a role (name,
  purpose, origin, context) and number signals (temperature, pressure,
  concentration, dimensions, EWC code);
- :mod:`~symbiose.classify.index`: the taxonomy's labels and synonyms as
  word sets with an inverted index, typo and prefix lookup;
- :mod:`~symbiose.classify.scoring`: how well each code explains the words,
  each word weighed by its role (the material named decides);
- :mod:`~symbiose.classify.evidence`: EWC code, NAF code, unit, direction,
  temperature and concentration move the scores;
- :mod:`~symbiose.classify.decision`: a fitted logistic map gives the
  probability of being right; below :data:`UNKNOWN_THRESHOLD` the answer is
  ``unknown`` with the three best guesses.

A state word of the text ("usagé", "spent", "souillé") moves the answer to
the taxonomy's variant in that state when there is one near the best code.

Usage::

    clf = get_classifier()
    clf.classify("spent acetone from reactor rinsing", ewc="14 06 03*", naf="20.14Z",
                 unit="t", direction="out", description="solvant de rinçage")

Per-territory corrections: a mapping ``{normalise_key(text): code}`` (raw texts
are accepted too and keyed the same way). ``clf.with_corrections(mapping)``
(or ``clf.classify(text, corrections=mapping)``) answers a corrected text
with its code at confidence 1 and uses the corrected texts as extra synonyms
of their codes, so near texts of that territory are helped. The key,
:func:`normalise_key`, does not depend on the vocabulary: stored corrections
never go stale.
"""

from __future__ import annotations

from functools import lru_cache

from symbiose.classify.classifier import Classification, Classifier
from symbiose.classify.decision import LOW_CONFIDENCE, UNKNOWN_LABEL, UNKNOWN_THRESHOLD
from symbiose.classify.normalise import Normalised, normalise_key
from symbiose.classify.vocabulary import VOCABULARY_PATH, Vocabulary


@lru_cache(maxsize=1)
def get_classifier() -> Classifier:
    """The classifier of the shipped taxonomy and vocabulary, built once."""
    return Classifier()


__all__ = [
    "LOW_CONFIDENCE",
    "UNKNOWN_LABEL",
    "UNKNOWN_THRESHOLD",
    "VOCABULARY_PATH",
    "Classification",
    "Classifier",
    "Normalised",
    "Vocabulary",
    "get_classifier",
    "normalise_key",
]
