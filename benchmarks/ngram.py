"""A character n-gram model of the taxonomy, measured against the rules (benchmark only).

Every label and synonym of every code (and the vocabulary's extra synonyms)
is folded and turned into TF-IDF weighted character 2- to 4-grams within word
boundaries (scikit-learn's ``char_wb``); a text is given the code of its most
similar document (cosine). The confidence is a logistic map of the best
similarity and its lead, fitted like the rules' map on own dev labels.
``backoff`` keeps the rules' answer and asks the n-gram model only when the
rules answer ``unknown``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from symbiose.classify import UNKNOWN_THRESHOLD, Classification, Vocabulary
from symbiose.classify.normalise import normalise_key
from symbiose.domain import UNKNOWN_RESOURCE
from symbiose.taxonomy import Taxonomy

# a logistic map of (best similarity, lead); fitted once on own dev labels by hand-run
# maximum likelihood (see fit()), kept here so the benchmark does not refit it on the rows it reports
DEFAULT_MAP = (-6.0, 9.0, 6.0)


class NgramModel:
    """Nearest labelled document by character n-gram TF-IDF cosine."""

    def __init__(self, taxonomy: Taxonomy, vocabulary: Vocabulary, weights: tuple[float, float, float] = DEFAULT_MAP):
        self.taxonomy = taxonomy
        texts, codes = [], []
        for code, r in taxonomy.resources.items():
            for t in (r.label_fr, r.label_en, *r.synonyms, *(s for s, _ in vocabulary.extra_synonyms.get(code, ()))):
                texts.append(normalise_key(t))
                codes.append(code)
        self.codes = np.array(codes)
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform(texts)
        self.weights = weights
        self._cache: dict[str, list[tuple[str, float]]] = {}

    def ranked(self, text: str) -> list[tuple[str, float]]:
        """Codes by their best document's cosine similarity, best first."""
        key = normalise_key(text)
        if key in self._cache:
            return self._cache[key]
        if not key:
            return []
        sims = (self.matrix @ self.vectorizer.transform([key]).T).toarray().ravel()
        best: dict[str, float] = {}
        for i in np.argsort(-sims)[:40]:
            code = str(self.codes[i])
            if sims[i] > 0 and code not in best:
                best[code] = float(sims[i])
        out = sorted(best.items(), key=lambda cs: -cs[1])
        self._cache[key] = out
        return out

    def classify(self, text: str) -> Classification:
        ranked = self.ranked(text)
        if not ranked:
            return Classification(text, UNKNOWN_RESOURCE, "", 0.0, ())
        a, b, c = self.weights
        s1 = ranked[0][1]
        s2 = ranked[1][1] if len(ranked) > 1 else 0.0
        conf = 1 / (1 + math.exp(-(a + b * s1 + c * (s1 - s2))))
        alts = tuple((code, round(s, 4)) for code, s in ranked[1:4])
        if conf < UNKNOWN_THRESHOLD:
            return Classification(text, UNKNOWN_RESOURCE, "", conf, ((ranked[0][0], round(conf, 4)), *alts[:2]))
        return Classification(text, ranked[0][0], self.taxonomy.resources[ranked[0][0]].label_fr, conf, alts)

    def predict_row(self, row) -> Classification:
        return self.classify(row.text)

    def fit(self, rows) -> tuple[float, float, float]:
        """Refit the logistic map on labelled rows (expected codes)."""
        from scipy.optimize import minimize

        data = []
        for r in rows:
            ranked = self.ranked(r.text)
            if ranked:
                s1 = ranked[0][1]
                s2 = ranked[1][1] if len(ranked) > 1 else 0.0
                top = ranked[0][0]
                data.append(((1.0, s1, s1 - s2), top == r.expected or top.startswith(r.expected + ".")))
        x = np.array([f for f, _ in data])
        y = np.array([float(ok) for _, ok in data])

        def loss(w: np.ndarray) -> float:
            z = x @ w
            return float(np.mean(np.logaddexp(0, z) - y * z))

        w = minimize(loss, np.array(DEFAULT_MAP), method="BFGS").x
        self.weights = (float(w[0]), float(w[1]), float(w[2]))
        return self.weights


def backoff(rules: Callable, ngram: Callable) -> Callable:
    """The rules' answer, or the n-gram model's when the rules answer ``unknown``."""

    def predict(row) -> Classification:
        c = rules(row)
        if c.code != UNKNOWN_RESOURCE:
            return c
        n = ngram(row)
        return n if n.code != UNKNOWN_RESOURCE else c

    return predict


def agreement(rules: Callable, ngram: Callable, confidence: float = 0.5) -> Callable:
    """The rules' answer; when they answer ``unknown``, their best guess if the n-gram
    model's answer is that same code (two different readings agree)."""

    def predict(row) -> Classification:
        c = rules(row)
        if c.code != UNKNOWN_RESOURCE or not c.alternatives:
            return c
        n = ngram(row)
        guess = c.alternatives[0][0]
        if n.code == guess or (n.code == UNKNOWN_RESOURCE and n.alternatives and n.alternatives[0][0] == guess):
            return Classification(c.text, guess, n.label, max(confidence, c.confidence), c.alternatives[1:])
        return c

    return predict
