"""Text folding shared by header matching, units, classification and geocoding."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, accents removed, whitespace collapsed: ``'  Quantité ' -> 'quantite'``."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.replace("\u00a0", " ")).strip().lower()


def header_key(text: str) -> str:
    """Header matching key: folded, without spaces, ``_`` and ``-``."""
    return re.sub(r"[\s_\-]+", "", fold(text))
