"""The decision rules fitted on out-of-fold predictions (scripts/bench/decision_offsets.py).

Issue 12's decision-rule screening rests on three things tested here: its BioCAS Score is the
engine's (`lungsound.score`), the offset search finds a known bias, and the nested fit never
looks at the fold it is judged on.
"""

import importlib.util
import math
import sys

import numpy as np
import pytest

import lungsound
from conftest import ROOT

BENCH = ROOT / "scripts" / "bench"


@pytest.fixture(scope="module")
def rules():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("decision_offsets", BENCH / "decision_offsets.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


CLASSES_1_2 = ["Normal", "Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle"]


def test_score_is_the_engines(rules):
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(5, 200))
        truth = rng.integers(0, 7, n)
        pred = np.where(rng.random(n) < 0.6, truth, rng.integers(0, 7, n))
        ours = rules.biocas(truth, pred)
        engine = lungsound.score("1-2", [CLASSES_1_2[i] for i in truth], [CLASSES_1_2[i] for i in pred])
        assert math.isclose(ours, engine["Score"], abs_tol=1e-12)


def test_weights_of_one_change_nothing_and_integer_weights_count_rows_twice(rules):
    truth = np.array([0, 0, 0, 1, 2, 2])
    pred = np.array([0, 1, 0, 1, 0, 2])
    plain = rules.biocas(truth, pred)
    assert math.isclose(rules.biocas(truth, pred, np.ones(6)), plain)
    doubled = np.repeat(np.arange(6), 2)
    assert math.isclose(rules.biocas(truth, pred, np.full(6, 2.0)), rules.biocas(truth[doubled], pred[doubled]))


def biased_problem(rng, n=3000, bias=1.5):
    """Three classes; the model under-scores class 2 by `bias` nats, so +bias undoes it."""
    truth = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    logits = rng.normal(0.0, 1.0, (n, 3))
    logits[np.arange(n), truth] += 2.0
    logits[:, 2] -= bias
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return logp, truth


def test_offsets_recover_a_known_bias_and_never_lose_in_sample(rules):
    logp, truth = biased_problem(np.random.default_rng(7))
    offsets, fitted = rules.fit_offsets(logp, truth)
    assert offsets[0] == 0.0  # Normal is the reference
    # Between the two abnormal classes (SE needs the exact class) the search undoes the bias;
    # against Normal it settles wherever the Score's SE/SP balance is best.
    assert 1.0 <= offsets[2] - offsets[1] <= 2.0, offsets
    argmax = rules.biocas(truth, rules.decide(logp, np.zeros(3)))
    assert fitted >= argmax
    assert fitted > argmax + 0.02  # the bias costs class 2 most of its recall
    assert math.isclose(fitted, rules.biocas(truth, rules.decide(logp, offsets)))


def test_nested_fit_never_sees_the_fold_it_is_judged_on(rules):
    logp, truth = biased_problem(np.random.default_rng(11), n=1500)
    fold = np.arange(len(truth)) % 3
    before = rules.nested(logp, truth, fold, rules.fit_offsets)
    assert [k for k, *_ in before] == [0, 1, 2]
    # Scramble fold 0's labels: fold 0's offsets must not move (they come from folds 1 and 2),
    # while folds 1 and 2, whose training rows include fold 0, may.
    scrambled = truth.copy()
    rows = np.flatnonzero(fold == 0)
    scrambled[rows] = np.random.default_rng(0).permutation(scrambled[rows])[::-1]
    after = rules.nested(logp, scrambled, fold, rules.fit_offsets)
    assert np.array_equal(before[0][1], after[0][1])
    # Its Scores are fold 0's own: the argmax Score is the plain Score of those rows.
    k, offsets, s0, s1 = before[0]
    te = fold == k
    assert math.isclose(s0, rules.biocas(truth[te], logp[te].argmax(axis=1)))
    assert math.isclose(s1, rules.biocas(truth[te], rules.decide(logp[te], offsets)))
    # The bias is systematic, so offsets fitted elsewhere help every held-out fold.
    assert all(s1 > s0 for _, _, s0, s1 in before)


def test_logit_adjustment_is_one_scale_of_the_log_prior(rules):
    logp, truth = biased_problem(np.random.default_rng(5))
    offsets, fitted = rules.fit_prior_scale(logp, truth)
    prior = np.bincount(truth, minlength=3) / len(truth)
    logprior = np.log(prior) - np.log(prior[0])
    nonzero = np.flatnonzero(logprior)
    tau = offsets[nonzero] / logprior[nonzero]
    assert np.allclose(tau, tau[0]) and -1.0 <= tau[0] <= 1.0
    assert fitted >= rules.biocas(truth, rules.decide(logp, np.zeros(3)))


def test_mix_weights_give_every_abnormal_class_an_equal_share(rules):
    truth = np.array([0] * 10 + [1] * 6 + [2] * 2)
    w = rules.mix_weights(truth)
    assert np.allclose(w[truth == 0], 1.0)
    assert math.isclose(w[truth == 1].sum(), w[truth == 2].sum())
    assert math.isclose(w[truth != 0].sum(), 8.0)
