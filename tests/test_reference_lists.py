"""The shipped reference lists: European List of Waste (ewc.csv) and NAF rév. 2 (naf.csv)."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "symbiose" / "taxonomy" / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def ewc() -> list[dict[str, str]]:
    return _rows("ewc.csv")


@pytest.fixture(scope="module")
def ewc_by_code(ewc) -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in ewc}


@pytest.fixture(scope="module")
def naf() -> list[dict[str, str]]:
    return _rows("naf.csv")


# --------------------------------------------------------------------------- EWC


def test_ewc_columns_and_unique_codes(ewc):
    assert list(ewc[0]) == ["code", "label_fr", "hazardous", "chapter", "level"]
    codes = [r["code"] for r in ewc]
    assert [c for c, n in Counter(codes).items() if n > 1] == []


def test_ewc_levels_match_code_lengths(ewc):
    for r in ewc:
        assert r["code"].isdigit(), r
        assert len(r["code"]) == {"1": 2, "2": 4, "3": 6}[r["level"]], r
        assert r["chapter"] == r["code"][:2], r
        assert r["label_fr"].strip() == r["label_fr"] and r["label_fr"], r
        assert r["hazardous"] in ("0", "1"), r


def test_ewc_has_chapters_01_to_20(ewc):
    chapters = sorted(r["code"] for r in ewc if r["level"] == "1")
    assert chapters == [f"{i:02d}" for i in range(1, 21)]


def test_ewc_every_entry_sits_in_an_existing_chapter_and_sub_chapter(ewc, ewc_by_code):
    for r in ewc:
        if r["level"] == "3":
            assert ewc_by_code[r["code"][:4]]["level"] == "2", r
        if r["level"] in ("2", "3"):
            assert ewc_by_code[r["code"][:2]]["level"] == "1", r


def test_ewc_entry_count_is_that_of_the_list(ewc):
    entries = [r for r in ewc if r["level"] == "3"]
    hazardous = [r for r in entries if r["hazardous"] == "1"]
    assert 800 <= len(entries) <= 860
    assert 380 <= len(hazardous) <= 420
    assert all(r["hazardous"] == "0" for r in ewc if r["level"] != "3")


@pytest.mark.parametrize(
    ("code", "hazardous"),
    [
        ("130205", True),  # huiles moteur non chlorées à base minérale
        ("150101", False),  # emballages en papier/carton
        ("150103", False),  # emballages en bois
        ("150110", True),  # emballages souillés
        ("160213", True),  # équipements avec composants dangereux
        ("160214", False),
        ("170605", True),  # matériaux de construction contenant de l'amiante
        ("170904", False),
        ("200121", True),  # tubes fluorescents
        ("200108", False),  # biodéchets de cuisine
        ("020101", False),  # leading zero kept
        ("130899", True),  # the one "99" code marked hazardous
        ("190809", False),
        ("190810", True),
    ],
)
def test_ewc_hazardous_flags_of_known_entries(ewc_by_code, code, hazardous):
    assert (ewc_by_code[code]["hazardous"] == "1") is hazardous


def test_ewc_labels_that_name_dangerous_substances_are_hazardous(ewc):
    flagged = [r["code"] for r in ewc if "substances dangereuses" in r["label_fr"] and r["level"] == "3"]
    assert len(flagged) > 100
    assert [c for c in flagged if not _is_hazardous(ewc, c)] == []


def test_ewc_cross_references_point_to_existing_entries(ewc, ewc_by_code):
    refs = [(r["code"], m.replace(" ", "")) for r in ewc for m in re.findall(r"\d\d \d\d \d\d", r["label_fr"])]
    assert len(refs) > 150
    assert [(src, ref) for src, ref in refs if ewc_by_code.get(ref, {}).get("level") != "3"] == []


def test_ewc_labels_are_french(ewc_by_code):
    assert ewc_by_code["150101"]["label_fr"] == "Emballages en papier/carton"
    assert ewc_by_code["20"]["label_fr"].startswith("Déchets municipaux")
    assert "amiante" in ewc_by_code["170605"]["label_fr"]


def _is_hazardous(rows, code):
    return next(r for r in rows if r["code"] == code)["hazardous"] == "1"


# --------------------------------------------------------------------------- NAF

_NAF_PATTERNS = {
    "1": r"[A-U]",
    "2": r"\d\d",
    "3": r"\d\d\.\d",
    "4": r"\d\d\.\d\d",
    "5": r"\d\d\.\d\d[A-Z]",
}


def test_naf_counts_per_level_are_insee_counts(naf):
    counts = Counter(r["level"] for r in naf)
    assert counts == {"1": 21, "2": 88, "3": 272, "4": 615, "5": 732}


def test_naf_codes_are_unique_and_well_formed(naf):
    codes = [r["code"] for r in naf]
    assert len(codes) == len(set(codes))
    for r in naf:
        assert re.fullmatch(_NAF_PATTERNS[r["level"]], r["code"]), r
        assert r["label_fr"] and r["label_fr"] == r["label_fr"].strip(), r


def test_naf_hierarchy_is_complete(naf):
    codes = {r["code"] for r in naf}
    for r in naf:
        c = r["code"]
        if r["level"] == "5":
            assert {c[:5], c[:4], c[:2]} <= codes, c
        elif r["level"] == "4":
            assert {c[:4], c[:2]} <= codes, c


def test_naf_known_codes(naf):
    labels = {r["code"]: r["label_fr"] for r in naf}
    assert labels["20.13B"] == "Fabrication d'autres produits chimiques inorganiques de base n.c.a."
    assert labels["56.10A"] == "Restauration traditionnelle"
    assert labels["20"] == "Industrie chimique"
    assert labels["C"] == "Industrie manufacturière"
    assert sorted(c for c in labels if c.isalpha()) == [chr(i) for i in range(ord("A"), ord("U") + 1)]
