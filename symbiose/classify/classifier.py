"""The classifier: normalising → index → scoring → evidence → state variant → decision."""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symbiose.classify.decision import UNKNOWN_LABEL, Result, decide
from symbiose.classify.evidence import Context, Evidence, direction_of, finite, norm_ewc, norm_naf, unit_dimension
from symbiose.classify.index import Index
from symbiose.classify.normalise import Normalised, Normaliser, normalise_key
from symbiose.classify.scoring import Scorer
from symbiose.classify.vocabulary import VOCABULARY_PATH, Vocabulary
from symbiose.domain import UNKNOWN_RESOURCE
from symbiose.taxonomy import Taxonomy, get_taxonomy

INHERIT = 0.96  # share of a parent's text score a child keeps when the context points at it
DESCRIPTION_SHARE = 0.3  # weight of the label/description column next to the resource text
CACHE_LIMIT = 200_000
TERRITORY_CACHE = 16  # classifiers with a territory's corrections kept built


@dataclass(frozen=True)
class Classification:
    """The code chosen for a text, its confidence and up to three alternatives."""

    text: str
    code: str
    label: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()


class Classifier:
    """Classifies free text into taxonomy codes; build once, call many times."""

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        vocabulary_path: Path | None = None,
        *,
        vocabulary: Vocabulary | None = None,
        corrections: Mapping[str, str] | None = None,
    ):
        self.taxonomy = taxonomy if taxonomy is not None else get_taxonomy()
        self.vocabulary = vocabulary if vocabulary is not None else Vocabulary.load(vocabulary_path or VOCABULARY_PATH)
        self.corrections: dict[str, str] = {
            normalise_key(k): v for k, v in (corrections or {}).items() if v in self.taxonomy.resources or v == UNKNOWN_RESOURCE
        }
        self._normalise = Normaliser(self.vocabulary, self.taxonomy.ewc_labels)
        self._index = Index(
            self.taxonomy,
            self._normalise,
            self.vocabulary,
            extra=[(code, text) for text, code in self.corrections.items()],
        )
        self._codes_lower = {c.lower(): c for c in self.taxonomy.resources}
        self._children: dict[str, list[str]] = defaultdict(list)
        for code, res in self.taxonomy.resources.items():
            if res.parent is not None:
                self._children[res.parent].append(code)
        self._depth = {c: c.count(".") for c in self.taxonomy.resources}
        self._lineage = {c: [self.taxonomy.resources[a] for a in self.taxonomy.ancestors(c)] for c in self._depth}
        self._ancestors = {c: [r.code for r in lineage[1:]] for c, lineage in self._lineage.items()}
        self._variant_share = self.vocabulary.weight("variant", 0.7)
        self._labelled_states: dict[str, set[str]] = defaultdict(set)  # state token -> codes labelled in that state
        for code, res in self.taxonomy.resources.items():
            for label in (res.label_fr, res.label_en):
                for state in self._normalise(label).states:
                    self._labelled_states[state].add(code)
        self._scorer = Scorer(self._index, self.vocabulary, self._ancestors)
        self._evidence = Evidence(
            self.taxonomy, self._lineage, self.vocabulary.unit_evidence, self.vocabulary.direction_evidence
        )
        self._raw_cache: dict[tuple[Any, ...], Result] = {}
        self._norm_cache: dict[tuple[Any, ...], Result] = {}
        self._territories: OrderedDict[frozenset[tuple[str, str]], Classifier] = OrderedDict()
        self._last_corrections: tuple[Mapping[str, str], int, Classifier] | None = None

    # -- public ------------------------------------------------------------

    def normalise(self, text: str) -> Normalised:
        """The words, roles and number signals the classifier reads in ``text``."""
        return self._normalise(text)

    def with_corrections(self, corrections: Mapping[str, str] | None) -> Classifier:
        """This classifier plus a territory's corrections ``{text or normalise_key(text): code}``.

        A text whose key is corrected gets that code with confidence 1; the
        corrected texts also become synonyms of their codes, so near texts are
        helped. Built once per distinct mapping (a few are kept); after changing a
        mapping in place, pass a new mapping object."""
        if not corrections:
            return self
        last = self._last_corrections
        if last is not None and last[0] is corrections and last[1] == len(corrections):
            return last[2]  # the same mapping object as the previous row: no re-keying
        key = frozenset((normalise_key(k), v) for k, v in corrections.items())
        hit = self._territories.get(key)
        if hit is None:
            hit = Classifier(self.taxonomy, vocabulary=self.vocabulary, corrections=dict(key))
            self._territories[key] = hit
            if len(self._territories) > TERRITORY_CACHE:
                self._territories.popitem(last=False)
        else:
            self._territories.move_to_end(key)
        self._last_corrections = (corrections, len(corrections), hit)
        return hit

    def classify(
        self,
        text: str,
        *,
        ewc: str | None = None,
        naf: str | None = None,
        temperature_c: float | None = None,
        concentration_pct: float | None = None,
        unit: str | None = None,
        direction: Any = None,
        description: str | None = None,
        corrections: Mapping[str, str] | None = None,
    ) -> Classification:
        """Best taxonomy code for ``text`` (``unknown`` when nothing fits well enough).

        ``unit`` (t, kg, m3, MWh...), ``direction`` (in/out, entrant/sortant)
        and ``description`` (the row's label or description column) are
        evidence too; ``corrections`` is a territory's mapping (see
        :meth:`with_corrections`)."""
        if corrections:
            return self.with_corrections(corrections).classify(
                text, ewc=ewc, naf=naf, temperature_c=temperature_c, concentration_pct=concentration_pct,
                unit=unit, direction=direction, description=description,
            )
        text = "" if text is None else str(text)
        key = (text, ewc, naf, temperature_c, concentration_pct, unit, str(direction) if direction else None, description)
        hit = self._raw_cache.get(key)
        if hit is None:
            hit = self._classify_uncached(text, ewc, naf, temperature_c, concentration_pct, unit, direction, description)
            self._remember(self._raw_cache, key, hit)
        return Classification(text, *hit)

    def classify_many(self, items: Iterable[str | Mapping[str, Any] | Sequence[Any]]) -> list[Classification]:
        """Classify many rows; each item is a text, a mapping with ``text`` (and optional
        ``ewc``, ``naf``, ``temperature_c``, ``concentration_pct``, ``unit``, ``direction``,
        ``description``) or a tuple in that order. Rows that read the same once
        normalised are scored once."""
        names = ("ewc", "naf", "temperature_c", "concentration_pct", "unit", "direction", "description")
        out = []
        for item in items:
            if isinstance(item, str) or item is None:
                out.append(self.classify(item or ""))
            elif isinstance(item, Mapping):
                text = item.get("text", item.get("resource", ""))
                out.append(self.classify(text, **{k: item.get(k) for k in names}))
            else:
                seq = [*item, *([None] * (len(names) + 1))]
                out.append(self.classify(seq[0], **dict(zip(names, seq[1:], strict=False))))
        return out

    def label(self, code: str) -> str:
        """French label of a code (or of ``unknown``)."""
        res = self.taxonomy.resources.get(code)
        return res.label_fr if res is not None else UNKNOWN_LABEL

    def ranked(
        self,
        text: str,
        *,
        ewc: str | None = None,
        naf: str | None = None,
        temperature_c: float | None = None,
        concentration_pct: float | None = None,
        unit: str | None = None,
        direction: Any = None,
        description: str | None = None,
    ) -> list[tuple[str, float]]:
        """Every candidate code with its raw match score, best first (for diagnosis)."""
        norm = self._normalise(str(text or ""))
        ctx = self._context_of(norm, ewc, naf, temperature_c, concentration_pct, unit, direction)
        return self._score(self._words(norm, ctx), ctx, self._description(description))[0]

    def features(self, text: str, **evidence: Any) -> tuple[list[tuple[str, float]], tuple[float, ...]]:
        """The ranked scores and the share of the text the best code explains (calibration input)."""
        norm = self._normalise(str(text or ""))
        ctx = self._context_of(
            norm, *(evidence.get(k) for k in ("ewc", "naf", "temperature_c", "concentration_pct", "unit", "direction"))
        )
        return self._score(self._words(norm, ctx), ctx, self._description(evidence.get("description")))

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _remember(cache: dict[tuple[Any, ...], Result], key: tuple[Any, ...], value: Result) -> None:
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        cache[key] = value

    def _description(self, description: str | None) -> Normalised | None:
        if not description or not str(description).strip():
            return None
        return self._normalise(str(description))

    def _context_of(
        self, norm: Normalised, ewc: Any, naf: Any, temperature_c: Any, concentration_pct: Any, unit: Any = None, direction: Any = None
    ) -> Context:
        temp = finite(temperature_c)
        if temp is None:
            temp = norm.temperature_c
        if temp is None and norm.pressure_bar is not None and self.vocabulary.saturation_words & set(norm.tokens):
            temp = self.vocabulary.saturation_c(norm.pressure_bar)
        conc = finite(concentration_pct)
        ewc_code = norm_ewc(ewc) or norm.ewc
        hazardous = bool(ewc_code) and ("*" in str(ewc or "") or self.taxonomy.ewc_labels.get(ewc_code, ("", False))[1])
        return Context(
            ewc=ewc_code,
            hazardous=hazardous,
            naf=norm_naf(str(naf) if naf is not None else None),
            temperature_c=temp,
            concentration_pct=conc if conc is not None else norm.concentration_pct,
            unit=unit_dimension(unit),
            direction=direction_of(direction, self._evidence.direction_aliases),
        )

    def _classify_uncached(
        self, text: str, ewc: Any, naf: Any, temperature_c: Any, concentration_pct: Any, unit: Any, direction: Any, description: Any
    ) -> Result:
        exact = self._codes_lower.get(text.strip().lower())
        if exact is not None:
            return exact, self.label(exact), 1.0, ()
        if self.corrections:
            corrected = self.corrections.get(normalise_key(text))
            if corrected is not None:
                return corrected, self.label(corrected), 1.0, ()
        norm = self._normalise(text)
        ctx = self._context_of(norm, ewc, naf, temperature_c, concentration_pct, unit, direction)
        desc = self._description(description)
        if ctx.ewc and self._scorer.says_nothing(norm) and (desc is None or self._scorer.says_nothing(desc)):
            mapped = self._evidence.mapped(ctx.ewc)
            if mapped is not None:  # only an EWC code: the resource the taxonomy maps it to
                others = [c for c in self.taxonomy.codes_for_ewc(ctx.ewc) if c != mapped][:3]
                conf = self.vocabulary.ewc_only_confidence
                return mapped, self.label(mapped), conf, tuple((c, round(min(conf, 1 - conf), 4)) for c in others)
        words = self._words(norm, ctx)
        key = (words.tokens, words.roles, ctx, desc.tokens if desc else None)
        hit = self._norm_cache.get(key)
        if hit is None:
            ranked, explained = self._score(words, ctx, desc)
            hit = decide(ranked, self.vocabulary.calibration, explained, self.label)
            self._remember(self._norm_cache, key, hit)
        return hit

    def _words(self, norm: Normalised, ctx: Context) -> Normalised:
        """The text's words, or the EWC entry's label's when the text says nothing itself."""
        if ctx.ewc and all(t in self.vocabulary.vague for t in norm.tokens):
            label = self.taxonomy.ewc_labels.get(ctx.ewc)
            if label:
                return self._normalise(label[0])
        return norm

    def _state_variant(
        self, ranked: list[tuple[str, float]], norm: Normalised, text: Mapping[str, float]
    ) -> list[tuple[str, float]]:
        """A state word of the text ("usagé", "spent") moves the best code to its variant
        in that state, when the taxonomy has one near it (sibling, parent's sibling, child):
        a code whose own label says that state ("Solvants usagés"), not one that merely
        has such a synonym ("eaux usées" for effluents), and that is itself a plausible
        reading of the text (its text score at least ``variant`` of the best one's)."""
        states = norm.states
        if not states or not ranked:
            return ranked
        top, score = ranked[0]
        tokens_of = self._index.tokens_of
        own = set(tokens_of.get(top, ())) | {t for a in self._ancestors[top] for t in tokens_of.get(a, ())}
        missing = [s for s in states if s not in own]
        if not missing:
            return ranked
        root = top.split(".", 1)[0]
        scores = dict(ranked)
        best: tuple[int, float, str] | None = None
        for s in missing:
            for code in self._labelled_states.get(s, ()):
                if code == top or code.split(".", 1)[0] != root or code in self._ancestors[top]:
                    continue
                distance = _tree_distance(top, code)
                if distance > 3 or text.get(code, 0.0) < self._variant_share * text.get(top, score):
                    continue  # too far, or its words not themselves a plausible reading of the text
                cand = (distance, -scores.get(code, 0.0), code)
                if best is None or cand < best:
                    best = cand
        if best is None:
            return ranked
        variant = best[2]
        # the variant and the code it replaces swap their scores
        swapped = {variant: score, top: scores.get(variant, 0.0)}
        return sorted(
            ((c, swapped.get(c, s)) for c, s in ranked), key=lambda cs: (-cs[1], self._depth[cs[0]], cs[0])
        )

    def _score(
        self, norm: Normalised, ctx: Context, description: Normalised | None = None
    ) -> tuple[list[tuple[str, float]], tuple[float, ...]]:
        """Candidate codes with text score plus context boost, best first, and the
        share of the text's weight the best one explains."""
        if description is not None and self._scorer.says_nothing(norm):
            norm, description = description, None  # the label/description column names the resource
        text, coverage = self._scorer.text_scores(norm)
        if description is not None:
            extra, _ = self._scorer.text_scores(description)
            for code, s in extra.items():
                if code in text:
                    text[code] += DESCRIPTION_SHARE * s * (1 - text[code])
        if ctx.ewc:
            for code in self.taxonomy.codes_for_ewc(ctx.ewc):
                text.setdefault(code, 0.0)
            mapped = self._evidence.mapped(ctx.ewc)
            if mapped is not None:
                text.setdefault(mapped, 0.0)
        if not text:
            return [], (0.0, 0.0, 0.0)
        boosts: dict[str, float] = {}

        def boost(code: str) -> float:
            if code not in boosts:
                boosts[code] = self._evidence.boost(code, ctx)
            return boosts[code]

        # a child inherits most of its parent's text match when the context points
        # at it, and at it alone, more than at the parent
        frontier = list(text)
        while frontier:
            code = frontier.pop()
            children = self._children.get(code, ())
            if not children:
                continue
            child_boosts = [(boost(child), child) for child in children]
            best = max(b for b, _ in child_boosts)
            chosen = [child for b, child in child_boosts if b == best]
            if best > boost(code) and len(chosen) == 1:
                child = chosen[0]
                inherited = INHERIT * text[code]
                if inherited > text.get(child, 0.0):
                    text[child] = inherited
                    coverage.setdefault(child, coverage.get(code, (0.0, 0.0)))
                    frontier.append(child)
        final = [(code, s + boost(code)) for code, s in text.items()]
        ranked = sorted((cs for cs in final if cs[1] > 0), key=lambda cs: (-cs[1], self._depth[cs[0]], cs[0]))
        first = ranked[0][0] if ranked else None
        ranked = self._state_variant(ranked, norm, text)
        if not ranked:
            return [], (0.0, 0.0, 0.0)
        top = ranked[0][0]
        explained = coverage.get(top) if top == first else coverage.get(first)  # a state variant keeps what its origin explained
        if explained is None:  # an EWC-only code: its nearest scored relative's share
            near = [v for c, v in coverage.items() if _tree_distance(c, top) <= 3]
            explained = max(near) if near else (0.0, 0.0)
        return ranked, (*explained, self._head_explained(norm, first if first is not None else top))

    def _head_explained(self, norm: Normalised, code: str) -> float:
        """Similarity with which ``code`` (or an ancestor, or a variant's origin) explains the head noun."""
        if norm.head_noun is None:
            return 1.0
        word = norm.tokens[norm.head_noun]
        matches = self._index.lookup(word)
        if not matches:
            parts = self._index.split(word)
            matches = {p: 1.0 for p in parts} if parts else {}
        known = set(self._index.tokens_of.get(code, ())) | {
            t for a in self._ancestors.get(code, ()) for t in self._index.tokens_of.get(a, ())
        }
        return max((sim for m, sim in matches.items() if m in known), default=0.0)


def _tree_distance(a: str, b: str) -> int:
    """Edges between two codes of the dotted tree."""
    pa, pb = a.split("."), b.split(".")
    common = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common += 1
    return len(pa) + len(pb) - 2 * common
