"""course_lib.metrics against hand-computed rankings and scikit-learn."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import label_ranking_average_precision_score, ndcg_score, roc_auc_score

from course_lib import metrics as M

# one query, 5 items; scores rank items 2, 0, 4, 1, 3
REL = np.array([[1, 0, 2, 0, 1]])
SC = np.array([[0.8, 0.3, 0.9, 0.1, 0.5]])


def test_ndcg_hand_example():
    # ranked grades 2, 1, 1, 0, 0; ideal the same -> 1; at k=1 also 1
    assert M.ndcg_at_k(REL, SC, 3) == pytest.approx(1.0)
    worse = np.array([[0.1, 0.9, 0.0, 0.8, 0.2]])  # ranks items 1, 3, 4, 0, 2 -> 0, 0, 1, 1, 2
    dcg = 1 / np.log2(4) + 1 / np.log2(5) + 3 / np.log2(6)
    idcg = 3 + 1 / np.log2(3) + 1 / np.log2(4)
    assert M.ndcg_at_k(REL, worse, 5) == pytest.approx(dcg / idcg)
    assert M.ndcg_at_k(REL, worse, 2) == pytest.approx(0.0)


def test_ndcg_matches_sklearn_with_exponential_gains():
    rng = np.random.default_rng(0)
    rel = rng.integers(0, 4, size=(30, 15))
    s = rng.normal(size=(30, 15))  # continuous scores: no ties
    for k in (1, 5, 15):
        assert M.ndcg_at_k(rel, s, k) == pytest.approx(ndcg_score(2.0**rel - 1, s, k=k))


def test_precision_recall_hit_mrr_map_hand_example():
    rel = np.array([[0, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]])
    s = np.array([[4, 3, 2, 1], [4, 3, 2, 1], [1, 2, 3, 4]])  # first two rank 0,1,2,3; third 3,2,1,0
    assert M.precision_at_k(rel, s, 2) == pytest.approx((1 / 2 + 0 + 0) / 3)
    assert M.recall_at_k(rel, s, 2) == pytest.approx((1 / 2 + 0) / 2)  # query 2 has nothing relevant
    assert M.hit_rate_at_k(rel, s, 2) == pytest.approx(1 / 3)
    assert M.hit_rate_at_k(rel, s, 4) == pytest.approx(2 / 3)
    assert M.mrr(rel, s) == pytest.approx((1 / 2 + 0 + 1 / 4) / 3)
    # AP query 0: hits at ranks 2 and 4 -> (1/2 + 2/4) / 2; query 2: hit at rank 4 -> 1/4
    assert M.map_at_k(rel, s) == pytest.approx(((0.5 + 0.5) / 2 + 0.25) / 2)
    assert M.map_at_k(rel, s, 2) == pytest.approx((0.5 / 2 + 0.0) / 2)  # query 0: P@2 / min(k, 2)


def test_map_matches_sklearn_lrap():
    rng = np.random.default_rng(1)
    rel = (rng.random((40, 12)) < 0.3).astype(int)
    rel[:, 0] = 1  # every query has a relevant item
    s = rng.normal(size=rel.shape)
    assert M.map_at_k(rel, s) == pytest.approx(label_ranking_average_precision_score(rel, s))


def test_auc_and_log_loss():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4])
    # Mann-Whitney by hand: pairs (pos, neg) with pos > neg count 1, ties 1/2
    pos, neg = s[y == 1], s[y == 0]
    by_hand = ((pos[:, None] > neg).sum() + 0.5 * (pos[:, None] == neg).sum()) / (len(pos) * len(neg))
    assert M.auc(y, s) == pytest.approx(by_hand)
    assert M.auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert M.log_loss(y, s) == pytest.approx(-np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)))


def test_reliability_matches_sklearn_and_ece_of_calibrated_forecaster_is_small():
    rng = np.random.default_rng(2)
    p = rng.random(200_000)
    y = (rng.random(p.size) < p).astype(float)
    rel = M.reliability(y, p, n_bins=10)
    frac, mean = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(rel.frac_pos, frac)
    np.testing.assert_allclose(rel.mean_pred, mean)
    assert rel.ece < 0.01
    # an overconfident forecaster (p squashed away from 0.5) is miscalibrated
    assert M.expected_calibration_error(y, np.clip(0.5 + 1.5 * (p - 0.5), 0, 1)) > 0.05


def test_ece_hand_example():
    y = np.array([0, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.95, 0.85])  # bins [0,.1): 1 item, [.1,.2): 1, [.8,.9): 1, [.9,1]: 1
    want = (0.05 + 0.85 + 0.05 + 0.15) / 4
    assert M.expected_calibration_error(y, p) == pytest.approx(want)


def test_validation_errors():
    with pytest.raises(ValueError, match="0/1"):
        M.auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="both clicks"):
        M.auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="same shape"):
        M.ndcg_at_k(np.ones((2, 3)), np.ones((2, 4)), 2)
    with pytest.raises(ValueError, match="positive integer"):
        M.precision_at_k(REL, SC, 0)
    with pytest.raises(ValueError, match="probabilities"):
        M.log_loss([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="one value per label"):
        M.reliability([0, 1, 1], [0.2, 0.3])
