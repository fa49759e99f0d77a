"""Free text of a diagnostic row → taxonomy code, with a calibrated confidence.

The text is normalised the way animators write (case, accents, plurals,
abbreviations of ``vocabulary.yaml``); numbers are taken out and kept as
signals (temperature, concentration, EWC code). Each taxonomy code is
described by its French and English labels and synonyms; a token index finds
the codes sharing words with the text, rapidfuzz corrects typos and compares
the strings, and the EWC code, the company's NAF code and the signals move the
scores. A logistic map (``calibration`` in ``vocabulary.yaml``, fitted by
``benchmarks/bench_classifier.py --fit``) turns the best score and its lead
over the next code into a probability of being right.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
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
from symbiose.text import fold

VOCABULARY_PATH = DATA_DIR / "vocabulary.yaml"
UNKNOWN_LABEL = "Ressource non reconnue"

UNKNOWN_THRESHOLD = 0.35
"""Below this confidence the import records ``unknown`` and lists the row for review."""
LOW_CONFIDENCE = 0.6
"""Below this confidence the import warns that the classification is doubtful."""

# Scoring weights (dimensionless, tuned on the dev half of the labelled set).
_BETA2 = 1.0  # F-beta of text coverage and label coverage (beta = 1: both count the same)
_FUZZ_SHARE = 0.1  # share of rapidfuzz's string similarity in a label's score
_STRING_SCORER = fuzz.token_set_ratio
_QUALIFIER_SHARE = 0.25  # weight of a state/container word, relative to the median word
_CLAUSE_SHARE = 0.25  # weight of a word of a purpose or origin clause ("... pour serres", "... from X")
_UNKNOWN_SHARE = 0.5  # weight of a word the taxonomy does not know, relative to the median word
_TYPO_SIM = {1: 0.9, 2: 0.8}  # similarity of a word corrected by 1 or 2 edits
_PREFIX_SIM = 0.85  # similarity of a truncated word ("electr") to the words it starts
_INHERIT = 0.96  # share of a parent's text score a child keeps when the context points at it
_BOOST_EWC = 0.30
_BOOST_EWC_SUBCHAPTER = 0.06
_BOOST_EWC_CHAPTER = 0.03
_BOOST_HAZARDOUS = 0.05  # a hazardous EWC code ("*") points at hazardous resources
_BOOST_NAF = 0.05
_BOOST_LEVEL = 0.05  # a child that lists the EWC/NAF code as well as its parent is more specific
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
    head: int | None = None  # tokens before a purpose/origin clause ("for", "pour", "from", ...); None: no clause
    temperature_c: float | None = None
    concentration_pct: float | None = None
    ewc: str | None = None
    pressure_bar: float | None = None
    dimensions_mm: tuple[int, int] | None = None


# --------------------------------------------------------------------------
# Vocabulary and normalisation
# --------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower-case, accents removed (the shared folding; "º" read as "°" first)."""
    return fold(text.replace("º", "°"))


def _number(raw: str) -> float:
    return float(raw.replace(" ", "").replace(",", "."))


_NON_WORD = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"^\d+$")
_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True)
class Vocabulary:
    """The classifier's word lists and number patterns (``vocabulary.yaml``)."""

    stop_words: frozenset[str]
    clause_words: frozenset[str]
    negations: frozenset[str]
    qualifiers: frozenset[str]
    vague: frozenset[str]
    invariant: frozenset[str]
    irregular_plurals: Mapping[str, str]
    abbreviations: Mapping[str, tuple[str, ...]]
    phrases: Mapping[tuple[str, ...], tuple[str, ...]]
    rewrites: tuple[tuple[re.Pattern[str], str], ...]
    extra_synonyms: Mapping[str, tuple[str, ...]]
    patterns: Mapping[str, re.Pattern[str]]
    saturation_words: frozenset[str]
    steam_saturation: tuple[float, float, float]  # base_c, exponent, atmosphere_bar
    calibration: tuple[float, float, float]

    @classmethod
    def load(cls, path: Path = VOCABULARY_PATH) -> Vocabulary:
        """Read and compile a vocabulary file."""
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw: dict[str, Any] = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}

        def words(key: str) -> frozenset[str]:
            return frozenset(_fold(str(w)) for w in raw.get(key) or [])

        cal = raw.get("calibration") or {}
        sat = raw.get("steam_saturation") or {}
        base = cls(
            stop_words=words("stop_words"),
            clause_words=words("clause_words"),
            negations=words("negations"),
            qualifiers=words("qualifiers"),
            vague=words("vague"),
            invariant=words("invariant"),
            irregular_plurals={_fold(k): _fold(v) for k, v in (raw.get("irregular_plurals") or {}).items()},
            abbreviations={},
            phrases={},
            extra_synonyms={
                str(code): tuple(str(s) for s in syns or []) for code, syns in (raw.get("extra_synonyms") or {}).items()
            },
            patterns={k: re.compile(v) for k, v in (raw.get("patterns") or {}).items()},
            rewrites=tuple((re.compile(pat), repl) for pat, repl in raw.get("rewrites") or []),
            saturation_words=words("saturation_words"),
            steam_saturation=(
                float(sat.get("base_c", 100.0)),
                float(sat.get("exponent", 0.25)),
                float(sat.get("atmosphere_bar", 1.013)),
            ),
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
            expansion = tuple(base.singular(w) for w in _NON_WORD.split(_fold(str(v or ""))) if w)
            abbreviations[_fold(k)] = expansion
            abbreviations.setdefault(base.singular(_fold(k)), expansion)
        phrases = {}
        for k, v in (raw.get("phrases") or {}).items():
            key = tuple(base.singular(w) for w in _NON_WORD.split(_fold(str(k))) if w)
            phrases[key] = tuple(base.singular(w) for w in _NON_WORD.split(_fold(str(v))) if w)
        # state and vague words are compared after the same reduction
        qualifiers = base.qualifiers | {base.singular(w) for w in base.qualifiers}
        vague = base.vague | {base.singular(w) for w in base.vague}
        saturation_words = base.saturation_words | {base.singular(w) for w in base.saturation_words}
        return cls(
            **{
                **base.__dict__,
                "abbreviations": abbreviations,
                "phrases": phrases,
                "qualifiers": qualifiers,
                "vague": vague,
                "saturation_words": saturation_words,
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

    def saturation_c(self, gauge_bar: float) -> float:
        """Saturation temperature of steam at a gauge pressure (bar)."""
        base, exponent, atm = self.steam_saturation
        return base * max(gauge_bar + atm, 0.01) ** exponent


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
                if keep is False:
                    return m.group(0)
                return keep if isinstance(keep, str) else " "

            folded = pat.sub(repl, folded)

        def dims(m: re.Match[str]) -> str:
            text = m.group(0)
            values = [_number(x) for x in re.findall(r"\d+(?:[.,]\d+)?", text)][:2]
            if len(values) < 2:
                return " "
            if "mm" in text:
                scale = 1.0
            elif "cm" in text:
                scale = 10.0
            elif re.search(r"\dm|\sm\b", text) or max(values) < 5:
                scale = 1000.0
            else:
                scale = 10.0 if max(values) < 300 else 1.0
            big, small = sorted((round(v * scale) for v in values), reverse=True)
            found.setdefault("dims", (big, small))
            return f" dim{big}x{small} "

        def temp_range(m: re.Match[str]) -> None:
            found.setdefault("temperature", (_number(m.group(1)) + _number(m.group(2))) / 2)

        def temp(m: re.Match[str]) -> None:
            found.setdefault("temperature", _number(m.group(1)))

        def pressure(m: re.Match[str]) -> None:
            found.setdefault("pressure", _number(m.group(1)))

        def pct(m: re.Match[str]) -> None:
            value = _number(m.group(1))
            if 0 <= value <= 100:
                found.setdefault("concentration", value)

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
        cut("pressure", pressure)
        cut("percent", pct)
        cut("quantity", lambda m: None)
        cut("ewc", ewc)
        cut("number", lambda m: None)
        return folded, found

    def words(self, folded: str) -> list[str]:
        """Folded text without numbers → matching words (plurals, abbreviations, phrases)."""
        return self.words_and_head(folded)[0]

    def words_and_head(self, folded: str) -> tuple[list[str], int | None]:
        """The matching words and how many come before a purpose/origin clause (None: no clause).

        A clause opens at the first clause word ("pour", "for", "from", ...)
        that follows at least one word: what comes after it says what the
        resource is for or where it comes from, not what it is."""
        v = self.vocab
        out: list[str] = []
        flags: list[bool] = []
        in_clause = False
        negation = ""
        for raw in _NON_WORD.split(anyascii(folded).lower()):
            if not raw or _DIGITS.match(raw):
                continue
            if raw in v.clause_words and out:
                in_clause = True
            if raw in v.negations:
                negation = raw
                continue
            if raw in v.abbreviations:
                words = list(v.abbreviations[raw])
            elif raw in v.stop_words:
                continue
            else:
                word = v.singular(raw)
                if word in v.abbreviations:
                    words = list(v.abbreviations[word])
                elif word not in v.stop_words and len(word) > 1:
                    words = [word]
                else:
                    continue
            if negation and words:
                words[0] = negation + words[0]
                negation = ""
            out.extend(words)
            flags.extend([in_clause] * len(words))
        if self.max_phrase:
            out, flags = self._phrases(out, flags)
        head = flags.index(True) if True in flags else None
        return out, (head if head else None)

    def _phrases(self, words: list[str], flags: list[bool]) -> tuple[list[str], list[bool]]:
        phrases = self.vocab.phrases
        out: list[str] = []
        out_flags: list[bool] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_phrase, len(words) - i), 1, -1):
                key = tuple(words[i : i + n])
                if key in phrases:
                    out.extend(phrases[key])
                    out_flags.extend([flags[i]] * len(phrases[key]))
                    i += n
                    break
            else:
                out.append(words[i])
                out_flags.append(flags[i])
                i += 1
        return out, out_flags

    def __call__(self, text: str) -> Normalised:
        folded = _fold(text)
        for pattern, replacement in self.vocab.rewrites:
            folded = pattern.sub(replacement, folded)
        folded, found = self.signals(folded)
        tokens, head = self.words_and_head(folded)
        return Normalised(
            tokens=tuple(tokens),
            head=head,
            temperature_c=found.get("temperature"),
            concentration_pct=found.get("concentration"),
            ewc=found.get("ewc"),
            pressure_bar=found.get("pressure"),
            dimensions_mm=found.get("dims"),
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
    """Every label and synonym of every code, as word sets, with an inverted index.

    A child's synonym that reads like one of its ancestors' once numbers are
    taken out ("vapeur 10 bar" under ``energy.steam``) is dropped: it cannot
    tell the child from its parent, the signals do that.
    """

    def __init__(self, taxonomy: Taxonomy, normaliser: _Normaliser, vocabulary: Vocabulary):
        own: dict[str, list[frozenset[str]]] = {}
        ordered: dict[str, list[tuple[str, ...]]] = {}
        for code in sorted(taxonomy.resources, key=lambda c: c.count(".")):
            res = taxonomy.resources[code]
            texts = [res.label_fr, res.label_en, *res.synonyms, *vocabulary.extra_synonyms.get(code, ())]
            inherited = {key for anc in taxonomy.ancestors(code)[1:] for key in own.get(anc, ())}
            own[code], ordered[code] = [], []
            for text in texts:
                toks = tuple(normaliser(text).tokens)
                key = frozenset(toks)
                if key and key not in own[code] and key not in inherited:
                    own[code].append(key)
                    ordered[code].append(toks)
        df: dict[str, set[str]] = defaultdict(set)
        for code, docs in own.items():
            for key in docs:
                for t in key:
                    df[t].add(code)
        n = max(1, len(taxonomy.resources))
        self.idf = {t: math.log(1.0 + n / len(codes)) for t, codes in df.items()}
        self.median_idf = statistics.median(self.idf.values()) if self.idf else 1.0
        self.docs: list[_Doc] = []
        self.by_token: dict[str, list[int]] = defaultdict(list)
        for code, docs in ordered.items():
            for toks in docs:
                tokens = frozenset(toks)
                for t in tokens:
                    self.by_token[t].append(len(self.docs))
                self.docs.append(_Doc(code, tokens, " ".join(toks), sum(self.idf[t] for t in tokens)))
        self.vocab = sorted(self.by_token)
        self.vocab_set = frozenset(self.vocab)

    def lookup(self, word: str) -> dict[str, float]:
        """Index words a text word may stand for, with a similarity in (0, 1]."""
        if word in self.vocab_set:
            return {word: 1.0}
        out: dict[str, float] = {}
        if word.startswith("dim") and word[3:4].isdigit():
            return out
        if len(word) >= 6:
            max_dist = 1 if len(word) <= 8 else 2
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


@dataclass(frozen=True, slots=True)
class _Context:
    ewc: str | None
    hazardous: bool  # the EWC code is a hazardous entry ("*")
    naf: str
    temperature_c: float | None
    concentration_pct: float | None


def _norm_naf(naf: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (naf or "").upper())


def _norm_ewc(ewc: str | None) -> str | None:
    if not ewc:
        return None
    digits = re.sub(r"\D", "", str(ewc))
    return digits if len(digits) == 6 else None


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


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
        self._lineage = {c: [self.taxonomy.resources[a] for a in self.taxonomy.ancestors(c)] for c in self._depth}
        self._ancestors = {c: [r.code for r in lineage[1:]] for c, lineage in self._lineage.items()}
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
        ``ewc``, ``naf``, ``temperature_c``, ``concentration_pct``) or a tuple in that order.
        Rows that read the same once normalised are scored once."""
        out = []
        for item in items:
            if isinstance(item, str) or item is None:
                out.append(self.classify(item or ""))
            elif isinstance(item, Mapping):
                text = item.get("text", item.get("resource", ""))
                kwargs = {k: item.get(k) for k in ("ewc", "naf", "temperature_c", "concentration_pct")}
                out.append(self.classify(text, **kwargs))
            else:
                seq = [*item, None, None, None, None, None]
                out.append(
                    self.classify(seq[0], ewc=seq[1], naf=seq[2], temperature_c=seq[3], concentration_pct=seq[4])
                )
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
    ) -> list[tuple[str, float]]:
        """Every candidate code with its raw match score, best first (for diagnosis)."""
        norm = self._normalise(str(text or ""))
        ctx = self._context_of(norm, ewc, naf, temperature_c, concentration_pct)
        return self._score(*self._words(norm, ctx), ctx)

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _remember(cache: dict[tuple[Any, ...], _Result], key: tuple[Any, ...], value: _Result) -> None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = value

    def _context_of(self, norm: Normalised, ewc: Any, naf: Any, temperature_c: Any, concentration_pct: Any) -> _Context:
        temp = _finite(temperature_c)
        if temp is None:
            temp = norm.temperature_c
        if temp is None and norm.pressure_bar is not None and self.vocabulary.saturation_words & set(norm.tokens):
            temp = self.vocabulary.saturation_c(norm.pressure_bar)
        conc = _finite(concentration_pct)
        ewc_code = _norm_ewc(ewc) or norm.ewc
        hazardous = bool(ewc_code) and ("*" in str(ewc or "") or self.taxonomy.ewc_labels.get(ewc_code, ("", False))[1])
        return _Context(
            ewc=ewc_code,
            hazardous=hazardous,
            naf=_norm_naf(str(naf) if naf is not None else None),
            temperature_c=temp,
            concentration_pct=conc if conc is not None else norm.concentration_pct,
        )

    def _classify_uncached(self, text: str, ewc: Any, naf: Any, temperature_c: Any, concentration_pct: Any) -> _Result:
        exact = self._codes_lower.get(text.strip().lower())
        if exact is not None:
            return exact, self.label(exact), 1.0, ()
        norm = self._normalise(text)
        ctx = self._context_of(norm, ewc, naf, temperature_c, concentration_pct)
        tokens, head = self._words(norm, ctx)
        key = (tokens, head, ctx)
        hit = self._norm_cache.get(key)
        if hit is None:
            hit = self._decide(self._score(tokens, head, ctx))
            self._remember(self._norm_cache, key, hit)
        return hit

    def _words(self, norm: Normalised, ctx: _Context) -> tuple[tuple[str, ...], int | None]:
        """The text's words and head length, or the EWC entry's label's when the text says nothing itself."""
        if ctx.ewc and all(t in self.vocabulary.vague for t in norm.tokens):
            label = self.taxonomy.ewc_labels.get(ctx.ewc)
            if label:
                own = self._normalise(label[0])
                return own.tokens, own.head
        return norm.tokens, norm.head

    def _decide(self, ranked: list[tuple[str, float]]) -> _Result:
        """Scores → calibrated confidences, ``unknown`` below the threshold."""
        if not ranked:
            return UNKNOWN_RESOURCE, UNKNOWN_LABEL, 0.0, ()
        a, b, c = self.vocabulary.calibration
        s1 = ranked[0][1]
        s2 = ranked[1][1] if len(ranked) > 1 else 0.0
        top = _sigmoid(a + b * s1 + c * (s1 - s2))
        confs = [(ranked[0][0], round(top, 4))]
        for code, s in ranked[1:4]:
            confs.append((code, round(min(1.0 - top, _sigmoid(a + b * s + c * (s - s1))), 4)))
        if top < UNKNOWN_THRESHOLD:
            return UNKNOWN_RESOURCE, UNKNOWN_LABEL, confs[0][1], tuple(confs[:3])
        return confs[0][0], self.label(confs[0][0]), confs[0][1], tuple(confs[1:4])

    def _query(self, tokens: tuple[str, ...], head: int | None = None) -> list[tuple[float, dict[str, float]]]:
        """Each content word of the text, as (weight, index words it may stand for).

        Words from position ``head`` on (a purpose or origin clause) weigh
        ``_CLAUSE_SHARE`` of what they would weigh in the head."""
        index, v = self._index, self.vocabulary
        merged: list[tuple[str, float]] = []
        i = 0
        while i < len(tokens):  # two words the index knows glued ("big bag" -> "bigbag")
            share = _CLAUSE_SHARE if head is not None and i >= head else 1.0
            if i + 1 < len(tokens) and tokens[i] + tokens[i + 1] in index.vocab_set:
                merged.append((tokens[i] + tokens[i + 1], share))
                i += 2
            else:
                merged.append((tokens[i], share))
                i += 1
        query: list[tuple[float, dict[str, float]]] = []
        seen: set[str] = set()
        for word, share in merged:
            if word in seen:
                continue
            seen.add(word)
            matches = index.lookup(word)
            if not matches:
                parts = index.split(word)
                if parts:
                    for part in parts:
                        if part not in seen:
                            seen.add(part)
                            query.append((share * index.idf[part], {part: 1.0}))
                    continue
                if word.startswith("dim"):
                    continue
            if matches:
                weight = max(index.idf[m] * sim for m, sim in matches.items())
            else:
                weight = _UNKNOWN_SHARE * index.median_idf
            if word in v.qualifiers or word in v.vague:
                weight = min(weight, _QUALIFIER_SHARE * index.median_idf)
            query.append((share * weight, matches))
        return query

    def _text_scores(self, tokens: tuple[str, ...], head: int | None = None) -> dict[str, float]:
        """Match score of every code sharing a word with the text.

        The words of the text explained by any label of the code or of its
        ancestors (``cq``) and the share of the code's best-covered label found
        in the text (``cd``) make an F score, mixed with rapidfuzz's
        token-set similarity to the closest label.
        """
        if not tokens or all(t in self.vocabulary.vague for t in tokens):
            return {}
        index = self._index
        query = self._query(tokens, head)
        total = sum(w for w, _ in query) or 1.0
        docs_by_code: dict[str, list[_Doc]] = defaultdict(list)
        for _, matches in query:
            for m in matches:
                for di in index.by_token[m]:
                    doc = index.docs[di]
                    if doc not in docs_by_code[doc.code]:
                        docs_by_code[doc.code].append(doc)
        qtext = " ".join(tokens)
        scores: dict[str, float] = {}
        for code, docs in docs_by_code.items():
            # a child is a kind of its parent: the parent's words explain the text too
            inherited = [d for anc in self._ancestors[code] for d in docs_by_code.get(anc, ())]
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
                best_r = max(best_r, _STRING_SCORER(qtext, doc.text) / 100.0)
            cq = sum(w * q for (w, _), q in zip(query, best_q, strict=True)) / total
            if cq <= 0 or best_d <= 0:
                continue
            f = (1 + _BETA2) * cq * best_d / (_BETA2 * best_d + cq)
            scores[code] = (1 - _FUZZ_SHARE) * f + _FUZZ_SHARE * best_r
        return scores

    def _boost(self, code: str, ctx: _Context) -> float:
        """Boost (or penalty) of a code from the EWC code, the NAF code and the signals."""
        lineage = self._lineage[code]
        boost = 0.0
        if ctx.ewc:
            levels = sum(ctx.ewc in r.ewc for r in lineage)
            if levels:
                boost += _BOOST_EWC + _BOOST_LEVEL * (levels - 1)
            else:
                listed = [e for r in lineage for e in r.ewc]
                if any(e[:4] == ctx.ewc[:4] for e in listed):
                    boost += _BOOST_EWC_SUBCHAPTER
                elif any(e[:2] == ctx.ewc[:2] for e in listed):
                    boost += _BOOST_EWC_CHAPTER
            if ctx.hazardous and lineage[0].hazardous:
                boost += _BOOST_HAZARDOUS
        if ctx.naf:
            levels = sum(any((h := _norm_naf(hint)) and ctx.naf.startswith(h) for hint in r.naf_hints) for r in lineage)
            if levels:
                boost += _BOOST_NAF + _BOOST_LEVEL * (levels - 1)
        for value, attr in (
            (ctx.temperature_c, "temperature_range_c"),
            (ctx.concentration_pct, "concentration_range_pct"),
        ):
            if value is None:
                continue
            rng = getattr(lineage[0], attr)
            if rng is not None and not rng[0] <= value <= rng[1]:
                boost -= _PENALTY_RANGE
                continue
            # each level that narrows the range around the value adds a boost, so the
            # tightest band wins ("vapeur 12 bar" -> medium-pressure steam)
            for level, res in enumerate(lineage):
                own = getattr(res, attr)
                above = getattr(lineage[level + 1], attr) if level + 1 < len(lineage) else None
                if own is not None and own != above and own[0] <= value < own[1]:
                    boost += _BOOST_RANGE  # half-open bands: 60 °C is "60-90", not "< 60"
        return boost

    def _score(self, tokens: tuple[str, ...], head: int | None, ctx: _Context) -> list[tuple[str, float]]:
        """Candidate codes with text score plus context boost, best first."""
        text = self._text_scores(tokens, head)
        if ctx.ewc:
            for code in self.taxonomy.codes_for_ewc(ctx.ewc):
                text.setdefault(code, 0.0)
        if not text:
            return []
        boosts: dict[str, float] = {}

        def boost(code: str) -> float:
            if code not in boosts:
                boosts[code] = self._boost(code, ctx)
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
                inherited = _INHERIT * text[code]
                if inherited > text.get(child, 0.0):
                    text[child] = inherited
                    frontier.append(child)
        final = [(code, s + boost(code)) for code, s in text.items()]
        return sorted((cs for cs in final if cs[1] > 0), key=lambda cs: (-cs[1], self._depth[cs[0]], cs[0]))


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
    "get_classifier",
]
