"""Lesson 07's sample size, minimum detectable effect and power: eq. 07.4-07.5 for a metric with sd sigma, and the
two-proportion form (07.4p) with both arms' variances for click-through."""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from course_lib.abtest.inference import _check_alpha
from course_lib.validate import integer, number, number_array


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


def _proportion(name: str, p) -> np.ndarray:
    return number_array(name, p, low=0, high=1, low_open=True, high_open=True)


def sample_size_proportions(p_c: float, p_t: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Users per arm to detect click-through p_c -> p_t with the pooled two-proportion z-test (eq. 07.4p).

    n = [z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{1-beta} sqrt(p_c (1 - p_c) + p_t (1 - p_t))]^2 / (p_t - p_c)^2
    with pbar = (p_c + p_t) / 2: the variance under H0 sets the threshold, both arms' variances under H1
    the spread of the estimate (Fleiss, Levin and Paik, Statistical Methods for Rates and Proportions).
    """
    p_c, p_t = float(_proportion("p_c", p_c)), float(_proportion("p_t", p_t))
    if p_c == p_t:
        raise ValueError("p_t must differ from p_c: no sample size can detect an effect of 0")
    alpha, power = _check_alpha(alpha), _check_alpha(power, "power", usual=0.8)
    pbar = (p_c + p_t) / 2
    num = (stats.norm.isf(alpha / 2) * np.sqrt(2 * pbar * (1 - pbar))
           + stats.norm.ppf(power) * np.sqrt(p_c * (1 - p_c) + p_t * (1 - p_t)))
    return int(np.ceil((num / (p_t - p_c)) ** 2 - 1e-9))


def power_proportions(n_per_arm, p_c: float, p_t: float, alpha: float = 0.05):
    """Power of the two-sided pooled two-proportion z-test with ``n_per_arm`` users per arm (both tails)."""
    n = number_array("n_per_arm", n_per_arm, low=0, low_open=True)
    p_c, p_t = float(_proportion("p_c", p_c)), float(_proportion("p_t", p_t))
    alpha = _check_alpha(alpha)
    pbar = (p_c + p_t) / 2
    se0 = np.sqrt(2 * pbar * (1 - pbar) / n)
    se1 = np.sqrt((p_c * (1 - p_c) + p_t * (1 - p_t)) / n)
    z = stats.norm.isf(alpha / 2)
    d = p_t - p_c
    return stats.norm.sf((z * se0 - d) / se1) + stats.norm.cdf((-z * se0 - d) / se1)


def mde_proportions(n_per_arm: int, p_c: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest lift p_t - p_c > 0 the pooled two-proportion test detects with the given power (solves eq. 07.4p)."""
    n = integer("n_per_arm", n_per_arm, low=2)
    p_c = float(_proportion("p_c", p_c))
    _check_alpha(power, "power", usual=0.8)
    f = lambda d: float(power_proportions(n, p_c, p_c + d, alpha)) - power  # noqa: E731
    return float(optimize.brentq(f, 1e-12, 1 - p_c - 1e-12))
