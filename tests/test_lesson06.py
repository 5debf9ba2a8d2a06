"""Lesson 06's stated figures, read back from the solution notebook run with default parameters.

Where a figure has a closed form in terms of other figures (an epsilon-greedy policy's value,
the IPS variance of a policy against a uniform logger, clipped IPS's expectation), the test
checks it against that form; elsewhere it checks the relations the prose states.
"""

import math

import numpy as np
import pytest

NAME = "06_off_policy_evaluation"
pytestmark = pytest.mark.xdist_group(f"{NAME}-solutions")

K, N_EVENTS, N_LOGS, N_TEST = 200, 10_000, 200, 2_000      # the lesson's default sizes
EPS_CLOSE, EPS_FAR, CAP = 0.9, 0.05, 20.0
UNBIASED = ("ips", "snips", "dr", "sndr", "replay")


def covers(value, se, truth, z=1.96):
    return abs(value - truth) <= z * se


# ---------------------------------------------------------------- the truth from the oracle
def test_true_values_and_the_logs_click_rate(r):
    v_u, v_g = r["truth.uniform"], r["truth.greedy_reward_model"]
    # the log was written by the uniform logger: its click rate estimates V(uniform), binomial se ~0.0034
    assert r["log_ctr"] == pytest.approx(v_u, abs=3 * math.sqrt(v_u * (1 - v_u) / 10_000))
    # epsilon-greedy on q_hat: V = (1 - eps) V(greedy on q_hat) + eps V(uniform)
    assert r["truth.close"] == pytest.approx((1 - EPS_CLOSE) * v_g + EPS_CLOSE * v_u, abs=2e-4)
    assert r["truth.far"] == pytest.approx((1 - EPS_FAR) * v_g + EPS_FAR * v_u, abs=2e-4)
    assert v_u < r["truth.close"] < r["truth.far"] < v_g <= r["truth.best"]
    assert r["truth.far"] / v_u > 2 and r["truth.close"] / v_u < 1.2


# ---------------------------------------------------------------- one held-out log
def test_heldout_ips_and_dr_intervals_cover_the_truth(r):
    for k in ("close", "far"):
        t = r[f"truth.{k}"]
        assert covers(r[f"heldout.ips.{k}"], r[f"heldout.ips_se.{k}"], t)
        assert covers(r[f"heldout.dr.{k}"], r[f"heldout.dr_se.{k}"], t)
        assert r[f"heldout.dr_se.{k}"] < r[f"heldout.ips_se.{k}"]
    # the far policy's interval is several times wider (weights up to 190 instead of 21)
    assert r["heldout.ips_se.far"] / r["heldout.ips_se.close"] > 4
    # on this log DR's correction of DM is small next to DM's error for the far policy
    dm_err = abs(r["heldout.dm.far"] - r["truth.far"])
    assert abs(r["heldout.dr.far"] - r["heldout.dm.far"]) < dm_err / 4
    assert dm_err > 0.05


# ---------------------------------------------------------------- Monte Carlo over logs
def test_weights_of_the_two_policies(r):
    assert r["mc.n_logs"] == N_LOGS
    assert r["mc.far.w_max"] == pytest.approx((1 - EPS_FAR + EPS_FAR / K) * K, rel=1e-3)
    assert r["mc.close.w_max"] == pytest.approx((1 - EPS_CLOSE + EPS_CLOSE / K) * K, rel=1e-3)


@pytest.mark.parametrize("policy", ["close", "far"])
@pytest.mark.parametrize("est", UNBIASED)
def test_unbiased_estimators_are_centred_on_the_truth(r, policy, est):
    sd = r[f"mc.{policy}.{est}.sd"]
    mcse = sd / math.sqrt(N_LOGS)
    assert abs(r[f"mc.{policy}.{est}.bias"]) < 3 * mcse
    # the standard error one log reports matches the spread over logs
    assert 0.8 < r[f"mc.{policy}.{est}.se"] / sd < 1.25
    # and its 95% interval covers the truth about 95% of the time (200 logs: Monte Carlo error 0.015)
    assert 0.88 <= r[f"mc.{policy}.{est}.coverage"] <= 0.99


def test_biased_estimators_report_honest_spread_but_never_cover(r):
    for k in ("close", "far"):
        assert 0.8 < r[f"mc.{k}.dm.se"] / r[f"mc.{k}.dm.sd"] < 1.25
        assert r[f"mc.{k}.dm.coverage"] < 0.05
    assert 0.8 < r["mc.far.clipped_ips.se"] / r["mc.far.clipped_ips.sd"] < 1.25
    assert r["mc.far.clipped_ips.coverage"] < 0.05


def test_chi2_divergence_bounds_the_ips_variance(r):
    for k, eps in (("close", EPS_CLOSE), ("far", EPS_FAR)):
        p_top, p_rest = 1 - eps + eps / K, eps / K
        assert r[f"mc.{k}.chi2"] == pytest.approx(K * (p_top**2 + (K - 1) * p_rest**2) - 1, rel=1e-3)
        assert r[f"mc.{k}.ips_event_var"] < 1 + r[f"mc.{k}.chi2"] - r[f"truth.{k}"] ** 2
    assert r["mc.far.ips_event_var"] > 10 * r["mc.close.ips_event_var"]


def test_ips_standard_error_matches_its_closed_form(r):
    # uniform logger: Var(w r) = K E_x sum_a pi(a|x)^2 q(x, a) - V^2; for epsilon-greedy pi the
    # non-greedy terms are negligible (pi = eps / K there)
    v_g, v = r["truth.greedy_reward_model"], r["truth.far"]
    p_top = 1 - EPS_FAR + EPS_FAR / K
    sd = math.sqrt((K * p_top**2 * v_g - v**2) / N_EVENTS)
    assert r["mc.far.ips.se"] == pytest.approx(sd, rel=0.03)
    assert r["mc.far.ips.sd"] == pytest.approx(sd, rel=0.15)
    # replay keeps about N/K events: sd ~ sqrt(V (1 - V) / (N / K))
    for k in ("close", "far"):
        t = r[f"truth.{k}"]
        assert r[f"mc.{k}.replay.sd"] == pytest.approx(math.sqrt(t * (1 - t) / (N_EVENTS / K)), rel=0.2)


def test_variance_ordering_dr_snips_ips(r):
    for k in ("close", "far"):
        assert r[f"mc.{k}.dr.sd"] < r[f"mc.{k}.ips.sd"]
        assert r[f"mc.{k}.snips.sd"] < r[f"mc.{k}.ips.sd"]
        assert r[f"mc.{k}.dm.sd"] < 0.1 * r[f"mc.{k}.ips.sd"]        # DM: tiny spread ...
        assert r[f"mc.{k}.dm.bias"] > 5 * r[f"mc.{k}.ips.sd"] / math.sqrt(N_LOGS)   # ... and a real bias
    # for the close policy replay is much wider than the reweighting estimators
    assert r["mc.close.replay.sd"] > 4 * r["mc.close.ips.sd"]
    # DR has the smallest RMSE of the far policy's estimators
    far = {e: r[f"mc.far.{e}.rmse"] for e in ("ips", "clipped_ips", "snips", "dm", "dr", "replay")}
    assert min(far, key=far.get) == "dr"


def test_dm_bias_is_the_winners_curse(r):
    # DM's bias for the far policy is (1 - eps) times the reward model's optimism on its favourite
    optimism = r["metrics.winner_pred"] - r["truth.greedy_reward_model"]
    assert r["mc.far.dm.bias"] == pytest.approx((1 - EPS_FAR) * optimism, abs=0.01)
    assert r["mc.far.dm.bias"] > 0.05


def test_clipped_ips_at_the_lessons_cap(r):
    v_g, v_u = r["truth.greedy_reward_model"], r["truth.uniform"]
    # E[min(w, M) r] = (M V_g + (eps/K) K (K V_u - V_g)) / K for the far policy (its top weight > M)
    expected = (CAP * v_g + EPS_FAR * (K * v_u - v_g)) / K
    assert r["mc.far.clipped_ips.bias"] == pytest.approx(expected - r["truth.far"], abs=0.003)
    assert r["mc.far.clipped_ips.bias"] < -0.2
    assert r["mc.far.clipped_ips.sd"] < 0.2 * r["mc.far.ips.sd"]
    # the close policy's weights (at most 20.9) are barely clipped: a small downward shift
    assert r["mc.close.clipped_ips.bias"] < r["mc.close.ips.bias"]
    assert r["mc.close.clipped_ips.bias"] > -0.003


# ---------------------------------------------------------------- clipping sweep (softmax target)
def test_clipping_trades_variance_for_bias_on_heavy_tailed_weights(r):
    caps, bias, sd, rmse = r["clip.caps"], r["clip.bias_curve"], r["clip.sd_curve"], r["clip.rmse_curve"]
    q50, q90, q99, w_max = r["clip.weight_quantiles"]
    assert caps[0] == 1 and caps[-1] == pytest.approx(w_max, rel=1e-3) and w_max < K
    assert q50 < 1 < q90 < q99 < 0.3 * w_max                   # continuous weights with a heavy tail
    assert r["truth.uniform"] < r["clip.truth"] < r["truth.best"]
    # with 0/1 rewards a larger cap never lowers an estimate, and the spread grows with it
    assert all(b2 >= b1 - 1e-4 for b1, b2 in zip(bias, bias[1:]))
    assert all(s2 > s1 for s1, s2 in zip(sd, sd[1:]))
    assert bias[0] < -0.1 and abs(bias[-1]) < 3 * sd[-1] / math.sqrt(N_LOGS)   # M = 1 biased, no cap unbiased
    # an interior optimum that beats no clipping, and SNIPS (no cap) beats the best cap
    assert r["clip.best_rmse"] == pytest.approx(min(rmse)) and caps[0] < r["clip.best_cap"] < caps[-1]
    assert r["clip.best_rmse"] < r["clip.rmse_unclipped"] == pytest.approx(rmse[-1])
    assert r["clip.rmse_snips"] < r["clip.best_rmse"]


# ---------------------------------------------------------------- positivity: per-log values and the mean weight
def test_deterministic_logger_fails_positivity_and_one_zero_match_log_carries_the_mean_ess(r):
    t = r["positivity.table"]
    assert r["positivity.support_eps0"] < 0.01
    assert t["support (exact)"][1:] == [1.0] * 5
    assert r["positivity.ips_bias_eps0"] == pytest.approx(-r["truth.far"], abs=0.01)
    assert r["positivity.dr_bias_eps0"] == pytest.approx(r["mc.far.dm.bias"], abs=0.02)
    # the typical log: ESS / n below the uniform logger's; the mean is carried by the zero-match log(s)
    assert r["positivity.ess_median_eps0"] < 0.5 * r["positivity.ess_median_uniform"]
    assert r["positivity.zero_match_logs_eps0"] >= 1 and r["positivity.ess_zero_match_eps0"] == pytest.approx(1.0)
    assert r["positivity.ess_mean_eps0"] > 10 * r["positivity.ess_median_eps0"]
    # the mean weight flags every log, at the support mass
    assert r["positivity.mw_median_eps0"] == pytest.approx(r["positivity.support_eps0"], rel=0.5)
    assert r["positivity.mw_flagged_eps0"] == 1.0
    # uniform logger: ESS / n -> 1 / (K sum_a pi^2) for the far policy; mean weight near 1
    p_top = 1 - EPS_FAR + EPS_FAR / K
    assert r["positivity.ess_median_uniform"] == pytest.approx(1 / (K * p_top**2), rel=0.05)
    assert r["positivity.mw_median_uniform"] == pytest.approx(1.0, abs=0.05)
    assert r["positivity.mw_flagged_uniform"] < 0.2


def test_nearly_deterministic_logger_the_median_story(r):
    # epsilon_0 = 0.01: the typical log's ESS looks better than the uniform logger's ...
    assert r["positivity.ess_median_eps001"] > r["positivity.ess_median_uniform"]
    # ... while IPS swings far more, is unbiased only on average and wrong in the typical log
    assert r["positivity.ips_sd_eps001"] > 5 * r["positivity.ips_sd_uniform"]
    assert r["positivity.ips_mcse_eps001"] == pytest.approx(
        r["positivity.ips_sd_eps001"] / math.sqrt(r["positivity.n_logs"]), rel=1e-3)
    assert abs(r["positivity.table"]["IPS bias"][1]) < 3 * r["positivity.ips_mcse_eps001"]
    assert r["positivity.ips_median_error_eps001"] < -0.6 * r["truth.far"]
    # the mean weight sees it: far below 1 in the typical log, flagged in most logs
    assert r["positivity.mw_median_eps001"] < 0.2
    assert r["positivity.mw_flagged_eps001"] > 0.5
    assert r["positivity.ips_sd_uniform"] == pytest.approx(r["mc.far.ips.sd"], rel=0.3)


def test_the_students_support_check_flags_what_the_lesson_says(r):
    flags = r["positivity.exercise_flag_rate"]
    assert flags[0] == 1.0 and flags[-1] < 0.2 and flags[1] > flags[-1]


# ---------------------------------------------------------------- Mab2Rec benchmark
POLICIES = ["Random", "Popularity", "LinGreedy", "LinUCB", "LinTS", "ClustersTS"]


def test_ctr5_is_a_matched_click_rate(r):
    assert r["bench.n_test"] == N_TEST
    assert r["bench.max_abs_ctr5_minus_snips"] < 1e-9
    for p in POLICIES:
        m = r[f"bench.matched.{p}"]
        # a uniform logger matches one of 5 products with probability 5 / K: Binomial(2000, 0.025)
        assert abs(m - N_TEST * 5 / K) < 4 * math.sqrt(N_TEST * 5 / K)
        clicks = r[f"bench.ctr5.{p}"] * m
        assert clicks == pytest.approx(round(clicks), abs=0.01)
        # IPS of "one of my top 5" = matched clicks * (1/5) / (1/K) / n
        assert r[f"bench.ips.{p}"] == pytest.approx(round(clicks) * K / 5 / N_TEST, rel=1e-3)


def test_benchmark_ranking_what_survives(r):
    assert r["bench.learned_beat_baselines.truth"] is True
    assert r["bench.learned_beat_baselines.ctr5"] is True
    assert r["bench.learned_beat_baselines.dr"] is True
    learned = POLICIES[2:]
    true5 = [r[f"bench.true5.{p}"] for p in learned]
    assert r["bench.true5_spread_learned"] == pytest.approx(max(true5) - min(true5), abs=1e-4)
    # the order among learned policies is within one interval's half-width
    assert r["bench.true5_spread_learned"] < r["bench.ctr5_halfwidth_min_learned"]
    assert r["bench.true5_spread_learned"] < r["bench.dr_halfwidth_min_learned"]
    assert r["bench.best.truth"] == max(learned, key=lambda p: r[f"bench.true5.{p}"])
    assert r["bench.best.ctr5"] != r["bench.best.truth"]
    # a random recommender's true value is the uniform logger's
    assert r["bench.true5.Random"] == pytest.approx(r["truth.uniform"], abs=0.015)
    assert -1 <= r["bench.spearman_ctr5_truth"] <= 1 and r["bench.spearman_dr_truth"] > 0
    # the prose: more misses than one in twenty, but most DR intervals still cover the truth, and
    # the linear policies share a large part of their matched visits (correlated errors)
    assert 1 <= r["bench.ctr5_covers"] <= 5 and r["bench.dr_covers"] >= 3
    assert 0.3 < r["bench.lin_shared_min"] <= r["bench.lin_shared_max"] <= 1


def test_benchmark_metrics_with_bootstrap_intervals(r):
    for p in POLICIES:
        lo, hi = r[f"bench.boot.{p}.ctr5"]
        assert lo <= r[f"bench.ctr5.{p}"] <= hi
        lo, hi = r[f"bench.boot.{p}.auc5"]
        assert lo <= r[f"bench.auc5.{p}"] <= hi
        assert 1 <= r[f"bench.clicks_matched.{p}"] <= 20                # AUC@5 rests on a handful of clicks
        assert r[f"bench.clicks_matched.{p}"] == pytest.approx(r[f"bench.ctr5.{p}"] * r[f"bench.matched.{p}"], abs=0.01)
    assert r["bench.auc_intervals_with_half"] >= 5
    lo, hi = r["bench.boot.LinUCB.auc5"]
    assert lo < 0.5 < hi                                               # LinUCB's 0.36 is not "worse than random"


# ---------------------------------------------------------------- offline metrics
def test_reward_model_calibrated_on_the_log_but_optimistic_on_its_favourites(r):
    assert 0.6 < r["metrics.auc"] < 0.8
    assert r["metrics.logloss"] < r["metrics.logloss_constant"]
    assert r["metrics.ece"] < 0.04
    assert r["metrics.winner_pred"] > r["truth.greedy_reward_model"] + 0.05


def test_ranking_metrics_order_rankers(r):
    for m in ("ndcg5", "map5", "mrr", "precision5", "recall5"):
        v = {k: r[f"rank.{k}.{m}"] for k in ("random", "popularity", "reward_model", "oracle")}
        assert v["random"] < v["popularity"] < min(v["reward_model"], v["oracle"]), m
        assert abs(v["reward_model"] - v["oracle"]) < 0.05 * v["oracle"], m
    assert r["rank.oracle.ndcg5"] < 0.5                 # sampled relevance: far from 1
    # "the reward model beats the oracle" is noise: every paired interval contains 0
    assert r["rank.paired_zero_inside"] == 6
    assert r["rank.paired_decisions"] == ["no evidence"] * 6       # the exercise's verdict on every metric of the table
    diffs = [r[f"rank.paired.{m}"] for m in ("ndcg5", "map5", "mrr", "hit5", "precision5", "recall5")]
    assert all(lo <= 0 <= hi for _, lo, hi in diffs)
    assert any(d > 0 for d, _, _ in diffs)                        # the apparent win the prose explains
    for k in ("random", "popularity", "reward_model", "oracle"):
        assert r[f"rank.{k}.hit5"] >= r[f"rank.{k}.precision5"]   # a hit needs one relevant item in 5


# ---------------------------------------------------------------- position bias
def test_inverse_examination_weighting_removes_position_bias(r):
    theta = r["position.theta"]
    assert theta == pytest.approx([1 / k for k in range(1, 6)], rel=1e-3)
    assert r["position.mae_ipw"] < 0.5 * r["position.mae_naive"]
    # naive rates keep between theta_5 and theta_1 of the attractiveness, less for products shown low
    assert theta[-1] < r["position.naive_kept_low"] < r["position.naive_kept_top"] < 0.7
    assert r["position.naive_kept_top"] - r["position.naive_kept_low"] > 0.05
    assert r["position.ipw_kept_top"] == pytest.approx(1, abs=0.1)
    assert r["position.ipw_kept_low"] == pytest.approx(1, abs=0.1)
    assert r["position.spearman_ipw"] > 0.5 and r["position.spearman_naive"] > 0.5
    assert abs(r["position.spearman_ipw"] - r["position.spearman_naive"]) < 0.1


# ---------------------------------------------------------------- learning from the log
def test_norm_poem_with_and_without_the_penalty(r):
    assert r["poem.steps"] == 40 and len(r["poem.true_path"]) == 40 == len(r["poem.true_path_lambda0"])
    v, v0 = r["poem.truth"], r["poem.truth_lambda0"]
    for value in (v, v0):
        assert 2 * r["truth.uniform"] < value <= r["truth.best"]
    assert v == pytest.approx(r["truth.greedy_reward_model"], abs=0.02)
    assert r["poem.true_path"][0] == pytest.approx(r["truth.uniform"], abs=1e-3)   # W = 0: the uniform policy
    # the training estimates are optimistic for both; the held-out one is honest
    assert r["poem.train_snips"] > v + 0.05 and r["poem.train_snips_lambda0"] > v0 + 0.05
    assert covers(r["poem.heldout_snips"], r["poem.heldout_snips_se"], v)
    # "the penalty's effect is small here": the end values differ by a few hundredths at most,
    # about as much as each path moves after its first five steps
    assert abs(v - v0) < 0.03
    wander = max(max(p[5:]) - min(p[5:]) for p in (r["poem.true_path"], r["poem.true_path_lambda0"]))
    assert abs(v - v0) < 2 * wander


def test_switch_at_the_clipping_cap_inherits_dm_bias_on_two_valued_weights(r):
    # the favourite product's weight (190 far, 20.9 close) exceeds tau = M = 20: SWITCH hands it to the reward model
    assert r["mc.far.switch.bias"] == pytest.approx(r["mc.far.dm.bias"], abs=0.01)
    assert r["mc.far.switch.bias"] > 0.05 and r["mc.far.switch.coverage"] < 0.05
    assert r["mc.far.switch.sd"] < r["mc.far.ips.sd"] / 10
    assert r["mc.close.switch.coverage"] < 0.2 and r["mc.close.switch.bias"] > 0


# ---------------------------------------------------------------- Exercise 2: self-normalised DR
def test_self_normalised_dr_is_drs_twin_here(r):
    for k in ("close", "far"):
        assert r[f"heldout.sndr.{k}"] == pytest.approx(r[f"heldout.dr.{k}"], abs=0.01)
        # "only slightly below DR's spread for the far policy, the same for the close one"
        assert r[f"mc.{k}.sndr.sd"] == pytest.approx(r[f"mc.{k}.dr.sd"], rel=0.05)
    assert r["mc.far.sndr.sd"] < r["mc.far.dr.sd"]
    assert r["mc.far.sndr.sd"] < r["mc.far.ips.sd"]


# ---------------------------------------------------------------- the lambda slider's small problem
def test_poem_penalty_on_a_small_log_buys_an_honest_estimate_not_a_better_policy(r):
    t0, t8 = r["poem.slider.truth_lambda0"], r["poem.slider.truth_lambda8"]
    s0, s8 = r["poem.slider.train_snips_lambda0"], r["poem.slider.train_snips_lambda8"]
    assert s0 > t0 + 0.3                        # lambda = 0 chases the log's luck
    assert abs(s8 - t8) < 0.1 < s0 - t0         # lambda = 8: the training estimate is about the truth
    assert t8 < t0                              # ... and the policy is worse, nearer the logger
    assert r["truth.uniform"] < t8
    # "five other random subsamples say the same": lambda = 0 overstates by a lot, lambda = 8 by about a tenth at most,
    # and lambda = 8's policy is the worse one in every subsample
    opt, truth = np.array(r["poem.slider.others_optimism"]), np.array(r["poem.slider.others_truth"])
    assert opt.shape == (5, 2) and np.all(opt[:, 0] > 0.25) and np.all(np.abs(opt[:, 1]) < 0.12)
    assert np.all(truth[:, 1] < truth[:, 0]) and np.all(truth > r["truth.uniform"])


# ---------------------------------------------------------------- replaying a learning bandit
def test_replayed_linucb_agrees_with_live_runs(r):
    T, k = r["replay_learning.steps"], K
    assert T == 400
    vals = r["replay_learning.values"]
    assert len(vals) == 6 and r["replay_learning.mean"] == pytest.approx(sum(vals) / len(vals))
    # the replay's mean agrees with live within its interval, and the interval is narrow enough to mean something
    assert abs(r["replay_learning.gap"]) < 1.96 * r["replay_learning.gap_se"]
    assert r["replay_learning.gap_se"] < 0.015
    assert r["replay_learning.covers_live"] >= 5
    # LinUCB learns: over 400 visits live runs beat the uniform logger by more than 3 standard errors
    assert r["replay_learning.live_mean"] > r["truth.uniform"] + 3 * r["replay_learning.live_se"]
    # the horizon: about K log events per replayed step (geometric gaps, T = 400: sd of the total ~ K sqrt(T))
    # "mostly inside the live band, about as often as the live runs themselves; one replayed curve mostly outside"
    inside, inside_live = np.array(r["replay_learning.inside_band"]), np.array(r["replay_learning.inside_band_live"])
    assert len(inside) == 6 and len(inside_live) == 20
    assert inside.mean() > inside_live.mean() - 0.1 and inside.mean() > 0.7
    assert inside.min() < 0.5 and inside_live.min() < 0.5
    for n in r["replay_learning.n_read"]:
        assert abs(n - T * k) < 4 * k * math.sqrt(T)
