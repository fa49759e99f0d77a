"""Which column each header names, matched by meaning.

The aliases, synonyms and ignored words are data
(``taxonomy/data/headers.yaml``); this module reads a header the way that
file describes: folded words, synonyms applied, an exact set of words first,
else the most specific alias the header contains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from symbiose.domain import Issue
from symbiose.explain.issues import issue
from symbiose.text import fold, header_key

HEADERS_PATH = Path(__file__).resolve().parents[1] / "taxonomy" / "data" / "headers.yaml"
REQUIRED = ("company_id", "company_name", "direction", "resource", "quantity", "unit")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class HeaderVocabulary:
    """The header aliases of every column, read once from ``headers.yaml``."""

    columns: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]  # column -> spellings as written in the file, first = canonical
    ignore: frozenset[str]
    synonyms: dict[str, str]
    compact: dict[str, str]  # compact spelling (``header_key``) -> column
    by_words: dict[frozenset[str], str]  # exact set of words -> column
    contained: tuple[tuple[frozenset[str], str], ...]  # aliases that may be part of a longer header
    known: frozenset[str]

    @classmethod
    def load(cls, path: Path = HEADERS_PATH) -> HeaderVocabulary:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        ignore = frozenset(fold(w) for w in data.get("ignore", ()))
        synonyms = {fold(k): fold(v) for k, v in (data.get("synonyms") or {}).items()}
        columns, aliases, compact, by_words, contained = [], {}, {}, {}, []
        partial = cls(tuple(), {}, ignore, synonyms, {}, {}, (), frozenset(synonyms.values()))
        for column, entry in data["columns"].items():
            spellings = [*entry.get("aliases", ()), *entry.get("whole", ())]
            columns.append(column)
            aliases[column] = tuple(spellings)
            for spelling in spellings:
                compact.setdefault(header_key(spelling), column)
                words = partial.words(spelling)
                if by_words.setdefault(words, column) != column:
                    raise ValueError(f"headers.yaml: {spelling!r} names both {by_words[words]} and {column}")
            contained += [(partial.words(s), column) for s in entry.get("aliases", ())]
        known = frozenset(w for ws in by_words for w in ws) | frozenset(synonyms.values())
        return cls(tuple(columns), aliases, ignore, synonyms, compact, by_words, tuple(contained), known)

    def words(self, header: str) -> frozenset[str]:
        """The meaningful words of a header: folded, synonyms applied, ignored words and plurals dropped."""
        out = set()
        for word in _WORD.findall(fold(header)):
            if word in self.ignore:
                continue
            word = self.synonyms.get(word, word)
            if word not in self.known and len(word) > 3 and word[-1] in "sx" and word[:-1] in self.known:
                word = word[:-1]
            out.add(word)
        return frozenset(out)

    def match(self, header: str) -> tuple[str | None, bool, tuple[str, ...]]:
        """``(column, exact, rivals)``: the column a header names (``None`` if none or ambiguous),
        whether it named it exactly, and the columns tied when ambiguous."""
        exact = self.compact.get(header_key(header))
        if exact is not None:
            return exact, True, ()
        words = self.words(header)
        if not words:
            return None, False, ()
        exact = self.by_words.get(words)
        if exact is not None:
            return exact, True, ()
        best: dict[str, int] = {}
        for alias, column in self.contained:
            if alias and alias <= words:
                best[column] = max(best.get(column, 0), len(alias))
        if not best:
            return None, False, ()
        top = max(best.values())
        tied = tuple(sorted(c for c, n in best.items() if n == top))
        return (tied[0], False, ()) if len(tied) == 1 else (None, False, tied)


@lru_cache(maxsize=1)
def header_vocabulary() -> HeaderVocabulary:
    """The shipped header vocabulary, loaded once."""
    return HeaderVocabulary.load()


@dataclass
class HeaderMap:
    """Where each column is in the file and how the file wrote its header."""

    index: dict[str, int] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    ignored: list[tuple[int, str]] = field(default_factory=list)  # (position, header) kept as attributes
    issues: list[Issue] = field(default_factory=list)

    def column(self, name: str) -> str:
        """The header of ``name`` as the file wrote it (the canonical name when the file has none)."""
        return self.written.get(name, name)


def map_headers(header: list[str], vocabulary: HeaderVocabulary | None = None) -> HeaderMap:
    """Match each header to a column; unknown, ambiguous and repeated headers are reported."""
    vocab = vocabulary or header_vocabulary()
    found = HeaderMap()
    exact_of: dict[str, bool] = {}
    for position, raw in enumerate(header):
        name = raw.strip()
        if not name:
            continue
        column, exact, rivals = vocab.match(name)
        if column is None:
            found.ignored.append((position, name))
            if rivals:
                example = vocab.aliases[rivals[0]][0]
                found.issues.append(issue("header.ambiguous", row=1, column=name, value=name,
                                          fields=" ou ".join(rivals), example=example))
            else:
                found.issues.append(issue("header.unknown", row=1, column=name, value=name))
            continue
        if column in found.index:
            first = found.written[column]
            if exact and not exact_of[column]:  # an exact header beats one that only contains an alias
                found.ignored.append((found.index[column], first))
                found.issues.append(issue("header.shadowed", row=1, column=first, value=first, field=column, first=name))
            elif not exact and exact_of[column]:
                found.ignored.append((position, name))
                found.issues.append(issue("header.shadowed", row=1, column=name, value=name, field=column, first=first))
                continue
            else:
                found.issues.append(issue("header.duplicate", row=1, column=name, value=name, field=column, first=first))
                continue
        found.index[column] = position
        found.written[column] = name
        exact_of[column] = exact
    found.ignored.sort()
    return found


def header_errors(found: HeaderMap, vocabulary: HeaderVocabulary | None = None) -> list[Issue]:
    """Missing required columns and missing locations, as errors on the header row."""
    vocab = vocabulary or header_vocabulary()
    errors: list[Issue] = []
    for column in REQUIRED:
        if column in found.index:
            continue
        if column == "resource" and "ewc" in found.index:
            continue  # a row may give only its EWC code
        aliases = ", ".join(a for a in vocab.aliases[column][1:4])
        errors.append(issue("header.missing", row=1, column=column, field=column, aliases=aliases))
    index = found.index
    if not (("lat" in index and "lon" in index) or "postcode" in index):
        lone = "lon" if "lat" in index else "lat" if "lon" in index else None
        if lone:
            errors.append(issue("header.lone_coordinate", row=1, column=lone, field=lone,
                                other=found.column("lat" if lone == "lon" else "lon")))
        else:
            errors.append(issue("header.missing_location", row=1, column="postcode"))
    return errors
