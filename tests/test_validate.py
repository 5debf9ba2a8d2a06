"""Unit tests of course_lib.validate: the shared parameter checks behind every lesson's classes."""

import numpy as np
import pytest

from course_lib.validate import integer, number, number_array

BAD_KINDS = [
    (float("nan"), "NaN"),
    (float("inf"), "infinity"),
    (-np.inf, "infinity"),
    (True, "bool"),
    ("0.5", "str"),
    (None, "not a number"),
    ([0.5], "list"),
]


# ----------------------------------------------------------------- number
@pytest.mark.parametrize("value, kw", [
    (0, dict(low=0)),                                   # closed bound: the edge itself
    (0.0, dict(low=0, high=1)),
    (1, dict(low=0, high=1)),
    (1e-12, dict(low=0, low_open=True)),                # just inside an open bound
    (1 - 1e-12, dict(low=0, high=1, high_open=True)),
    (-1e300, dict()),                                   # no bounds: any finite number
    (np.float64(0.25), dict(low=0, high=1)),
    (np.int64(3), dict(low=3)),
    (np.array(0.5), dict(low=0, high=1)),               # a 0-d array from numpy arithmetic
])
def test_number_accepts_values_in_range_and_returns_a_float(value, kw):
    out = number("x", value, **kw)
    assert type(out) is float
    assert out == float(value)


@pytest.mark.parametrize("value, kw, shown, need", [
    (-1, dict(low=0), "-1", ">= 0"),
    (0, dict(low=0, low_open=True), "0", "> 0"),
    (1.5, dict(low=0, high=1), "1.5", "in [0, 1]"),
    (1, dict(low=0, high=1, high_open=True), "1", "in [0, 1)"),
    (0.0, dict(low=0, high=1, low_open=True), "0.0", "in (0, 1]"),
    (2, dict(high=1), "2", "<= 1"),
    (1, dict(high=1, high_open=True), "1", "< 1"),
])
def test_number_rejects_out_of_range_values_naming_parameter_range_and_value(value, kw, shown, need):
    with pytest.raises(ValueError) as err:
        number("gamma", value, **kw)
    assert str(err.value) == f"gamma must be {need}, got {shown}"


@pytest.mark.parametrize("value, problem", BAD_KINDS)
def test_number_rejects_nan_inf_bool_and_non_numbers_saying_why(value, problem):
    with pytest.raises(ValueError, match=r"^tau must be > 0, got .*\(.*" + problem):
        number("tau", value, low=0, low_open=True)


def test_number_without_bounds_still_rejects_nan_and_inf():
    with pytest.raises(ValueError, match=r"shift must be a finite number, got nan \(NaN"):
        number("shift", float("nan"))
    with pytest.raises(ValueError, match="shift must be a finite number, got inf"):
        number("shift", float("inf"))


def test_number_appends_the_hint():
    with pytest.raises(ValueError, match=r"^alpha must be in \(0, 1\), got 1.5; 0.05 is the usual choice$"):
        number("alpha", 1.5, low=0, high=1, low_open=True, high_open=True, hint="0.05 is the usual choice")
    with pytest.raises(ValueError, match=r"got nan \(NaN is not a number\); use 0.1$"):
        number("eta", float("nan"), low=0, hint="use 0.1")


# ----------------------------------------------------------------- integer
@pytest.mark.parametrize("value, kw, expected", [
    (1, dict(), 1),                                     # default low=1, at the edge
    (0, dict(low=0), 0),
    (5, dict(low=1, high=5), 5),
    (np.int64(7), dict(), 7),
    (1e4, dict(), 10000),                               # a whole float from a parameters cell
    (2**40, dict(low=2**40), 2**40),                    # large bounds are exact, not rounded
])
def test_integer_accepts_whole_numbers_in_range_and_returns_an_int(value, kw, expected):
    out = integer("n", value, **kw)
    assert type(out) is int
    assert out == expected


@pytest.mark.parametrize("value, kw, need", [
    (0, dict(), "an integer >= 1"),
    (-3, dict(low=0), "an integer >= 0"),
    (1, dict(low=2), "an integer >= 2"),
    (6, dict(low=1, high=5), r"an integer in \[1, 5\]"),
    (2**40 - 1, dict(low=2**40), "an integer >= 1099511627776"),
])
def test_integer_rejects_out_of_range_values(value, kw, need):
    with pytest.raises(ValueError, match=rf"^window must be {need}, got {value}$"):
        integer("window", value, **kw)


@pytest.mark.parametrize("value, problem", BAD_KINDS + [(2.5, "not a whole number"), (np.float64(0.5), "whole")])
def test_integer_rejects_fractions_nan_inf_bool_and_non_numbers(value, problem):
    with pytest.raises(ValueError, match=r"^n_arms must be an integer >= 1, got .*\(.*" + problem):
        integer("n_arms", value)


def test_integer_appends_the_hint():
    with pytest.raises(ValueError, match=r"^runs must be an integer >= 1, got 0; pass None for a single run$"):
        integer("runs", 0, hint="pass None for a single run")


# ----------------------------------------------------------------- number_array
def test_number_array_accepts_a_grid_at_the_edges_and_keeps_its_shape():
    out = number_array("n", [[0, 1], [0.5, 1]], low=0, high=1)
    assert out.dtype == float and out.shape == (2, 2)
    np.testing.assert_array_equal(out, [[0, 1], [0.5, 1]])
    assert number_array("n", 3, low=0, low_open=True).ndim == 0


@pytest.mark.parametrize("values, got", [
    ([1000, 2000, 0], r"n_per_arm\[2\] = 0$"),
    ([[1, 2], [3, -1]], r"n_per_arm\[1, 1\] = -1$"),
    ([1, np.nan], r"n_per_arm\[1\] = nan \(NaN"),
    ([np.inf, 1], r"n_per_arm\[0\] = inf \(infinity"),
])
def test_number_array_names_the_first_bad_entry(values, got):
    with pytest.raises(ValueError, match=r"^every entry of n_per_arm must be > 0, got " + got):
        number_array("n_per_arm", values, low=0, low_open=True)


@pytest.mark.parametrize("value, problem", BAD_KINDS[:-1])     # a list is an array here
def test_number_array_checks_a_scalar_like_number(value, problem):
    with pytest.raises(ValueError, match=r"^sigma must be > 0, got .*\(.*" + problem):
        number_array("sigma", value, low=0, low_open=True)


def test_number_array_rejects_non_numeric_arrays():
    with pytest.raises(ValueError, match="every entry of etas must be > 0, got an array of dtype <U"):
        number_array("etas", ["fast", "slow"], low=0, low_open=True)
    with pytest.raises(ValueError, match="got an array of dtype bool"):
        number_array("etas", [True, False], low=0, low_open=True)
