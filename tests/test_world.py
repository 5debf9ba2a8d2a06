"""course_lib.world (lesson 03): exact regeneration, the oracle's rules, the feature artifact."""

import numpy as np
import pandas as pd
import pytest

from course_lib.sim import world as W


@pytest.fixture(scope="module")
def world():
    return W.load_world()


def test_build_world_regenerates_the_committed_data_exactly(world):
    fresh = W.build_world(W.DEFAULT_SEED)
    for table in ("products", "users", "log"):
        pd.testing.assert_frame_equal(getattr(fresh, table), getattr(world, table), check_exact=True)
    a, b = fresh.artifact.to_dict(), world.artifact.to_dict()
    assert a["vocabulary"] == b["vocabulary"] and a["minmax"] == b["minmax"]
    np.testing.assert_allclose(a["svd_components"], b["svd_components"], atol=1e-10)
    np.testing.assert_allclose(fresh.product_features, world.product_features, atol=1e-10)


def test_catalogue_users_and_log_have_the_promised_shape(world):
    p, u, log = world.products, world.users, world.log
    assert len(p) == 200 and p.product_id.tolist() == list(range(200))
    assert p.category.nunique() == 8 and 5 <= p.is_coffee.sum() <= 12
    assert len(u) == 1000 and set(u.traffic_source) == set(W.TRAFFIC_SOURCES)
    assert len(log) == 10_000 and np.allclose(log.propensity, 1 / 200)
    assert 0.12 < log.click.mean() < 0.15  # the issue expects roughly 13 to 14 percent
    assert world.product_features.shape == (200, 20) and world.user_features.shape == (1000, 10)
    # min-max features lie in [0, 1] on the fitted data
    assert world.user_features[:, -3:].min() == 0 and world.user_features[:, -3:].max() == 1


def test_time_features_on_known_dates():
    tf = W.time_features(["2024-01-01 08:30", "2024-01-01 11:00", "2024-01-06 09:59", "2024-01-07 23:00"])
    # Monday morning, Monday 11:00 (not morning), Saturday morning, Sunday night
    np.testing.assert_array_equal(tf, [[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]])


def test_oracle_rules_on_crafted_contexts(world):
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    p, u = world.products, world.users
    coffee = int(p.index[p.is_coffee][0])
    pizza = int(p.index[(p.category == "pizzas") & (world._price_scaled < 0.8)][0])
    salad = int(p.index[p.category == "salads"][0])
    pricey = int(np.argmax(world._price_scaled))
    old_organic = int(u.index[(world._age_scaled > 0.5) & (u.traffic_source == "Organic")][0])
    young_organic = int(u.index[(world._age_scaled < 0.25) & (u.traffic_source == "Organic")][0])
    old_search = int(u.index[(world._age_scaled > 0.5) & (u.traffic_source == "Search")][0])
    mon8, sat19, tue15 = "2024-02-05 08:00", "2024-02-10 19:00", "2024-02-06 15:00"
    cp = world.click_probability
    assert np.isclose(cp(old_organic, salad, tue15), sig(-2.5))
    assert np.isclose(cp(old_organic, coffee, mon8), sig(0.0))
    assert np.isclose(cp(old_organic, coffee, tue15), sig(-2.5))
    assert np.isclose(cp(old_organic, pizza, sat19), sig(-0.7))
    assert np.isclose(cp(old_organic, pizza, mon8), sig(-2.5))
    assert np.isclose(cp(old_search, salad, tue15), sig(-2.0))
    assert np.isclose(cp(young_organic, pricey, tue15), sig(-5.5))
    assert np.isclose(cp(old_organic, pricey, tue15), sig(-2.5))


def test_click_probability_broadcasts_and_clicks_follow_it(world):
    users = np.array([3, 4, 5])
    times = W.random_timestamps(3, np.random.default_rng(0))
    P = world.click_probability(users[:, None], np.arange(200)[None], times[:, None])
    assert P.shape == (3, 200)
    for i in range(3):
        np.testing.assert_allclose(P[i], world.click_probability(np.full(200, users[i]), np.arange(200), times[i]))
    # Monte Carlo: mean of Bernoulli clicks is the probability (200k draws, 5 sd tolerance)
    n = 200_000
    clicks = world.sample_clicks(np.full(n, 3), np.full(n, 0), np.full(n, times[0]), np.random.default_rng(1))
    p = P[0, 0]
    assert abs(clicks.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    best, pbest = world.best_click_probability(users, times)
    np.testing.assert_allclose(pbest, P.max(1))


def test_context_and_validation(world):
    X = world.context(np.array([0, 1]), ["2024-02-05 08:00", "2024-02-10 19:00"])
    assert X.shape == (2, world.context_dim) and X[0, -3:].tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="user_ids must lie"):
        world.context(np.array([1000]), ["2024-02-05 08:00"])
    with pytest.raises(ValueError, match="product_ids must be integer"):
        world.click_probability(0, 1.5, "2024-02-05 08:00")
    with pytest.raises(ValueError, match="timestamps"):
        W.time_features(["not a date"])
    with pytest.raises(ValueError, match="end must be after start"):
        W.random_timestamps(3, np.random.default_rng(0), start="2024-01-02", end="2024-01-01")


def test_add_product_and_artifact_transform_new_rows(world):
    import copy

    w = copy.copy(world)
    new = w.add_product()
    assert new == 200 and w.n_products == 201 and world.n_products == 200
    assert w.product_features[new, -1] == 1.0  # is_coffee
    assert np.isclose(w.click_probability(0, new, "2024-02-05 08:00"),
                      w.click_probability(0, int(np.flatnonzero(world.products.is_coffee)[0]), "2024-02-05 08:00"))
    with pytest.raises(ValueError, match="unknown product categories"):
        w.add_product(category="sushi")


def test_artifact_json_round_trip(tmp_path, world):
    path = tmp_path / "a.json"
    world.artifact.save(path)
    again = W.FeatureArtifact.load(path)
    np.testing.assert_array_equal(again.transform_products(world.products), world.product_features)
    np.testing.assert_array_equal(again.transform_users(world.users), world.user_features)
