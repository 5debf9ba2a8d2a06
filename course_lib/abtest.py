"""Lesson 07: A/B-test statistics for recommender launches.

Estimators and simulations behind ``solutions/07_ab_testing.ipynb``.  Where SciPy or
statsmodels already provide a piece (Welch's t-test, the two-proportion z-test, the power
solver, ``multipletests``, the chi-square test) this module calls it; it implements by hand
only what they lack: vectorised A/A simulations, Lan-DeMets alpha-spending boundaries
(Lan and DeMets, Biometrika 1983), always-valid p-values of the mixture SPRT (Johari,
Koomen, Pekelis and Walsh, KDD 2017), CUPED (Deng, Xu, Kohavi and Walker, WSDM 2013),
interference on a stochastic block model, difference-in-differences, and the closing launch
test of lesson 03's LinUCB recommender (Li, Chu, Langford and Schapire, WWW 2010) on lesson 03's
product world.

Every simulation is vectorised over independent runs: arrays have shape ``(n_runs, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse, stats

from course_lib.validate import integer, number, number_array

__all__ = [
    "ABResult", "diff_in_means", "two_proportion_z", "proportions_test",
    "sample_size_per_arm", "minimum_detectable_effect", "power_two_sample",
    "simulate_daily_clicks", "first_crossing",
    "obrien_fleming_spending", "pocock_spending", "group_sequential_bounds", "msprt_pvalues",
    "adjust_pvalues", "benjamini_hochberg", "simulate_multiple_metrics", "error_rates",
    "cuped_theta", "cuped_adjust", "simulate_cuped", "stratified_diff_in_means",
    "SRMResult", "srm_check", "sbm_graph", "simulate_interference",
    "diff_in_diff", "simulate_panel",
]


# --------------------------------------------------------------------------- validation
def _check_alpha(level: float, name: str = "alpha", usual: float = 0.05) -> float:
    return number(name, level, low=0, high=1, low_open=True, high_open=True, hint=f"{usual:g} is the usual choice")


def _groups(y_t: np.ndarray, y_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_t = np.asarray(y_t, dtype=float)
    y_c = np.asarray(y_c, dtype=float)
    for name, y in (("treatment", y_t), ("control", y_c)):
        if y.ndim == 0 or y.shape[-1] < 2:
            raise ValueError(f"the {name} group needs at least 2 observations along the last axis, "
                             f"got shape {y.shape}; an empty group usually means a broken assignment")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"the {name} group contains NaN or infinite values; drop or impute them first")
    return y_t, y_c


# --------------------------------------------------------------------------- estimation
@dataclass(frozen=True)
class ABResult:
    """Estimate of the average treatment effect tau with its standard error, CI and p-value.

    Every field is a float for one experiment, or an array with one entry per run.
    """

    estimate: np.ndarray | float
    se: np.ndarray | float
    ci_low: np.ndarray | float
    ci_high: np.ndarray | float
    p_value: np.ndarray | float
    statistic: np.ndarray | float

    def covers(self, tau: float) -> np.ndarray | bool:
        """Whether the confidence interval contains ``tau``."""
        return (self.ci_low <= tau) & (tau <= self.ci_high)


def diff_in_means(y_t: np.ndarray, y_c: np.ndarray, alpha: float = 0.05, method: str = "welch") -> ABResult:
    """Difference-in-means estimate of tau = E[Y(1) - Y(0)] (eq. 07.1) and its CI (eq. 07.2).

    Var = s_T^2/n_T + s_C^2/n_C.  ``method="welch"`` uses ``scipy.stats.ttest_ind(equal_var=False)``
    (Welch's t with Satterthwaite degrees of freedom); ``"normal"`` the z interval.

    y_t, y_c: outcomes, shape (n_t,) and (n_c,), or (n_runs, n_t) and (n_runs, n_c) for many
    experiments at once (the last axis holds users).
    """
    alpha = _check_alpha(alpha)
    y_t, y_c = _groups(y_t, y_c)
    n_t, n_c = y_t.shape[-1], y_c.shape[-1]
    var = y_t.var(axis=-1, ddof=1) / n_t + y_c.var(axis=-1, ddof=1) / n_c
    if np.any(var <= 0):
        raise ValueError("zero variance in both groups: every user has the same outcome, so no "
                         "interval can be computed; check that the metric is logged correctly")
    est = y_t.mean(axis=-1) - y_c.mean(axis=-1)
    se = np.sqrt(var)
    if method == "welch":
        res = stats.ttest_ind(y_t, y_c, axis=-1, equal_var=False)
        ci = res.confidence_interval(1 - alpha)
        lo, hi, p, stat = ci.low, ci.high, res.pvalue, res.statistic
    elif method == "normal":
        z = stats.norm.isf(alpha / 2)
        lo, hi = est - z * se, est + z * se
        stat = est / se
        p = 2 * stats.norm.sf(np.abs(stat))
    else:
        raise ValueError(f"method must be 'welch' or 'normal', got {method!r}")
    return ABResult(est, se, lo, hi, p, stat)


def two_proportion_z(clicks_t, n_t, clicks_c, n_c) -> np.ndarray:
    """Pooled two-proportion z statistic (eq. 07.3), vectorised; equals statsmodels' ``proportions_ztest``."""
    clicks_t, clicks_c = np.asarray(clicks_t, float), np.asarray(clicks_c, float)
    n_t, n_c = np.asarray(n_t, float), np.asarray(n_c, float)
    pooled = (clicks_t + clicks_c) / (n_t + n_c)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    diff = clicks_t / n_t - clicks_c / n_c
    return np.divide(diff, se, out=np.zeros(np.broadcast(diff, se).shape), where=se > 0)


def proportions_test(clicks_t: int, n_t: int, clicks_c: int, n_c: int, alpha: float = 0.05) -> ABResult:
    """Click-through test for one experiment: statsmodels' pooled z-test and Wald CI of p_T - p_C."""
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    alpha = _check_alpha(alpha)
    if min(n_t, n_c) < 1:
        raise ValueError(f"both groups need at least one user, got n_t={n_t}, n_c={n_c}")
    if not (0 <= clicks_t <= n_t and 0 <= clicks_c <= n_c):
        raise ValueError("clicks must lie between 0 and the number of users of their group")
    if clicks_t + clicks_c in (0, n_t + n_c):
        raise ValueError("zero variance: every user clicked or nobody did; the test needs both outcomes")
    stat, p = proportions_ztest([clicks_t, clicks_c], [n_t, n_c])
    lo, hi = confint_proportions_2indep(clicks_t, n_t, clicks_c, n_c, method="wald", compare="diff", alpha=alpha)
    est = clicks_t / n_t - clicks_c / n_c
    se = np.sqrt(clicks_t / n_t * (1 - clicks_t / n_t) / n_t + clicks_c / n_c * (1 - clicks_c / n_c) / n_c)
    return ABResult(float(est), float(se), float(lo), float(hi), float(p), float(stat))


# --------------------------------------------------------------------------- power
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


# --------------------------------------------------------------------------- peeking and sequential tests
def simulate_daily_clicks(n_runs: int, n_days: int, users_per_day: int, p_c: float, p_t: float | None = None,
                          rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative clicks of ``n_runs`` experiments looked at once a day; A/A when ``p_t`` is None.

    Each day ``users_per_day // 2`` new users enter each arm.  Returns ``(clicks_t, clicks_c, n)``:
    cumulative clicks, shape (n_runs, n_days), and cumulative users per arm, shape (n_days,).
    """
    if rng is None:
        raise ValueError("pass rng=np.random.default_rng(seed): every simulation takes a seed")
    if min(n_runs, n_days) < 1 or users_per_day < 2:
        raise ValueError("n_runs and n_days must be >= 1 and users_per_day >= 2")
    p_t = p_c if p_t is None else p_t
    for name, p in (("p_c", p_c), ("p_t", p_t)):
        if not 0 < p < 1:
            raise ValueError(f"{name} must be a click probability in (0, 1), got {p}")
    m = users_per_day // 2
    clicks_t = rng.binomial(m, p_t, size=(n_runs, n_days)).cumsum(axis=1)
    clicks_c = rng.binomial(m, p_c, size=(n_runs, n_days)).cumsum(axis=1)
    return clicks_t, clicks_c, m * np.arange(1, n_days + 1)


def first_crossing(stat: np.ndarray, bound) -> np.ndarray:
    """Index of the first look where ``|stat| >= bound`` (bound per look or scalar); -1 where never."""
    hit = np.abs(stat) >= bound
    return np.where(hit.any(axis=-1), hit.argmax(axis=-1), -1)


def obrien_fleming_spending(t, alpha: float = 0.05):
    """Two-sided Lan-DeMets O'Brien-Fleming-type spending (eq. 07.6), total over both sides.

    Each side spends alpha/2 with the one-sided function 2 - 2 Phi(z_{1-alpha/4} / sqrt(t)), the
    convention of the R packages gsDesign and ldbounds, so alpha(t) = 4 - 4 Phi(z_{1-alpha/4} / sqrt(t)).
    """
    alpha = _check_alpha(alpha)
    t = np.asarray(t, float)
    return 4 * stats.norm.sf(stats.norm.isf(alpha / 4) / np.sqrt(t))


def pocock_spending(t, alpha: float = 0.05):
    """Two-sided Lan-DeMets Pocock-type spending: alpha(t) = alpha ln(1 + (e - 1) t)."""
    alpha = _check_alpha(alpha)
    return alpha * np.log1p((np.e - 1) * np.asarray(t, float))


def group_sequential_bounds(info: np.ndarray, alpha: float = 0.05, spending: str | Callable = "obrien-fleming",
                            grid: int = 401) -> np.ndarray:
    """Two-sided z boundaries c_k of a group-sequential test with Lan-DeMets alpha spending.

    Look k rejects when |Z_k| >= c_k; c_k spends alpha(t_k) - alpha(t_{k-1}) of the type-I error
    (eq. 07.7), computed with the Armitage-McPherson-Rowe recursion on the Brownian-motion scale
    B_k = Z_k sqrt(t_k).  info: increasing information fractions t_k in (0, 1] (e.g. days / n_days).
    """
    alpha = _check_alpha(alpha)
    t = np.asarray(info, float)
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1 + 1e-12:
        raise ValueError("info must be a non-empty, strictly increasing sequence in (0, 1], e.g. np.arange(1, K+1)/K")
    if spending == "obrien-fleming":
        spent = obrien_fleming_spending(t, alpha)
    elif spending == "pocock":
        spent = pocock_spending(t, alpha)
    elif callable(spending):
        spent = np.asarray(spending(t, alpha), float)
    else:
        raise ValueError(f"spending must be 'obrien-fleming', 'pocock' or a function alpha(t, alpha), got {spending!r}")
    increments = np.diff(np.concatenate([[0.0], spent]))
    bounds = np.empty(t.size)
    bounds[0] = stats.norm.isf(max(increments[0], 1e-300) / 2)
    # density of B_1 on the continuation region |B_1| < c_1 sqrt(t_1)
    half = min(bounds[0], 9.0) * np.sqrt(t[0])
    x = np.linspace(-half, half, grid)
    w = np.full(grid, x[1] - x[0])
    w[[0, -1]] *= 0.5  # trapezoid weights
    dens = stats.norm.pdf(x, scale=np.sqrt(t[0]))
    for k in range(1, t.size):
        sd = np.sqrt(t[k] - t[k - 1])
        mass = w * dens
        sqrt_tk = np.sqrt(t[k])

        def crossing(c: float) -> float:
            upper = stats.norm.sf((c * sqrt_tk - x) / sd)
            lower = stats.norm.cdf((-c * sqrt_tk - x) / sd)
            return float(mass @ (upper + lower))

        target = increments[k]
        if target <= crossing(40.0):
            bounds[k] = np.inf
        else:
            bounds[k] = optimize.brentq(lambda c: crossing(c) - target, 0.0, 40.0, xtol=1e-10)
        half = min(bounds[k], 9.0) * sqrt_tk
        x_new = np.linspace(-half, half, grid)
        dens = stats.norm.pdf((x_new[:, None] - x[None, :]) / sd) @ mass / sd
        x = x_new
        w = np.full(grid, x[1] - x[0])
        w[[0, -1]] *= 0.5
    return bounds


def msprt_pvalues(diff: np.ndarray, n_per_arm: np.ndarray, sigma2, tau2: float) -> np.ndarray:
    """Always-valid p-values of the mixture SPRT with a N(0, tau^2) mixing prior (eq. 07.8).

    Lambda_n = sqrt(V / (V + n tau^2)) exp(n^2 tau^2 d_n^2 / (2 V (V + n tau^2))), V = 2 sigma^2,
    and p_n = min(p_{n-1}, 1 / Lambda_n) (Johari et al., KDD 2017).  Rejecting when p_n <= alpha keeps
    the type-I error at or below alpha however often you look.

    diff: difference in means after n users per arm, shape (..., n_looks); n_per_arm: (n_looks,);
    sigma2: per-user outcome variance, scalar or shaped like ``diff`` (a plug-in estimate).
    """
    number("tau2", tau2, low=0, low_open=True)
    number_array("n_per_arm", n_per_arm, low=0, low_open=True)
    diff = np.asarray(diff, float)
    n = np.asarray(n_per_arm, float)
    v = 2 * np.maximum(np.asarray(sigma2, float), 1e-12)
    log_lam = 0.5 * np.log(v / (v + n * tau2)) + n**2 * tau2 * diff**2 / (2 * v * (v + n * tau2))
    p = np.exp(-np.maximum(log_lam, 0.0))
    return np.minimum.accumulate(p, axis=-1)


# --------------------------------------------------------------------------- multiple testing
def adjust_pvalues(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjusted p-values along the last axis: ``"bonferroni"``, ``"holm"`` or ``"bh"`` (Benjamini-Hochberg).

    Same values as ``statsmodels.stats.multitest.multipletests(p, method=...)[1]`` (``"fdr_bh"`` for
    BH), vectorised over many experiments at once.  Reject where the adjusted value is <= alpha.
    """
    p = np.asarray(p, float)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError("p must hold at least one p-value along its last axis")
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("p-values must lie in [0, 1]")
    m = p.shape[-1]
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, axis=-1, kind="stable")
    ps = np.take_along_axis(p, order, axis=-1)
    rank = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum((m - rank + 1) * ps, 1.0), axis=-1)
    elif method == "bh":
        adj = np.minimum.accumulate((m * ps / rank)[..., ::-1], axis=-1)[..., ::-1]
        adj = np.minimum(adj, 1.0)
    else:
        raise ValueError(f"method must be 'bonferroni', 'holm' or 'bh', got {method!r}")
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=-1)
    return out


def benjamini_hochberg(p: np.ndarray, q: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg step-up (eq. 07.9): reject the k smallest p-values, k = max{i : p_(i) <= i q / m}.

    p: shape (m,) or (n_runs, m); returns a boolean array of the same shape.
    """
    q = _check_alpha(q, "q")
    return adjust_pvalues(p, "bh") <= q


def simulate_multiple_metrics(n_runs: int, n_metrics: int, n_nonnull: int, shift: float,
                              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-values of ``n_metrics`` independent z-tests per experiment.

    The first ``n_nonnull`` metrics have a true effect whose z statistic has mean ``shift``.
    Returns ``(p, is_null)`` of shapes (n_runs, n_metrics) and (n_metrics,).
    """
    if not 0 <= n_nonnull <= n_metrics:
        raise ValueError(f"n_nonnull must lie in [0, n_metrics={n_metrics}], got {n_nonnull}")
    is_null = np.arange(n_metrics) >= n_nonnull
    z = rng.standard_normal((n_runs, n_metrics)) + np.where(is_null, 0.0, shift)
    return 2 * stats.norm.sf(np.abs(z)), is_null


def error_rates(reject: np.ndarray, is_null: np.ndarray) -> dict[str, float]:
    """Family-wise error rate, false discovery rate (V / max(R, 1)) and power over simulated experiments."""
    reject = np.asarray(reject, bool)
    false = (reject & is_null).sum(axis=-1)
    total = reject.sum(axis=-1)
    nonnull = (~is_null).sum()
    return {
        "fwer": float((false > 0).mean()),
        "fdr": float((false / np.maximum(total, 1)).mean()),
        "power": float((reject & ~is_null).sum(axis=-1).mean() / nonnull) if nonnull else float("nan"),
    }


# --------------------------------------------------------------------------- variance reduction
def cuped_theta(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """CUPED coefficient theta = cov(Y, X) / var(X) along the last axis (eq. 07.10)."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    if y.shape != x.shape:
        raise ValueError(f"y and x must have the same shape (one pre-period value per user), got {y.shape} and {x.shape}")
    if y.shape[-1] < 2:
        raise ValueError("CUPED needs at least 2 users")
    xc = x - x.mean(axis=-1, keepdims=True)
    var_x = (xc**2).mean(axis=-1)
    if np.any(var_x <= 0):
        raise ValueError("the covariate x has zero variance, so it cannot explain any of y's variance; "
                         "pick a pre-period metric that varies across users")
    return (xc * (y - y.mean(axis=-1, keepdims=True))).mean(axis=-1) / var_x


def cuped_adjust(y: np.ndarray, x: np.ndarray, theta=None) -> np.ndarray:
    """CUPED-adjusted metric Y_cv = Y - theta (X - mean(X)) (eq. 07.11; Deng et al., WSDM 2013).

    y, x: outcome and pre-period covariate per user, shape (..., n), pooled over both arms.
    theta defaults to ``cuped_theta(y, x)``.  The mean is unchanged; the variance falls by rho^2.
    """
    y, x = np.asarray(y, float), np.asarray(x, float)
    if theta is None:
        theta = cuped_theta(y, x)
    theta = np.asarray(theta, float)[..., None] if np.ndim(theta) else float(theta)
    return y - theta * (x - x.mean(axis=-1, keepdims=True))


def simulate_cuped(rho: float, n_per_arm: int, n_runs: int, effect: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Raw and CUPED difference-in-means estimates of ``n_runs`` experiments, shape (n_runs,) each.

    Pre-period X and outcome Y are standard normal with correlation rho; treatment adds ``effect``.
    """
    rho = number("rho", rho, low=-1, high=1, low_open=True, high_open=True)
    n_per_arm = integer("n_per_arm", n_per_arm, low=2)
    n = 2 * n_per_arm
    x = rng.standard_normal((n_runs, n))
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n_runs, n))
    treated = np.arange(n) < n_per_arm
    y = y + effect * treated
    y_cv = cuped_adjust(y, x)
    raw = y[:, treated].mean(axis=1) - y[:, ~treated].mean(axis=1)
    adj = y_cv[:, treated].mean(axis=1) - y_cv[:, ~treated].mean(axis=1)
    return raw, adj


def stratified_diff_in_means(y: np.ndarray, treated: np.ndarray, strata: np.ndarray) -> tuple[float, float]:
    """Post-stratified estimate sum_s w_s (ybar_T,s - ybar_C,s) and its standard error (eq. 07.12).

    w_s is stratum s's share of users; every stratum needs at least 2 users in each arm.
    """
    y, treated, strata = np.asarray(y, float), np.asarray(treated, bool), np.asarray(strata)
    if not (y.shape == treated.shape == strata.shape) or y.ndim != 1:
        raise ValueError("y, treated and strata must be 1-d arrays of the same length")
    est, var = 0.0, 0.0
    for s in np.unique(strata):
        yt, yc = y[(strata == s) & treated], y[(strata == s) & ~treated]
        if len(yt) < 2 or len(yc) < 2:
            raise ValueError(f"stratum {s!r} needs at least 2 users in each arm; merge small strata")
        w = np.mean(strata == s)
        est += w * (yt.mean() - yc.mean())
        var += w**2 * (yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc))
    return est, float(np.sqrt(var))


# --------------------------------------------------------------------------- sample ratio mismatch
@dataclass(frozen=True)
class SRMResult:
    """Chi-square goodness-of-fit of the assignment counts against the designed split."""

    chi2: float
    p_value: float
    flagged: bool


def srm_check(counts, expected_share=None, threshold: float = 0.001) -> SRMResult:
    """Sample-ratio-mismatch check (eq. 07.13) with ``scipy.stats.chisquare``.

    counts: users per arm; expected_share: designed split (equal when None).  A p-value below
    ``threshold`` (0.001 is the common, conservative choice) flags a broken assignment.
    """
    threshold = _check_alpha(threshold, "threshold", usual=0.001)
    counts = np.asarray(counts, float)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError("counts must list the (non-negative) number of users in each of at least 2 arms")
    share = np.full(counts.size, 1 / counts.size) if expected_share is None else np.asarray(expected_share, float)
    if share.shape != counts.shape or np.any(share <= 0):
        raise ValueError("expected_share needs one positive share per arm")
    share = share / share.sum()
    res = stats.chisquare(counts, f_exp=share * counts.sum())
    return SRMResult(float(res.statistic), float(res.pvalue), bool(res.pvalue < threshold))


# --------------------------------------------------------------------------- interference
def sbm_graph(n_communities: int, community_size: int, p_in: float, p_out: float, seed: int
              ) -> tuple[sparse.csr_array, np.ndarray]:
    """Social graph from a stochastic block model (``networkx.stochastic_block_model``).

    Returns the symmetric adjacency matrix (CSR, shape (n, n)) and each user's community label.
    """
    import networkx as nx

    if not (0 <= p_out <= p_in <= 1):
        raise ValueError(f"need 0 <= p_out <= p_in <= 1 for communities, got p_in={p_in}, p_out={p_out}")
    if n_communities < 2 or community_size < 2:
        raise ValueError("need at least 2 communities of at least 2 users")
    probs = np.full((n_communities, n_communities), p_out)
    np.fill_diagonal(probs, p_in)
    g = nx.stochastic_block_model([community_size] * n_communities, probs.tolist(), seed=seed, sparse=True)
    adj = nx.to_scipy_sparse_array(g, nodelist=range(g.number_of_nodes()), format="csr", dtype=float)
    return adj, np.repeat(np.arange(n_communities), community_size)


def simulate_interference(adj, communities: np.ndarray, design: str, n_runs: int, direct: float,
                          spillover: float, rng: np.random.Generator, community_sd: float = 0.5,
                          noise_sd: float = 1.0) -> dict[str, np.ndarray]:
    """Difference-in-means estimates under interference, for ``"user"`` or ``"cluster"`` randomisation.

    Outcome Y_i = direct T_i + spillover * (share of i's friends treated) + community effect + noise
    (eq. 07.14), so the global effect of treating everyone against no one is direct + spillover.
    Returns ``estimate`` (n_runs,); the exposure contrast of every run, ``indirect_minus_none``
    (n_runs,): mean outcome of control users with at least one treated friend minus that of control
    users with none (NaN when a group is empty), and ``indirect_share`` (n_runs,), the indirect
    users' mean treated-friend share, so the contrast estimates spillover * indirect_share; and, for
    one run's picture, ``treated``, ``friend_share`` and ``outcome`` of the first run, shape (n,).
    """
    communities = np.asarray(communities)
    n = adj.shape[0]
    if communities.shape != (n,):
        raise ValueError(f"communities needs one label per node ({n}), got shape {communities.shape}")
    labels, comm_idx = np.unique(communities, return_inverse=True)
    if design == "user":
        keys = rng.random((n, n_runs))
        treated = keys < np.median(keys, axis=0)  # complete randomisation, half the users
    elif design == "cluster":
        keys = rng.random((labels.size, n_runs))
        treated = (keys < np.median(keys, axis=0))[comm_idx]
    else:
        raise ValueError(f"design must be 'user' or 'cluster', got {design!r}")
    deg = np.asarray(adj.sum(axis=1)).ravel()
    t = treated.astype(float)
    share = np.divide(adj @ t, deg[:, None], out=np.zeros_like(t), where=deg[:, None] > 0)
    community_effect = community_sd * rng.standard_normal((labels.size, n_runs))[comm_idx]
    y = direct * t + spillover * share + community_effect + noise_sd * rng.standard_normal((n, n_runs))
    est = (y * t).sum(axis=0) / t.sum(axis=0) - (y * (1 - t)).sum(axis=0) / (1 - t).sum(axis=0)
    indirect = (~treated & (share > 0)).astype(float)
    none = (~treated & (share == 0)).astype(float)
    n_ind, n_none = indirect.sum(axis=0), none.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        contrast = (y * indirect).sum(axis=0) / n_ind - (y * none).sum(axis=0) / n_none
        ind_share = (share * indirect).sum(axis=0) / n_ind
    ok = (n_ind > 0) & (n_none > 0)
    return {"estimate": est, "indirect_minus_none": np.where(ok, contrast, np.nan),
            "indirect_share": np.where(n_ind > 0, ind_share, np.nan),
            "treated": treated[:, 0], "friend_share": share[:, 0], "outcome": y[:, 0]}


# --------------------------------------------------------------------------- long-term effects
def diff_in_diff(pre_t, post_t, pre_c, post_c) -> float:
    """Difference-in-differences (eq. 07.15): (mean post_T - mean pre_T) - (mean post_C - mean pre_C)."""
    parts = [np.asarray(a, float) for a in (pre_t, post_t, pre_c, post_c)]
    if any(a.size == 0 for a in parts):
        raise ValueError("each of the four periods x groups needs at least one observation")
    m = [a.mean() for a in parts]
    return float((m[1] - m[0]) - (m[3] - m[2]))


def simulate_panel(n_weeks: int, launch_week: int, effect: float, trend_gap: float, rng: np.random.Generator,
                   noise_sd: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Weekly metric of a treated and a control market; the treated one launches at ``launch_week``.

    Both share a seasonal pattern; ``trend_gap`` adds a treated-only linear trend per week, which
    breaks the parallel-trends assumption.  Returns (treated, control), shape (n_weeks,) each.
    """
    if not 0 < launch_week < n_weeks:
        raise ValueError(f"launch_week must lie in (0, n_weeks={n_weeks}), got {launch_week}")
    w = np.arange(n_weeks)
    season = 10 + 0.05 * w + 0.8 * np.sin(2 * np.pi * w / 13)
    control = season + noise_sd * rng.standard_normal(n_weeks)
    treated = season + 1.0 + trend_gap * w + effect * (w >= launch_week) + noise_sd * rng.standard_normal(n_weeks)
    return treated, control


# --------------------------------------------------------------------------- exercise references (checkers: course_lib.notebook.checks)


