"""Lesson 08's stated figures, read back from the solution notebook run with default parameters."""

import pytest

NAME = "08_streaming_architecture"
pytestmark = pytest.mark.xdist_group(f"{NAME}-solutions")


def test_bad_events_go_to_the_dead_letter_topic(r):
    assert r["dlq.learnt"] == 6 and r["dlq.dead"] == 6


def test_trainer_equals_lesson03_linucb(r):
    assert r["trainer.gap_to_linucb"] < 1e-9
    assert r["loop.agreement"] == 1.0


def test_versioned_store_never_tears_and_split_keys_do(r):
    assert r["race.atomic_mixed"] == 0 and r["race.atomic_reads"] > 50
    assert r["race.split_mixed"] > 0


def test_latency_budgets(r):
    # the lesson's budgets: ingestion under 10 ms, serving well under 100 ms
    assert r["latency.ack.p50_ms"] < 10
    assert r["latency.serve.p99_ms"] < 100
    assert r["latency.serve.p50_ms"] < r["latency.serve.p99_ms"]
    # the slow path is per refresh and costs more than one event's fast path
    assert r["latency.refresh.p50_ms"] > r["latency.train.p50_ms"]


def test_loop_click_rates_are_ordered_as_stated(r):
    assert r["loop.ctr_random"] < r["loop.ctr_oracle"]
    assert 0 < r["loop.ctr"] < r["loop.ctr_oracle"]


def test_crash_test_figures(r):
    assert r["crash.atomic.kills"] == 4
    assert r["crash.atomic.lost"] == 0 and r["crash.atomic.duplicated"] == 0
    assert r["crash.atomic.max_diff_A"] < 1e-9
    lost, dup = r["crash.offsets_first.lost"], r["crash.state_first.duplicated"]
    assert lost > 0 and lost % 500 == 0 and r["crash.offsets_first.duplicated"] == 0   # whole intervals
    assert dup > 0 and dup % 500 == 0 and r["crash.state_first.lost"] == 0


def test_dedup_numbers(r):
    assert r["dedup.naive"] == 3450 and r["dedup.applied"] == 3000


def test_refresh_tradeoff(r):
    assert r["refresh.share_at_1"] == pytest.approx(500 * r["refresh.share_at_500"], rel=1e-3)
    assert r["refresh.share_at_500"] < 0.2


def test_merged_partitions_equal_one_pass(r):
    assert r["scale.merge_gap_1"] < 1e-9 and r["scale.merge_gap_2"] < 1e-9
    assert r["scale.bytes_per_arm"] == (13 * 13 + 13 + 1) * 8
    assert r["scale.rate_1"] > 0 and r["scale.rate_2"] > 0


def test_redis_streams_takeover(r):
    assert r["streams.claimed"] == 1200


def test_delayed_feedback_reorders_products(r):
    # equation DF at w = 30 s: 0.10 (1 - e^-3) and 0.12 (1 - e^-0.25)
    assert r["delay.obs30_coffee"] == pytest.approx(0.0950, abs=1e-3)
    assert r["delay.obs30_pizza"] == pytest.approx(0.0265, abs=1e-3)
    assert 100 < r["delay.flip_window_s"] < 400
    assert r["delay.sim_gap"] < 0.01   # simulation agrees with the closed form


def test_parsing_dominates_the_train_step(r):
    assert r["train.fast_path_us"] < r["train.full_us"]


def test_feature_store_counts_the_users_views(r):
    assert r["fs.top_user_views"] == r["fs.top_user_views_expected"] > 0
    assert r["fs.read_p50_ms"] < 10


def test_safe_learner_input_validation(r):
    assert r["safe.dead"] == 2


def test_poisoning_burst_rolled_back(r):
    assert r["safe.poison.checks_in_burst"] == 4 and r["safe.poison.rolled_back_in_burst"] == 4
    assert r["safe.poison.rollbacks_outside"] == 0
    assert r["safe.poison.min_z_in_burst"] > 2.33
    assert r["safe.poison.peak_guard"] < 0.2 * r["safe.poison.peak_free"]
    assert r["safe.poison.bots_in_holdout"] == 0
    # over other streams ("6 of 6")
    assert r["safe.poison_seeds.n"] == 6 and r["safe.poison_seeds.kept"] == 6
    assert r["safe.poison_seeds.median_ratio"] < 0.5


def test_many_bots_blind_spot(r):
    assert r["safe.many_bots.in_holdout"] == 4
    assert r["safe.many_bots.first_z"] < 2.33                       # missed at the first check
    assert r["safe.many_bots.peak_guard"] > 3 * r["safe.poison.peak_guard"]


def test_taste_shift_not_rolled_back(r):
    assert r["safe.shift.rollbacks"] == 0
    assert r["safe.shift.first_z"] < -3
    assert r["safe.shift.end_learner"] < 0.1 * r["safe.shift.end_frozen"]


def test_guard_false_alarm_rate(r):
    assert r["safe.false_alarm.checks"] == 200
    assert r["safe.false_alarm.rate"] <= 0.01
    assert r["safe.false_alarm.upper"] < 0.03


def test_canary_decisions(r):
    assert r["canary.good.ctr_gap"] == pytest.approx(0.022, abs=0.002)
    assert r["canary.bad.ctr_gap"] == pytest.approx(-0.019, abs=0.002)
    assert r["canary.aa.ctr_gap"] == 0
    assert r["canary.good.promoted"] >= 0.95 and r["canary.good.rolled_back_boundary"] == 0
    assert r["canary.bad.promoted"] == 0 and r["canary.bad.rolled_back_boundary"] >= 0.95
    assert r["canary.aa.promoted"] <= 0.025 and r["canary.aa.rolled_back_boundary"] <= 0.05
