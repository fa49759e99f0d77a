"""Scoring: how well each code's labels explain the words of a text.

Each content word of the text weighs its inverse document frequency, scaled
by its role: the words that name the resource count fully; purpose, origin
and context words count ``clause`` of that; qualifiers and vague words at
most ``qualifier`` of the median word; state tokens ``state`` of the median
word (enough to choose the used/spent variant, too little to outweigh the
material); complement words (after "de"/"of" following a naming word: "tourets de
câbles", "farine de blé") ``complement`` of that, so the head noun decides;
a form word ("chutes", "scrap", "offcuts", "trimmings") counts as
a qualifier when another known word names the material, so "rubber
trimmings" is rubber and "chutes" alone stays wood offcuts; a word the index
does not know counts ``unknown`` of the median word.

A code's score is the F measure of the share of the text's weight explained
by its labels or its ancestors' (``cq``) and the share of its best label
found in the text (``cd``), mixed with rapidfuzz's token-set similarity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from rapidfuzz import fuzz

from symbiose.classify.index import Doc, Index
from symbiose.classify.normalise import COMPLEMENT, NAME, Normalised
from symbiose.classify.vocabulary import STATE_PREFIX, Vocabulary

BETA2 = 1.0  # F-beta of text coverage and label coverage (beta = 1: both count the same)
FUZZ_SHARE = 0.1  # share of rapidfuzz's string similarity in a label's score
STRING_SCORER = fuzz.token_set_ratio

Query = list[tuple[float, dict[str, float]]]


class Scorer:
    """Text scores of the codes of one index."""

    def __init__(self, index: Index, vocabulary: Vocabulary, ancestors: Mapping[str, list[str]]):
        self.index = index
        self.vocab = vocabulary
        self.ancestors = ancestors
        w = vocabulary.weight
        self.clause_share = w("clause", 0.25)
        self.complement_share = w("complement", 0.5)
        self.qualifier_share = w("qualifier", 0.25)
        self.state_share = w("state", 0.5)
        self.unknown_share = w("unknown", 0.5)

    def _is_plain(self, word: str) -> bool:
        v = self.vocab
        return not (
            word in v.qualifiers or word in v.vague or word in v.form_words or word.startswith(STATE_PREFIX)
        )

    def query(self, norm: Normalised) -> Query:
        """Each content word of the text, as (weight, index words it may stand for)."""
        index, v = self.index, self.vocab
        tokens = norm.tokens
        merged: list[tuple[str, str]] = []
        i = 0
        while i < len(tokens):  # two words the index knows glued ("big bag" -> "bigbag")
            if i + 1 < len(tokens) and tokens[i] + tokens[i + 1] in index.vocab_set:
                merged.append((tokens[i] + tokens[i + 1], norm.role(i)))
                i += 2
            else:
                merged.append((tokens[i], norm.role(i)))
                i += 1
        # another word than a form, state or qualifier names the material, known or
        # not: "leather offcuts" are not wood offcuts, and better unknown than wrong
        material_named = any(role in (NAME, COMPLEMENT) and self._is_plain(word) and len(word) > 2 for word, role in merged)
        median = index.median_idf
        query: Query = []
        clause_at: list[bool] = []  # which entries of the query come from a purpose/origin/context clause
        seen: set[str] = set()
        for word, role in merged:
            if word in seen:
                continue
            seen.add(word)
            share = 1.0 if role == NAME else self.complement_share if role == COMPLEMENT else self.clause_share
            matches = index.lookup(word)
            if not matches:
                parts = index.split(word)
                if parts:
                    for part in parts:
                        if part not in seen:
                            seen.add(part)
                            query.append((share * index.idf[part], {part: 1.0}))
                            clause_at.append(role not in (NAME, COMPLEMENT))
                    continue
                if word.startswith("dim"):
                    continue
            if matches:
                weight = max(index.idf[m] * sim for m, sim in matches.items())
            else:
                weight = self.unknown_share * median
            if word.startswith(STATE_PREFIX):
                weight = self.state_share * median
            elif word in v.qualifiers or word in v.vague or (word in v.form_words and material_named):
                weight = min(weight, self.qualifier_share * median)
            query.append((share * weight, matches))
            clause_at.append(role not in (NAME, COMPLEMENT))
        # a clause as a whole weighs at most `clause` of the words naming the resource
        named = sum(w for (w, _), c in zip(query, clause_at, strict=True) if not c)
        clauses = sum(w for (w, _), c in zip(query, clause_at, strict=True) if c)
        if named > 0 and clauses > self.clause_share * named:
            scale = self.clause_share * named / clauses
            query = [((w * scale if c else w), m) for (w, m), c in zip(query, clause_at, strict=True)]
        return query

    def says_nothing(self, norm: Normalised) -> bool:
        """True when the text has only vague, qualifier or state words ("divers", "produits non conformes")."""
        v = self.vocab
        return all(t in v.vague or t in v.qualifiers or t.startswith(STATE_PREFIX) for t in norm.tokens)

    def text_scores(self, norm: Normalised) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        """Match score of every code sharing a word with the text, and the share
        of the text's weight each explains (``cq``) and explains exactly (no typo or prefix)."""
        tokens = norm.tokens
        if not tokens or self.says_nothing(norm):
            return {}, {}
        index = self.index
        query = self.query(norm)
        total = sum(w for w, _ in query) or 1.0
        docs_by_code: dict[str, list[Doc]] = defaultdict(list)
        seen_docs: set[int] = set()
        for _, matches in query:
            for m in matches:
                for di in index.by_token[m]:
                    if di not in seen_docs:
                        seen_docs.add(di)
                        docs_by_code[index.docs[di].code].append(index.docs[di])
        qtext = " ".join(tokens)
        scores: dict[str, float] = {}
        coverage: dict[str, tuple[float, float]] = {}
        for code, docs in docs_by_code.items():
            # a child is a kind of its parent: the parent's words explain the text too
            inherited = [d for anc in self.ancestors[code] for d in docs_by_code.get(anc, ())]
            best_q = [0.0] * len(query)
            best_d = 0.0
            best_r = 0.0
            for own, doc in [*((True, d) for d in docs), *((False, d) for d in inherited)]:
                covered: dict[str, float] = {}
                for qi, (_, matches) in enumerate(query):
                    for m, sim in matches.items():
                        if m in doc.tokens:
                            if sim > best_q[qi]:
                                best_q[qi] = sim
                            if sim > covered.get(m, 0.0):
                                covered[m] = sim
                if not own:
                    continue
                cd = sum(index.idf[m] * sim for m, sim in covered.items()) / (doc.weight or 1.0)
                best_d = max(best_d, cd)
                best_r = max(best_r, STRING_SCORER(qtext, doc.text) / 100.0)
            cq = sum(w * q for (w, _), q in zip(query, best_q, strict=True)) / total
            exact = sum(w for (w, _), q in zip(query, best_q, strict=True) if q >= 1.0) / total
            if cq <= 0 or best_d <= 0:
                continue
            f = (1 + BETA2) * cq * best_d / (BETA2 * best_d + cq)
            scores[code] = (1 - FUZZ_SHARE) * f + FUZZ_SHARE * best_r
            coverage[code] = (cq, exact)
        return scores, coverage
