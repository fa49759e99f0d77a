"""Free text of a diagnostic row → taxonomy code, with a calibrated confidence.

The text is normalised the way animators write (case, accents, plurals,
abbreviations of ``vocabulary.yaml``); numbers are taken out and kept as
signals (temperature, concentration, EWC code). Each taxonomy code is
described by its French and English labels and synonyms; a token index finds
the codes sharing words with the text, rapidfuzz corrects typos and compares
the strings, and the EWC code, the company's NAF code and the signals move the
scores. A logistic map fitted on labelled rows turns the best score and its
lead over the next code into a probability of being right.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from symbiose.domain import UNKNOWN_RESOURCE
from symbiose.taxonomy import DATA_DIR, Taxonomy, get_taxonomy

VOCABULARY_PATH = DATA_DIR / "vocabulary.yaml"
UNKNOWN_LABEL = "Ressource non reconnue"

UNKNOWN_THRESHOLD = 0.35
"""Below this confidence the import records ``unknown`` and lists the row for review."""
LOW_CONFIDENCE = 0.6
"""Below this confidence the import warns that the classification is doubtful."""

# Scoring weights (dimensionless, tuned on the dev half of the labelled set).
_BETA2 = 4.0  # F-beta with beta = 2: explaining the text counts more than covering the label
_FUZZ_SHARE = 0.15  # share of rapidfuzz's token_sort_ratio in a label's score
_QUALIFIER_SHARE = 0.25  # weight of a state/container word, relative to the median word
_UNKNOWN_SHARE = 0.5  # weight of a word the taxonomy does not know, relative to the median word
_TYPO_SIM = {1: 0.9, 2: 0.8}  # similarity of a word corrected by 1 or 2 edits
_PREFIX_SIM = 0.85  # similarity of a truncated word ("electr") to the words it starts
_INHERIT = 0.96  # share of a parent's text score a child keeps when the context points at it
_BOOST_EWC = 0.20
_BOOST_EWC_SUBCHAPTER = 0.06
_BOOST_EWC_CHAPTER = 0.03
_BOOST_NAF = 0.05
_BOOST_RANGE = 0.10  # temperature/concentration inside a code's own range
_PENALTY_RANGE = 0.15  # temperature/concentration outside a code's range
_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class Classification:
    """The code chosen for a text, its confidence and up to three alternatives."""

    text: str
    code: str
    label: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Normalised:
    """A text reduced to matching words, with the numbers it carried."""

    tokens: tuple[str, ...]
    temperature_c: float | None = None
    concentration_pct: float | None = None
    ewc: str | None = None
    has_dimensions: bool = False


# --------------------------------------------------------------------------
# Vocabulary and normalisation
# --------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower-case ``text`` and drop its accents (NFKD without combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("º", "°"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _number(raw: str) -> float:
    return float(raw.replace(" ", "").replace(",", "."))


_NON_WORD = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"^\d+$")
_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True)
class Vocabulary:
    """The classifier's word lists and number patterns (``vocabulary.yaml``)."""

    stop_words: frozenset[str]
    qualifiers: frozenset[str]
    vague: frozenset[str]
    invariant: frozenset[str]
    irregular_plurals: Mapping[str, str]
    abbreviations: Mapping[str, tuple[str, ...]]
    phrases: Mapping[tuple[str, ...], tuple[str, ...]]
    extra_synonyms: Mapping[str, tuple[str, ...]]
    patterns: Mapping[str, re.Pattern[str]]
    calibration: tuple[float, float, float]

    @classmethod
    def load(cls, path: Path = VOCABULARY_PATH) -> Vocabulary:
        """Read and compile a vocabulary file."""
        raw: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}

        def words(key: str) -> frozenset[str]:
            return frozenset(fold(str(w)) for w in raw.get(key) or [])

        cal = raw.get("calibration") or {}
        base = cls(
            stop_words=words("stop_words"),
            qualifiers=words("qualifiers"),
            vague=words("vague"),
            invariant=words("invariant"),
            irregular_plurals={fold(k): fold(v) for k, v in (raw.get("irregular_plurals") or {}).items()},
            abbreviations={},
            phrases={},
            extra_synonyms={
                str(code): tuple(str(s) for s in syns or [])
                for code, syns in (raw.get("extra_synonyms") or {}).items()
            },
            patterns={k: re.compile(v) for k, v in (raw.get("patterns") or {}).items()},
            calibration=(
                float(cal.get("intercept", -4.0)),
                float(cal.get("top", 7.0)),
                float(cal.get("margin", 4.0)),
            ),
        )
        # Expansions and phrases are written in plain words: reduce them with
        # the same plural rules as everything else.
        abbreviations = {}
        for k, v in (raw.get("abbreviations") or {}).items():
            expansion = tuple(base.singular(w) for w in _NON_WORD.split(fold(str(v or ""))) if w)
            abbreviations[fold(k)] = expansion
            abbreviations.setdefault(base.singular(fold(k)), expansion)
        phrases = {}
        for k, v in (raw.get("phrases") or {}).items():
            key = tuple(base.singular(w) for w in _NON_WORD.split(fold(str(k))) if w)
            phrases[key] = tuple(base.singular(w) for w in _NON_WORD.split(fold(str(v))) if w)
        # state and vague words are compared after the same reduction
        qualifiers = base.qualifiers | {base.singular(w) for w in base.qualifiers}
        vague = base.vague | {base.singular(w) for w in base.vague}
        return cls(
            **{
                **base.__dict__,
                "abbreviations": abbreviations,
                "phrases": phrases,
                "qualifiers": qualifiers,
                "vague": vague,
            }
        )

    def singular(self, word: str) -> str:
        """French (and simple English) singular of one folded word."""
        if word in self.irregular_plurals:
            return self.irregular_plurals[word]
        if word in self.invariant or len(word) <= 3 or word.isdigit():
            return word
        if word.endswith("eaux"):
            word = word[:-1]
        elif word.endswith("aux"):
            word = word[:-3] + "al"
        elif word.endswith("oux"):
            word = word[:-1]
        elif word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        # feminine forms and a final mute -e, so "chaude" = "chaud" and "acide" = "acid"
        if len(word) > 4:
            if word.endswith("euse"):
                word = word[:-4] + "eux"
            elif word.endswith("elle"):
                word = word[:-2]
            elif word.endswith("ive"):
                word = word[:-3] + "if"
            elif word.endswith("ee"):
                word = word[:-2]
            elif word.endswith("e") and word[-2] not in _VOWELS:
                word = word[:-1]
        return word


class _Normaliser:
    """Text → :class:`Normalised`, with the vocabulary's rules."""

    def __init__(self, vocabulary: Vocabulary, ewc_codes: Iterable[str] = ()):
        self.vocab = vocabulary
        self.ewc_codes = frozenset(ewc_codes)
        self.max_phrase = max((len(k) for k in vocabulary.phrases), default=0)

    def signals(self, folded: str) -> tuple[str, dict[str, Any]]:
        """Take dimensions, temperatures, percentages, quantities and EWC codes out of the text."""
        pats = self.vocab.patterns
        found: dict[str, Any] = {}

        def cut(name: str, on_match) -> None:
            nonlocal folded
            pat = pats.get(name)
            if pat is None:
                return

            def repl(m: re.Match[str]) -> str:
                keep = on_match(m)
                return m.group(0) if keep is False else " "

            folded = pat.sub(repl, folded)

        def dims(_m: re.Match[str]) -> None:
            found["dims"] = True

        def temp_range(m: re.Match[str]) -> None:
            found.setdefault("temperature", (_number(m.group(1)) + _number(m.group(2))) / 2)

        def temp(m: re.Match[str]) -> None:
            found.setdefault("temperature", _number(m.group(1)))

        def pct(m: re.Match[str]) -> bool | None:
            value = _number(m.group(1))
            if not 0 <= value <= 100:
                return None
            found.setdefault("concentration", value)
            return None

        def ewc(m: re.Match[str]) -> bool | None:
            code = m.group(1) + m.group(2) + m.group(3)
            known = code in self.ewc_codes if self.ewc_codes else 1 <= int(m.group(1)) <= 20
            if not known:
                return False
            found.setdefault("ewc", code)
            return None

        cut("dimension", dims)
        cut("temperature_range", temp_range)
        cut("temperature", temp)
        cut("percent", pct)
        cut("quantity", lambda m: None)
        cut("ewc", ewc)
        cut("number", lambda m: None)
        return folded, found

    def words(self, folded: str) -> list[str]:
        """Folded text without numbers → matching words (plurals, abbreviations, phrases)."""
        v = self.vocab
        out: list[str] = []
        for raw in _NON_WORD.split(anyascii(folded).lower()):
            if not raw or _DIGITS.match(raw):
                continue
            if raw in v.abbreviations:
                out.extend(v.abbreviations[raw])
                continue
            if raw in v.stop_words:
                continue
            word = v.singular(raw)
            if word in v.abbreviations:
                out.extend(v.abbreviations[word])
            elif word not in v.stop_words and len(word) > 1:
                out.append(word)
        if self.max_phrase:
            out = self._phrases(out)
        return out

    def _phrases(self, words: list[str]) -> list[str]:
        phrases = self.vocab.phrases
        out: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_phrase, len(words) - i), 1, -1):
                key = tuple(words[i : i + n])
                if key in phrases:
                    out.extend(phrases[key])
                    i += n
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def __call__(self, text: str) -> Normalised:
        folded, found = self.signals(fold(text))
        return Normalised(
            tokens=tuple(self.words(folded)),
            temperature_c=found.get("temperature"),
            concentration_pct=found.get("concentration"),
            ewc=found.get("ewc"),
            has_dimensions=bool(found.get("dims")),
        )


# --------------------------------------------------------------------------
# Index of the taxonomy's labels
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Doc:
    code: str
    tokens: frozenset[str]
    text: str
    weight: float  # sum of the idf of its tokens


class _Index:
    """Every label and synonym of every code, as token sets, with an inverted index."""

    def __init__(self, taxonomy: Taxonomy, normaliser: _Normaliser, vocabulary: Vocabulary):
        raw_docs: list[tuple[str, tuple[str, ...]]] = []
        for code, res in taxonomy.resources.items():
            texts = [res.label_fr, res.label_en, *res.synonyms, *vocabulary.extra_synonyms.get(code, ())]
            texts.append(code.rsplit(".", 1)[-1].replace("_", " "))
            seen: set[frozenset[str]] = set()
            for text in texts:
                toks = tuple(t for t in normaliser.words(normaliser.signals(fold(text))[0]))
                key = frozenset(toks)
                if key and key not in seen:
                    seen.add(key)
                    raw_docs.append((code, toks))
        df: dict[str, set[str]] = defaultdict(set)
        for code, toks in raw_docs:
            for t in toks:
                df[t].add(code)
        n = max(1, len(taxonomy.resources))
        self.idf = {t: math.log(1.0 + n / len(codes)) for t, codes in df.items()}
        self.median_idf = statistics.median(self.idf.values()) if self.idf else 1.0
        self.docs: list[_Doc] = []
        self.by_token: dict[str, list[int]] = defaultdict(list)
        for code, toks in raw_docs:
            tokens = frozenset(toks)
            doc = _Doc(code, tokens, " ".join(toks), sum(self.idf[t] for t in tokens))
            for t in tokens:
                self.by_token[t].append(len(self.docs))
            self.docs.append(doc)
        self.vocab = sorted(self.by_token)
        self.vocab_set = frozenset(self.vocab)

    def lookup(self, word: str) -> dict[str, float]:
        """Index words a text word may stand for, with a similarity in (0, 1]."""
        if word in self.vocab_set:
            return {word: 1.0}
        out: dict[str, float] = {}
        if len(word) >= 5:
            max_dist = 1 if len(word) <= 7 else 2
            for cand, dist, _ in process.extract(
                word, self.vocab, scorer=Levenshtein.distance, score_cutoff=max_dist, limit=4
            ):
                if len(cand) >= 4:
                    out[cand] = max(out.get(cand, 0.0), _TYPO_SIM.get(int(dist), 0.0))
        if len(word) >= 4:
            i = bisect.bisect_left(self.vocab, word)
            while i < len(self.vocab) and self.vocab[i].startswith(word):
                cand = self.vocab[i]
                if len(word) >= 0.5 * len(cand):
                    out[cand] = max(out.get(cand, 0.0), _PREFIX_SIM)
                i += 1
        return out

    def split(self, word: str) -> tuple[str, str] | None:
        """A glued word ("biodechet") cut into two index words, if it is one."""
        for i in range(3, len(word) - 2):
            if word[:i] in self.vocab_set and word[i:] in self.vocab_set:
                return word[:i], word[i:]
        return None


# --------------------------------------------------------------------------
# Classifier
# --------------------------------------------------------------------------

_Result = tuple[str, str, float, tuple[tuple[str, float], ...]]


def _norm_naf(naf: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (naf or "").upper())


def _norm_ewc(ewc: str | None) -> str | None:
    if not ewc:
        return None
    digits = re.sub(r"\D", "", str(ewc))
    return digits if len(digits) == 6 else None


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


class Classifier:
    """Classifies free text into taxonomy codes; build once, call many times."""

    def __init__(self, taxonomy: Taxonomy | None = None, vocabulary_path: Path | None = None):
        self.taxonomy = taxonomy if taxonomy is not None else get_taxonomy()
        self.vocabulary = Vocabulary.load(vocabulary_path or VOCABULARY_PATH)
        self._normalise = _Normaliser(self.vocabulary, self.taxonomy.ewc_labels)
        self._index = _Index(self.taxonomy, self._normalise, self.vocabulary)
        self._codes_lower = {c.lower(): c for c in self.taxonomy.resources}
        self._children: dict[str, list[str]] = defaultdict(list)
        for code, res in self.taxonomy.resources.items():
            if res.parent is not None:
                self._children[res.parent].append(code)
        self._depth = {c: c.count(".") for c in self.taxonomy.resources}
        self._raw_cache: dict[tuple[Any, ...], _Result] = {}
        self._norm_cache: dict[tuple[Any, ...], _Result] = {}

    # -- public ------------------------------------------------------------

    def normalise(self, text: str) -> Normalised:
        """The words and number signals the classifier reads in ``text``."""
        return self._normalise(text)

    def classify(
        self,
        text: str,
        *,
        ewc: str | None = None,
        naf: str | None = None,
        temperature_c: float | None = None,
        concentration_pct: float | None = None,
    ) -> Classification:
        """Best taxonomy code for ``text`` (``unknown`` when nothing fits well enough)."""
        text = "" if text is None else str(text)
        key = (text, ewc, naf, temperature_c, concentration_pct)
        hit = self._raw_cache.get(key)
        if hit is None:
            hit = self._classify_uncached(text, ewc, naf, temperature_c, concentration_pct)
            self._remember(self._raw_cache, key, hit)
        return Classification(text, *hit)

    def classify_many(self, items: Iterable[str | Mapping[str, Any] | Sequence[Any]]) -> list[Classification]:
        """Classify many rows; each item is a text, a mapping with ``text`` (and optional
        ``ewc``, ``naf``, ``temperature_c``, ``concentration_pct``) or a tuple in that order."""
        out = []
        for item in items:
            if isinstance(item, str):
                out.append(self.classify(item))
            elif isinstance(item, Mapping):
                text = item.get("text", item.get("resource", ""))
                kwargs = {k: item.get(k) for k in ("ewc", "naf", "temperature_c", "concentration_pct")}
                out.append(self.classify(text, **kwargs))
            else:
                seq = list(item) + [None] * 5
                out.append(
                    self.classify(seq[0], ewc=seq[1], naf=seq[2], temperature_c=seq[3], concentration_pct=seq[4])
                )
        return out

    def label(self, code: str) -> str:
        """French label of a code (or of ``unknown``)."""
        res = self.taxonomy.resources.get(code)
        return res.label_fr if res is not None else UNKNOWN_LABEL

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _remember(cache: dict[tuple[Any, ...], _Result], key: tuple[Any, ...], value: _Result) -> None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = value

    def _classify_uncached(
        self,
        text: str,
        ewc: str | None,
        naf: str | None,
        temperature_c: float | None,
        concentration_pct: float | None,
    ) -> _Result:
        stripped = text.strip()
        exact = self._codes_lower.get(stripped.lower())
        if exact is not None:
            return exact, self.label(exact), 1.0, ()
        norm = self._normalise(text)
        ewc_code = _norm_ewc(ewc) or norm.ewc
        temp = _finite(temperature_c) if _finite(temperature_c) is not None else norm.temperature_c
        conc = _finite(concentration_pct) if _finite(concentration_pct) is not None else norm.concentration_pct
        key = (norm.tokens, ewc_code, _norm_naf(naf), temp, conc)
        hit = self._norm_cache.get(key)
        if hit is None:
            hit = self._decide(self._score(norm.tokens, ewc_code, _norm_naf(naf), temp, conc))
            self._remember(self._norm_cache, key, hit)
        return hit

    def _decide(self, ranked: list[tuple[str, float]]) -> _Result:
        if not ranked:
            return UNKNOWN_RESOURCE, UNKNOWN_LABEL, 0.0, ()
        a, b, c = self.vocabulary.calibration
        s1 = ranked[0][1]
        s2 = ranked[1][1] if len(ranked) > 1 else 0.0
        top_conf = _sigmoid(a + b * s1 + c * (s1 - s2))
        rest = 1.0 - top_conf
        confs = [(ranked[0][0], top_conf)]
        for code, s in ranked[1:4]:
            confs.append((code, min(rest, _sigmoid(a + b * s + c * (s - s1)))))
        confs = [(code, round(p, 4)) for code, p in confs]
        if top_conf < UNKNOWN_THRESHOLD:
            return UNKNOWN_RESOURCE, UNKNOWN_LABEL, confs[0][1], tuple(confs[:3])
        return confs[0][0], self.label(confs[0][0]), confs[0][1], tuple(confs[1:4])

    def _query(self, tokens: tuple[str, ...]) -> list[tuple[float, dict[str, float]]]:
        """Each content word of the text, as (weight, index words it may stand for)."""
        index, v = self._index, self.vocabulary
        words = list(tokens)
        # glue two words the index knows as one ("big bag" -> "bigbag")
        merged: list[str] = []
        i = 0
        while i < len(words):
            if i + 1 < len(words) and words[i] + words[i + 1] in index.vocab_set:
                merged.append(words[i] + words[i + 1])
                i += 2
            else:
                merged.append(words[i])
                i += 1
        query: list[tuple[float, dict[str, float]]] = []
        seen: set[str] = set()
        for word in merged:
            if word in seen:
                continue
            seen.add(word)
            matches = index.lookup(word)
            if not matches and word not in index.vocab_set:
                parts = index.split(word)
                if parts:
                    for p in parts:
                        if p not in seen:
                            seen.add(p)
                            query.append((index.idf[p], {p: 1.0}))
                    continue
            if matches:
                weight = max(index.idf[m] * s for m, s in matches.items())
            else:
                weight = _UNKNOWN_SHARE * index.median_idf
            if word in v.qualifiers or word in v.vague:
                weight = min(weight, _QUALIFIER_SHARE * index.median_idf)
            query.append((weight, matches))
        return query

    def _text_scores(self, tokens: tuple[str, ...]) -> dict[str, float]:
        """Best label score of every code sharing a word with the text."""
        if not tokens or all(t in self.vocabulary.vague for t in tokens):
            return {}
        index = self._index
        query = self._query(tokens)
        total = sum(w for w, _ in query) or 1.0
        candidates: set[int] = set()
        for _, matches in query:
            for m in matches:
                candidates.update(index.by_token[m])
        qtext = " ".join(tokens)
        scores: dict[str, float] = {}
        for di in candidates:
            doc = index.docs[di]
            covered_q = 0.0
            covered_d: dict[str, float] = {}
            for weight, matches in query:
                best = 0.0
                for m, sim in matches.items():
                    if m in doc.tokens and sim > best:
                        best = sim
                        if sim > covered_d.get(m, 0.0):
                            covered_d[m] = sim
                covered_q += weight * best
            cq = covered_q / total
            cd = sum(index.idf[m] * s for m, s in covered_d.items()) / (doc.weight or 1.0)
            if cq <= 0 or cd <= 0:
                continue
            f = (1 + _BETA2) * cq * cd / (_BETA2 * cd + cq)
            score = (1 - _FUZZ_SHARE) * f + _FUZZ_SHARE * fuzz.token_sort_ratio(qtext, doc.text) / 100.0
            if score > scores.get(doc.code, 0.0):
                scores[doc.code] = score
        return scores

    def _context(self, code: str, ewc: str | None, naf: str, temp: float | None, conc: float | None) -> float:
        """Boost (or penalty) of a code from the EWC code, the NAF code and the signals."""
        tax = self.taxonomy
        res = tax.resources[code]
        lineage = [tax.resources[c] for c in tax.ancestors(code)]
        boost = 0.0
        if ewc:
            listed = {e for r in lineage for e in r.ewc}
            if ewc in listed:
                boost += _BOOST_EWC
            elif any(e[:4] == ewc[:4] for e in listed):
                boost += _BOOST_EWC_SUBCHAPTER
            elif any(e[:2] == ewc[:2] for e in listed):
                boost += _BOOST_EWC_CHAPTER
        if naf:
            hints = {_norm_naf(h) for r in lineage for h in r.naf_hints}
            if any(h and naf.startswith(h) for h in hints):
                boost += _BOOST_NAF
        parent = tax.resources.get(res.parent) if res.parent else None
        for value, rng, parent_rng in (
            (temp, res.temperature_range_c, parent.temperature_range_c if parent else None),
            (conc, res.concentration_range_pct, parent.concentration_range_pct if parent else None),
        ):
            if value is None or rng is None:
                continue
            lo, hi = rng
            if lo <= value <= hi:
                if rng != parent_rng:
                    boost += _BOOST_RANGE
            else:
                boost -= _PENALTY_RANGE
        return boost

    def _score(
        self, tokens: tuple[str, ...], ewc: str | None, naf: str, temp: float | None, conc: float | None
    ) -> list[tuple[str, float]]:
        text = self._text_scores(tokens)
        if ewc:
            for code in self.taxonomy.codes_for_ewc(ewc):
                text.setdefault(code, 0.0)
        if not text:
            return []
        context: dict[str, float] = {}

        def ctx(code: str) -> float:
            if code not in context:
                context[code] = self._context(code, ewc, naf, temp, conc)
            return context[code]

        # a child inherits its parent's text match when the context points at it more
        frontier = list(text)
        while frontier:
            code = frontier.pop()
            for child in self._children.get(code, ()):
                if ctx(child) > ctx(code):
                    inherited = _INHERIT * text[code]
                    if inherited > text.get(child, 0.0):
                        text[child] = inherited
                        frontier.append(child)
        final = ((code, s + ctx(code)) for code, s in text.items())
        return sorted((cs for cs in final if cs[1] > 0), key=lambda cs: (-cs[1], self._depth[cs[0]], cs[0]))


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@lru_cache(maxsize=1)
def get_classifier() -> Classifier:
    """The classifier of the shipped taxonomy and vocabulary, built once."""
    return Classifier()


__all__ = [
    "LOW_CONFIDENCE",
    "UNKNOWN_THRESHOLD",
    "Classification",
    "Classifier",
    "Normalised",
    "Vocabulary",
    "fold",
    "get_classifier",
]
