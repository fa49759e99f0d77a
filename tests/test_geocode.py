"""Offline geocoding from the shipped postcode gazetteer."""

from __future__ import annotations

import csv
import math
import re

import pytest

from symbiose.geocode import (
    POSTCODES_PATH,
    Gazetteer,
    GeocodeError,
    fold,
    get_gazetteer,
    normalise_postcode,
)


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), written here independently of the module."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlon = math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return get_gazetteer()


# Town-hall coordinates of the communes, rounded (public knowledge, e.g. IGN maps).
KNOWN = [
    ("13270", "Fos-sur-Mer", "13", 43.44, 4.94),
    ("62220", "Carvin", "62", 50.49, 2.96),
    ("21110", "Genlis", "21", 47.24, 5.22),
    ("59140", "Dunkerque", "59", 51.03, 2.37),
    ("83500", "La Seyne-sur-Mer", "83", 43.10, 5.88),
    ("31670", "Labège", "31", 43.53, 1.53),
    ("69007", "Lyon", "69", 45.745, 4.84),
    ("97400", "Saint-Denis", "974", -20.88, 55.45),
]


@pytest.mark.parametrize(("postcode", "commune", "dep", "lat", "lon"), KNOWN)
def test_known_postcodes_are_placed_within_10_km(gaz, postcode, commune, dep, lat, lon):
    place = gaz.locate(postcode, commune)
    assert place.commune == commune
    assert place.department == dep
    assert place.postcode == postcode
    assert not place.city_mismatch
    assert km(place.lat, place.lon, lat, lon) < 10.0


@pytest.mark.parametrize(
    "city", ["FOS SUR MER", "fos-sur-mer", "Fos sur Mer", "FOS-SUR-MER CEDEX", " Fos  sur  mer "]
)
def test_commune_match_ignores_case_accents_and_hyphens(gaz, city):
    place = gaz.locate("13270", city)
    assert place.insee == "13039"
    assert not place.city_mismatch


def test_saint_abbreviation_and_accents(gaz):
    assert gaz.locate("13310", "St Martin de Crau").commune == "Saint-Martin-de-Crau"
    assert gaz.locate("31670", "LABEGE").commune == "Labège"
    assert fold("Ste-Marie") == fold("Sainte Marie") == "sainte marie"
    assert fold("L'Haÿ-les-Roses") == "l hay les roses"


def test_shared_postcode_is_resolved_by_the_city(gaz):
    communes = gaz.communes("21110")
    assert len(communes) > 10 and {p.commune for p in communes} >= {"Genlis", "Aiserey", "Tart"}
    aiserey = gaz.locate("21110", "Aiserey")
    genlis = gaz.locate("21110", "genlis")
    assert (aiserey.insee, genlis.insee) == ("21005", "21292")
    assert not aiserey.ambiguous and not genlis.ambiguous
    assert 5.0 < km(aiserey.lat, aiserey.lon, genlis.lat, genlis.lon) < 15.0


def test_shared_postcode_without_city_takes_the_main_commune_and_says_so(gaz):
    place = gaz.locate("21110")
    assert place.commune == "Genlis"
    assert place.ambiguous
    assert not gaz.locate("13270").ambiguous


def test_near_miss_spelling_is_matched(gaz):
    assert gaz.locate("21110", "Aiseray").commune == "Aiserey"
    assert gaz.locate("13270", "Fos-sur-Mère").commune == "Fos-sur-Mer"


def test_city_not_served_by_the_postcode_keeps_the_postcode_and_flags_it(gaz):
    place = gaz.locate("13270", "Marseille")
    assert place.commune == "Fos-sur-Mer"
    assert place.city_mismatch


def test_arrondissement_written_after_the_city(gaz):
    lyon7 = gaz.locate("69007", "Lyon 7e")
    lyon1 = gaz.locate("69001", "Lyon")
    assert lyon7.commune == lyon1.commune == "Lyon"
    assert km(lyon7.lat, lyon7.lon, lyon1.lat, lyon1.lon) > 1.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13 270", "13270"),
        ("1000", "01000"),
        ("13270.0", "13270"),
        (13270.0, "13270"),
        (1000, "01000"),
        ("F-13270", "13270"),
    ],
)
def test_postcode_normalisation(raw, expected):
    assert normalise_postcode(raw) == expected


def test_spreadsheet_postcodes_locate(gaz):
    assert gaz.locate(1000).commune == "Bourg-en-Bresse"
    assert gaz.locate("13 270").insee == gaz.locate(13270.0).insee == "13039"


def test_unknown_postcode_raises_and_says_what_was_expected(gaz):
    with pytest.raises(GeocodeError, match=r"unknown French postcode '99999'; expected"):
        gaz.locate("99999")
    with pytest.raises(GeocodeError, match="expected"):
        gaz.locate("99999", "Nulle-Part")
    with pytest.raises(GeocodeError, match="invalid postcode"):
        gaz.locate("ABC")
    with pytest.raises(GeocodeError):
        gaz.locate(None)
    assert "99999" not in gaz and "13270" in gaz


def test_cedex_postcode_with_its_city_resolves_to_the_commune(gaz):
    assert "13776" not in gaz
    place = gaz.locate("13776", "Fos-sur-Mer Cedex")
    assert place.insee == "13039"


def test_city_alone(gaz):
    assert gaz.locate(None, "Labège").postcode == "31670"
    homonym = gaz.locate(None, "Saint-Denis")
    assert homonym.ambiguous
    with pytest.raises(GeocodeError, match="unknown French commune"):
        gaz.locate(None, "Xyzzyville")


@pytest.mark.parametrize(
    ("postcode", "city"), [(k[0], k[1]) for k in KNOWN] + [("20000", "Ajaccio"), ("97200", "Fort-de-France")]
)
def test_commune_at_round_trips(gaz, postcode, city):
    place = gaz.locate(postcode, city)
    found = gaz.commune_at(place.lat, place.lon)
    assert found is not None and found.insee == place.insee


def test_commune_at_a_nearby_point_and_far_away(gaz):
    near_fos = gaz.commune_at(43.445, 4.93)
    assert near_fos is not None and near_fos.label == "Fos-sur-Mer (13)"
    assert gaz.commune_at(45.0, -10.0) is None  # Atlantic Ocean
    assert gaz.commune_at(40.0, -3.7) is None  # Madrid


def test_gazetteer_reads_another_file(tmp_path):
    path = tmp_path / "pc.csv"
    path.write_text(
        "postcode,insee,commune,commune_folded,lat,lon,department\n"
        "99001,99901,Ville-Test,ville test,45.0000,5.0000,99\n"
        "99001,99902,Autre Ville,autre ville,45.1000,5.1000,99\n",
        encoding="utf-8",
    )
    g = Gazetteer(path)
    assert len(g) == 2
    assert g.locate("99001", "AUTRE-VILLE").insee == "99902"
    assert g.locate("99001").ambiguous
    assert g.commune_at(45.09, 5.09).commune == "Autre Ville"


def test_shipped_file_is_consistent():
    assert POSTCODES_PATH.stat().st_size < 3_000_000
    with POSTCODES_PATH.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 35_000
    keys = [(r["postcode"], r["insee"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys, key=lambda k: k[0])  # grouped by postcode
    for r in rows:
        assert re.fullmatch(r"\d{5}", r["postcode"]), r
        assert r["insee"].startswith(r["department"]), r
        assert r["commune_folded"] == fold(r["commune"]), r
        lat, lon = float(r["lat"]), float(r["lon"])
        metro = 41.3 < lat < 51.2 and -5.3 < lon < 9.7
        overseas = r["department"] in {"971", "972", "973", "974", "976"}
        assert metro or overseas, r
        assert len(r["lat"].split(".")[1]) <= 4 and len(r["lon"].split(".")[1]) <= 4, r
    departments = {r["department"] for r in rows}
    assert {"01", "2A", "2B", "13", "95", "971", "972", "973", "974", "976"} <= departments
    assert len(departments) == 101
