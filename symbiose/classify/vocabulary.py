"""The classifier's word lists, roles and number patterns, read from ``vocabulary.yaml``.

Every word list is data: stop words, abbreviations, phrases, the words that
play a role other than naming the material (purpose, origin, context, state,
form, qualifier) and the evidence tables (units, directions). Entries of
``extra_synonyms`` may carry the sector they come from, so the benchmark can
take a sector's additions out (leave-one-sector-out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from symbiose.taxonomy import DATA_DIR
from symbiose.text import fold

VOCABULARY_PATH = DATA_DIR / "vocabulary.yaml"

NON_WORD = re.compile(r"[^a-z0-9]+")
_VOWELS = frozenset("aeiouy")
STATE_PREFIX = "etat"  # a state word becomes one token per state: "usagee", "spent" -> "etatused"


def fold_text(text: str) -> str:
    """Lower-case, accents removed (the shared folding; "º" read as "°" first)."""
    return fold(str(text).replace("º", "°"))


@dataclass(frozen=True)
class Vocabulary:
    """The classifier's word lists and number patterns (``vocabulary.yaml``)."""

    stop_words: frozenset[str]
    clause_words: frozenset[str]
    purpose_words: frozenset[str]
    origin_prepositions: frozenset[str]
    complement_prepositions: frozenset[str]
    context_nouns: frozenset[str]
    form_words: frozenset[str]
    french_markers: frozenset[str]
    english_markers: frozenset[str]
    states: Mapping[str, str]  # folded singular word -> state token ("etatused")
    negations: frozenset[str]
    qualifiers: frozenset[str]
    vague: frozenset[str]
    invariant: frozenset[str]
    irregular_plurals: Mapping[str, str]
    abbreviations: Mapping[str, tuple[str, ...]]
    phrases: Mapping[tuple[str, ...], tuple[str, ...]]
    rewrites: tuple[tuple[re.Pattern[str], str], ...]
    extra_synonyms: Mapping[str, tuple[tuple[str, str | None], ...]]  # code -> ((text, sector), ...)
    patterns: Mapping[str, re.Pattern[str]]
    saturation_words: frozenset[str]
    steam_saturation: tuple[float, float, float]  # base_c, exponent, atmosphere_bar
    unit_evidence: Mapping[str, Any] = field(default_factory=dict)
    direction_evidence: Mapping[str, Any] = field(default_factory=dict)
    calibration: tuple[float, ...] = (-4.0, 7.0, 4.0)
    ewc_only_confidence: float = 0.75
    weights: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = VOCABULARY_PATH, *, without_sectors: frozenset[str] = frozenset()) -> Vocabulary:
        """Read and compile a vocabulary file (``without_sectors``: extra synonyms of those sectors left out)."""
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw: dict[str, Any] = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}

        def words(key: str) -> frozenset[str]:
            return frozenset(fold_text(str(w)) for w in raw.get(key) or [])

        sat = raw.get("steam_saturation") or {}
        cal = raw.get("calibration") or {}
        extra: dict[str, list[tuple[str, str | None]]] = {}
        for code, syns in (raw.get("extra_synonyms") or {}).items():
            for item in syns or []:
                if isinstance(item, Mapping):
                    sector = item.get("sector")
                    texts = item.get("texts") or [item.get("text")]
                else:
                    sector, texts = None, [item]
                if sector in without_sectors:
                    continue
                extra.setdefault(str(code), []).extend((str(t), sector) for t in texts if t)
        base = cls(
            stop_words=words("stop_words"),
            clause_words=words("clause_words"),
            purpose_words=words("purpose_words"),
            origin_prepositions=words("origin_prepositions"),
            complement_prepositions=words("complement_prepositions"),
            context_nouns=words("context_nouns"),
            form_words=words("form_words"),
            french_markers=frozenset(fold_text(str(w)) for w in (raw.get("head_rule") or {}).get("french_markers") or []),
            english_markers=frozenset(fold_text(str(w)) for w in (raw.get("head_rule") or {}).get("english_markers") or []),
            states={},
            negations=words("negations"),
            qualifiers=words("qualifiers"),
            vague=words("vague"),
            invariant=words("invariant"),
            irregular_plurals={fold_text(k): fold_text(v) for k, v in (raw.get("irregular_plurals") or {}).items()},
            abbreviations={},
            phrases={},
            extra_synonyms={code: tuple(v) for code, v in extra.items()},
            patterns={k: re.compile(v) for k, v in (raw.get("patterns") or {}).items()},
            rewrites=tuple((re.compile(pat), repl) for pat, repl in raw.get("rewrites") or []),
            saturation_words=words("saturation_words"),
            steam_saturation=(
                float(sat.get("base_c", 100.0)),
                float(sat.get("exponent", 0.25)),
                float(sat.get("atmosphere_bar", 1.013)),
            ),
            unit_evidence=dict(raw.get("unit_evidence") or {}),
            direction_evidence=dict(raw.get("direction_evidence") or {}),
            calibration=tuple(float(v) for k, v in cal.items() if k != "fitted_on") or (-4.0, 7.0, 4.0),
            weights={str(k): float(v) for k, v in (raw.get("weights") or {}).items()},
            ewc_only_confidence=float(raw.get("ewc_only_confidence", 0.75)),
        )
        # Expansions, phrases and role words are written in plain words: reduce
        # them with the same plural rules as everything else.
        abbreviations = {}
        for k, v in (raw.get("abbreviations") or {}).items():
            expansion = tuple(base.singular(w) for w in NON_WORD.split(fold_text(str(v or ""))) if w)
            abbreviations[fold_text(k)] = expansion
            abbreviations.setdefault(base.singular(fold_text(k)), expansion)
        phrases = {}
        for k, v in (raw.get("phrases") or {}).items():
            key = tuple(base.singular(w) for w in NON_WORD.split(fold_text(str(k))) if w)
            phrases[key] = tuple(base.singular(w) for w in NON_WORD.split(fold_text(str(v))) if w)
        states = {}
        for state, state_words in (raw.get("states") or {}).items():
            for w in state_words or []:
                folded = fold_text(str(w))
                states[folded] = STATE_PREFIX + str(state)
                states[base.singular(folded)] = STATE_PREFIX + str(state)

        def reduced(ws: frozenset[str]) -> frozenset[str]:
            return ws | {base.singular(w) for w in ws}

        return cls(
            **{
                **base.__dict__,
                "abbreviations": abbreviations,
                "phrases": phrases,
                "states": states,
                "qualifiers": reduced(base.qualifiers),
                "vague": reduced(base.vague),
                "form_words": reduced(base.form_words),
                "context_nouns": reduced(base.context_nouns),
                "saturation_words": reduced(base.saturation_words),
            }
        )

    def weight(self, name: str, default: float) -> float:
        """A scoring weight of the ``weights`` section (dimensionless)."""
        return self.weights.get(name, default)

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
