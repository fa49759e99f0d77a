"""Normalising: free text → matching words with their roles, and the numbers it carried.

The words are folded (case, accents), reduced to their singular, abbreviations
expanded and multi-word spellings glued, the way animators write. Numbers
are taken out and kept as signals (temperature, pressure, concentration,
dimensions, an EWC code). Each word gets a role:

- ``name``: the words that name the resource (the material decides);
- ``complement``: after "de"/"of" once a word has named it ("tourets de
  câbles" are reels, "farine de blé" flour: the head noun decides);
- ``purpose``: after a purpose word ("pour chaudière", "for gasification");
- ``origin``: after an origin word ("issu de", "from", "coproduit de");
- ``context``: after a preposition followed by a place or equipment noun
  ("de l'atelier", "du quai", "des rouleaux", "from the kiln").

State words ("usagé", "spent", "souillé", "off-spec") become one token per
state (``etatused``...) on both sides of the match, so a text's state can
choose the used/spent variant the taxonomy has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii

from symbiose.classify.vocabulary import NON_WORD, STATE_PREFIX, Vocabulary, fold_text

_DIGITS = re.compile(r"^\d+$")

NAME, COMPLEMENT, PURPOSE, ORIGIN, CONTEXT = "name", "complement", "purpose", "origin", "context"


def normalise_key(text: str) -> str:
    """Key under which a correction is stored: folded, accents and punctuation removed.

    Independent of the vocabulary (so stored keys never go stale):
    ``"  Chutes de PLACO-hydrofuge " -> "chutes de placo hydrofuge"``.
    """
    return " ".join(w for w in NON_WORD.split(anyascii(fold_text(text or "")).lower()) if w)


@dataclass(frozen=True)
class Normalised:
    """A text reduced to matching words, with the numbers it carried."""

    tokens: tuple[str, ...]
    head: int | None = None  # tokens before the first purpose/origin/context clause; None: no clause
    temperature_c: float | None = None
    concentration_pct: float | None = None
    ewc: str | None = None
    pressure_bar: float | None = None
    dimensions_mm: tuple[int, int] | None = None
    roles: tuple[str, ...] = ()  # one per token: name, complement, purpose, origin or context
    head_noun: int | None = None  # the token that names the resource: first naming word (French), last (English)

    def role(self, i: int) -> str:
        """Role of token ``i``."""
        return self.roles[i] if i < len(self.roles) else NAME

    @property
    def states(self) -> frozenset[str]:
        """State tokens of the words naming the resource ("etatused", ...)."""
        return frozenset(t for i, t in enumerate(self.tokens) if t.startswith(STATE_PREFIX) and self.role(i) == NAME)


def _number(raw: str) -> float:
    return float(raw.replace(" ", "").replace(",", "."))


class Normaliser:
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
        return self.words_and_roles(folded)[0]

    def words_and_roles(self, folded: str) -> tuple[list[str], list[str]]:
        """The matching words and the role of each.

        A clause opens once a word has named the resource (a word that is not
        vague, a form, a state or a qualifier: in "déchets de chantier" or
        "chutes de placo" the material comes after the preposition): at a
        purpose word, at an origin word, or at a preposition followed by a
        context noun (a place, an equipment, a process step). What follows
        says what the resource is for, where it comes from or what it was
        around, not what it is."""
        v = self.vocab
        raws = [r for r in NON_WORD.split(anyascii(folded).lower()) if r and not _DIGITS.match(r)]
        out: list[str] = []
        roles: list[str] = []
        role = NAME
        negation = ""
        named = False
        weak = v.vague | v.form_words | v.qualifiers
        for i, raw in enumerate(raws):
            if named:
                if raw in v.purpose_words:
                    role = PURPOSE
                elif raw in v.clause_words and role == NAME:
                    role = ORIGIN
                elif raw in v.origin_prepositions and role in (NAME, COMPLEMENT) and i + 1 < len(raws):
                    nxt = raws[i + 1]
                    if nxt in v.stop_words and i + 2 < len(raws):  # "de la chaudière", "from the kiln"
                        nxt = raws[i + 2]
                    if nxt in v.context_nouns or v.singular(nxt) in v.context_nouns:
                        role = CONTEXT
                    elif raw in v.complement_prepositions and role == NAME:
                        role = COMPLEMENT
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
            roles.extend([role] * len(words))
            if not named and any(w not in weak and w not in v.states for w in words):
                named = True
        if self.max_phrase:
            out, roles = self._phrases(out, roles)
        states = v.states
        out = [states.get(w, w) for w in out]
        return out, roles

    def _phrases(self, words: list[str], roles: list[str]) -> tuple[list[str], list[str]]:
        phrases = self.vocab.phrases
        out: list[str] = []
        out_roles: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_phrase, len(words) - i), 1, -1):
                key = tuple(words[i : i + n])
                if key in phrases:
                    out.extend(phrases[key])
                    out_roles.extend([roles[i]] * len(phrases[key]))
                    i += n
                    break
            else:
                out.append(words[i])
                out_roles.append(roles[i])
                i += 1
        return out, out_roles

    def head_noun(self, folded: str, tokens: list[str], roles: list[str]) -> int | None:
        """Index of the head noun: French puts it first ("sciure de bois"), English
        last ("wood sawdust"); the language is told by the function words
        (``head_rule`` of the vocabulary). Weak words (vague, form, state, qualifier)
        are skipped unless nothing else names the resource."""
        v = self.vocab
        raws = NON_WORD.split(anyascii(folded).lower())
        english = sum(r in v.english_markers for r in raws) > sum(r in v.french_markers for r in raws)
        weak = v.vague | v.form_words | v.qualifiers
        naming = [i for i, r in enumerate(roles) if r == NAME and tokens[i] not in weak and not tokens[i].startswith(STATE_PREFIX)]
        if not naming:
            naming = [i for i, r in enumerate(roles) if r == NAME]
        if not naming:
            return None
        if english:
            run = [naming[0]]  # the first run of naming words: its last word
            for i in naming[1:]:
                if i != run[-1] + 1:
                    break
                run.append(i)
            return run[-1]
        return naming[0]

    def __call__(self, text: str) -> Normalised:
        folded = fold_text(text)
        for pattern, replacement in self.vocab.rewrites:
            folded = pattern.sub(replacement, folded)
        folded, found = self.signals(folded)
        tokens, roles = self.words_and_roles(folded)
        head = next((i for i, r in enumerate(roles) if r != NAME), None)
        return Normalised(
            head_noun=self.head_noun(folded, tokens, roles),
            tokens=tuple(tokens),
            head=head or None,
            temperature_c=found.get("temperature"),
            concentration_pct=found.get("concentration"),
            ewc=found.get("ewc"),
            pressure_bar=found.get("pressure"),
            dimensions_mm=found.get("dims"),
            roles=tuple(roles),
        )
