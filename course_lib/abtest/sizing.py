"""Lesson 07's sample size, minimum detectable effect and power."""

from __future__ import annotations

import numpy as np
from scipy import stats

from course_lib.abtest.inference import _check_alpha
from course_lib.validate import number, number_array


def _z_terms(alpha: float, power: float) -> float:
    alpha = _check_alpha(alpha)
    power = _check_alpha(power, "power", usual=0.8)
    return stats.norm.isf(alpha / 2) + stats.norm.ppf(power)


def sample_size_per_arm(delta: float, sigma: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Users per arm for a two-sided test: n = 2 ((z_{1-alpha/2} + z_{1-beta}) / (delta/sigma))^2 (eq. 07.4), rounded up."""
    if delta == 0:
        raise ValueError("delta must be non-zero: no sample size can detect an effect of 0")
    number("sigma", sigma, low=0, low_open=True)
    n = 2 * (_z_terms(alpha, power) * sigma / delta) ** 2
    return int(np.ceil(n - 1e-9))


def minimum_detectable_effect(n_per_arm, sigma: float, alpha: float = 0.05, power: float = 0.8):
    """Smallest effect detected with the given power: MDE = (z_{1-alpha/2} + z_{1-beta}) sigma sqrt(2/n) (eq. 07.5)."""
    number_array("n_per_arm", n_per_arm, low=0, low_open=True)
    number("sigma", sigma, low=0, low_open=True)
    return _z_terms(alpha, power) * sigma * np.sqrt(2 / np.asarray(n_per_arm, float))


def power_two_sample(n_per_arm, delta, sigma: float, alpha: float = 0.05):
    """Power of the two-sided z-test (both rejection tails), like statsmodels' ``NormalIndPower().power``."""
    alpha = _check_alpha(alpha)
    number_array("n_per_arm", n_per_arm, low=0, low_open=True)
    number("sigma", sigma, low=0, low_open=True)
    shift = np.abs(np.asarray(delta, float)) / (sigma * np.sqrt(2 / np.asarray(n_per_arm, float)))
    z = stats.norm.isf(alpha / 2)
    return stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift)
