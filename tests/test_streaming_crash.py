"""Lesson 08: exactly-once under SIGKILL (slow: about a minute; run by make test)."""

import pytest

from course_lib.streaming.crash import run_crash_test
from course_lib.streaming.kafka_log import EventLog

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("streaming-crash")]


@pytest.fixture(scope="module")
def kafka():
    log = EventLog.start()
    yield log
    log.close()


def test_atomic_checkpoint_is_exactly_once_under_sigkill(kafka):
    # kills land 0-0.1 s after the trainer is ready, so 20 of them fit in the stream on a fast machine too
    rep = run_crash_test(n_events=100_000, n_kills=20, mode="atomic", seed=11, max_delay_s=0.1, log=kafka)
    assert rep.kills >= 20 and rep.n_events >= 100_000
    assert rep.lost == 0 and rep.duplicated == 0 and rep.counts_equal
    assert rep.max_diff_A <= 1e-9 and rep.max_diff_b <= 1e-9


@pytest.mark.parametrize("mode, field", [("offsets_first", "lost"), ("state_first", "duplicated")])
def test_non_atomic_checkpoints_lose_or_double_count(kafka, mode, field):
    rep = run_crash_test(n_events=30_000, n_kills=10, mode=mode, seed=12, gap_ms=60.0, log=kafka)
    assert getattr(rep, field) > 0 and not rep.exact
    other = {"lost": "duplicated", "duplicated": "lost"}[field]
    assert getattr(rep, other) == 0


@pytest.fixture(scope="module")
def redis_url():
    from course_lib.streaming.model_store import start_redis
    server = start_redis()
    yield server.url
    server.close()


@pytest.mark.xdist_group("streaming-crash-redis")
def test_redis_streams_consumer_group_is_exactly_once_under_sigkill(redis_url):
    from course_lib.streaming.redis_streams import run_stream_crash_test
    rep = run_stream_crash_test(redis_url, n_events=20_000, n_kills=8, seed=13, gap_ms=200, max_delay_s=0.25)
    assert rep.kills >= 8 and rep.redelivered > 0       # XAUTOCLAIM did hand over entries seen before
    assert rep.lost == 0 and rep.duplicated == 0 and rep.counts_equal and rep.exact


@pytest.mark.xdist_group("streaming-crash-redis")
def test_redis_streams_without_dedup_double_counts(redis_url):
    from course_lib.streaming.redis_streams import run_stream_crash_test
    rep = run_stream_crash_test(redis_url, n_events=10_000, n_kills=6, seed=14, dedup=False, gap_ms=200)
    assert rep.duplicated > 0 and rep.lost == 0 and not rep.exact
