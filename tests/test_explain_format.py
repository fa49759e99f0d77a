"""French number formatting: the fast path writes what Babel writes."""

from __future__ import annotations

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from symbiose.explain.format import euros, number, smart_number


def babel(value: float, decimals: int) -> str:
    return format_decimal(value, "#,##0" + ("." + "#" * decimals if decimals else ""), locale="fr_FR")


@pytest.mark.parametrize("value", [0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.005, 0.015, 2.675, 999.995, 1234.5,
                                   -1234.5, 123456789.125, 10**17 + 1, 7, float("nan"), float("inf")])
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_number_writes_what_babel_writes(value, decimals):
    assert number(value, decimals) == babel(value, decimals)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 3))
def test_number_matches_babel_on_any_float(value, decimals):
    assert number(value, decimals) == babel(value, decimals)


def test_french_separators():
    assert number(1500.5, 1) == "1\u202f500,5"
    assert smart_number(0.042) == "0,04"
    assert euros(12345.6) == "12\u202f346 €"
    assert euros(5_189_240.4) == "5\u202f189\u202f240 €"  # the CLI's column and the report agree
    assert euros(2.5) == number(2.5) + " €" == "2 €"
