"""Numbers as books print them: small magnitudes in significant figures, as
precise as the decimals asked for; a computed column keeps its zeros."""

from hypothesis import given
from hypothesis import strategies as st

from symprop.document.numbers import _fixed, _fmt


@given(st.floats(min_value=1e-12, max_value=0.999, allow_nan=False), st.integers(min_value=4, max_value=10),
       st.booleans())
def test_a_number_is_at_least_as_precise_as_its_decimals(x, digits, negative):
    x = -x if negative else x
    text = _fmt(x, digits)
    assert abs(float(text) - x) <= 0.5 * 10.0**-digits + 1e-15
    if abs(x) < 1e-3:  # past three zeros: significant figures, not 0.0001
        column = _fixed(x, digits)  # with its zeros: three significant figures at least
        assert "e" in text and len(column.split("e")[0].lstrip("-").replace(".", "")) >= 3


def test_carried_decimals_are_significant_figures_when_small():
    assert _fmt(0.00017966, 8) == "1.7966e-4"  # not 0.00017966
    assert _fmt(0.000142, 4) == "1.42e-4" and _fmt(7.9e-7, 4) == "7.9e-7"
    assert _fmt(0.0025589, 7) == "0.0025589"


def test_a_column_keeps_its_zeros_in_fixed_and_scientific_form():
    assert _fixed(0.01, 4) == "0.0100" and _fixed(4.3e-4, 4) == "4.30e-4" and _fixed(2.0, 4) == "2"
