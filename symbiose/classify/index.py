"""Index: every label and synonym of every code as word sets, with an inverted index.

Words carry an inverse document frequency over codes, so a word shared by
many codes ("huile", "dechet") weighs less than one that names a single
resource. Typos are corrected against the index's words with rapidfuzz
(Levenshtein), truncated words ("electr") stand for the words they start,
and two index words glued together ("biodechet") are cut apart.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from symbiose.classify.normalise import Normaliser
from symbiose.classify.vocabulary import Vocabulary
from symbiose.taxonomy import Taxonomy

TYPO_SIM = {1: 0.9, 2: 0.8}  # similarity of a word corrected by 1 or 2 edits
PREFIX_SIM = 0.85  # similarity of a truncated word ("electr") to the words it starts
LOOKUP_CACHE = 100_000  # words whose typo/prefix matches are remembered


@dataclass(frozen=True, slots=True)
class Doc:
    """One label or synonym of a code, as the set of its words."""

    code: str
    tokens: frozenset[str]
    text: str
    weight: float  # sum of the idf of its tokens
    correction: bool = False  # a territory's correction, not a taxonomy text


class Index:
    """Every label and synonym of every code, as word sets, with an inverted index.

    A child's synonym that reads like one of its ancestors' once numbers are
    taken out ("vapeur 10 bar" under ``energy.steam``) is dropped: it cannot
    tell the child from its parent, the signals do that. ``extra`` adds
    ``(code, text)`` pairs (a territory's corrections) as synonyms.
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        normaliser: Normaliser,
        vocabulary: Vocabulary,
        extra: Iterable[tuple[str, str]] = (),
    ):
        added: dict[str, list[str]] = defaultdict(list)
        for code, text in extra:
            if code in taxonomy.resources:
                added[code].append(text)
        own: dict[str, list[frozenset[str]]] = {}
        ordered: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
        for code in sorted(taxonomy.resources, key=lambda c: c.count(".")):
            res = taxonomy.resources[code]
            texts = [
                *((t, False) for t in (res.label_fr, res.label_en, *res.synonyms)),
                *((t, False) for t, _ in vocabulary.extra_synonyms.get(code, ())),
                *((t, True) for t in added.get(code, ())),
            ]
            inherited = {key for anc in taxonomy.ancestors(code)[1:] for key in own.get(anc, ())}
            own[code], ordered[code] = [], []
            for text, correction in texts:
                toks = tuple(normaliser(text).tokens)
                key = frozenset(toks)
                if key and key not in own[code] and (correction or key not in inherited):
                    own[code].append(key)
                    ordered[code].append((toks, correction))
        df: dict[str, set[str]] = defaultdict(set)
        for code, docs in own.items():
            for key in docs:
                for t in key:
                    df[t].add(code)
        n = max(1, len(taxonomy.resources))
        self.idf = {t: math.log(1.0 + n / len(codes)) for t, codes in df.items()}
        self.median_idf = statistics.median(self.idf.values()) if self.idf else 1.0
        self.docs: list[Doc] = []
        self.by_token: dict[str, list[int]] = defaultdict(list)
        self.codes_with: dict[str, set[str]] = {t: set(codes) for t, codes in df.items()}
        for code, docs in ordered.items():
            for toks, correction in docs:
                tokens = frozenset(toks)
                for t in tokens:
                    self.by_token[t].append(len(self.docs))
                self.docs.append(Doc(code, tokens, " ".join(toks), sum(self.idf[t] for t in tokens), correction))
        self.vocab = sorted(self.by_token)
        self.vocab_set = frozenset(self.vocab)
        self._lookups: dict[str, dict[str, float]] = {}
        self.tokens_of: dict[str, frozenset[str]] = {
            code: frozenset(t for key in keys for t in key) for code, keys in own.items()
        }

    def lookup(self, word: str) -> dict[str, float]:
        """Index words a text word may stand for, with a similarity in (0, 1] (remembered per word)."""
        if word in self.vocab_set:
            return {word: 1.0}
        hit = self._lookups.get(word)
        if hit is None:
            if len(self._lookups) >= LOOKUP_CACHE:
                self._lookups.clear()
            hit = self._lookups[word] = self._lookup(word)
        return hit

    def _lookup(self, word: str) -> dict[str, float]:
        out: dict[str, float] = {}
        if word.startswith("dim") and word[3:4].isdigit():
            return out
        if len(word) >= 6:
            max_dist = 1 if len(word) <= 8 else 2
            for cand, dist, _ in process.extract(
                word, self.vocab, scorer=Levenshtein.distance, score_cutoff=max_dist, limit=4
            ):
                if len(cand) >= 4:
                    out[cand] = max(out.get(cand, 0.0), TYPO_SIM.get(int(dist), 0.0))
        if len(word) >= 4:
            i = bisect.bisect_left(self.vocab, word)
            while i < len(self.vocab) and self.vocab[i].startswith(word):
                cand = self.vocab[i]
                if len(word) >= 0.5 * len(cand):
                    out[cand] = max(out.get(cand, 0.0), PREFIX_SIM)
                i += 1
        return out

    def split(self, word: str) -> tuple[str, str] | None:
        """A glued word ("biodechet") cut into two index words, if it is one."""
        for i in range(3, len(word) - 2):
            if word[:i] in self.vocab_set and word[i:] in self.vocab_set:
                return word[:i], word[i:]
        return None
