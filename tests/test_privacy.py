"""Privacy metrics: nearest neighbours, memorization check, membership inference, critic scores."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from dg_tf import DataFormatError, DGError, DoppelGANger
from dg_tf.evaluation.privacy import (
    membership_inference,
    membership_inference_attack,
    memorization_check,
    nearest_neighbours,
)

import oracles
from conftest import TINY, make_toy_dataset


def subset(dataset, rows):
    return dataclasses.replace(
        dataset,
        features=dataset.features[rows],
        attributes=dataset.attributes[rows],
        gen_flags=dataset.gen_flags[rows],
    )


# ------------------------------------------------------------ nearest neighbours
def test_nearest_neighbours_on_a_hand_made_example():
    references = np.zeros((3, 2, 1))
    references[1] = [[1.0], [1.0]]
    references[2] = [[3.0], [0.0]]
    queries = np.array([[[2.9], [0.0]], [[0.9], [1.2]]])
    indices, distances = nearest_neighbours(queries, references, k=2)
    np.testing.assert_array_equal(indices, [[2, 1], [1, 0]])
    np.testing.assert_allclose(distances[:, 0], [0.1, np.hypot(0.1, 0.2)])
    np.testing.assert_allclose(distances[0, 1], np.hypot(1.9, 1.0))
    assert indices.shape == distances.shape == (2, 2)


def test_nearest_neighbours_masks_after_the_lengths_and_uses_attributes():
    references = np.array([[[1.0], [5.0]], [[1.2], [0.0]]])
    queries = np.array([[[1.0], [9.0]]])  # step 1 is padding when its length is 1
    np.testing.assert_allclose(nearest_neighbours(queries, references)[1], [[4.0]])
    indices, distances = nearest_neighbours(queries, references, [1], [1, 1])
    np.testing.assert_array_equal(indices, [[0]])
    assert distances[0, 0] == 0  # the reference's step 1 is masked too
    indices, _ = nearest_neighbours(queries, references, [1], [1, 1],
                                    query_attributes=[[1.0]], reference_attributes=[[0.0], [1.0]])
    np.testing.assert_array_equal(indices, [[1]])


def test_nearest_neighbours_rejects_bad_input():
    x = np.zeros((2, 3, 1))
    with pytest.raises(ValueError, match="differ in shape"):
        nearest_neighbours(x, np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="k=3"):
        nearest_neighbours(x, x, k=3)
    with pytest.raises(ValueError, match="together"):
        nearest_neighbours(x, x, query_attributes=np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"\[N, L, K\]"):
        nearest_neighbours(np.zeros((2, 3)), x)


# ------------------------------------------------------------ memorization
@pytest.fixture(scope="module")
def real_splits():
    return make_toy_dataset(200, seed=0), make_toy_dataset(200, seed=1)


def test_copies_of_the_training_data_are_flagged(real_splits):
    train, holdout = real_splits
    rows = np.random.default_rng(0).permutation(200)[:150]
    report = memorization_check(subset(train, rows), train, holdout)
    assert report.flagged
    assert report.copy_fraction == 1 and report.fraction_closer == 1
    np.testing.assert_array_equal(report.indices[:, 0], rows)
    np.testing.assert_array_equal(report.distances[:, 0], 0)
    assert report.indices.shape == report.distances.shape == (150, 3)
    assert np.all(np.diff(report.distances, axis=1) >= 0)
    assert report.holdout_quantiles[0] > 0  # real samples are not at distance 0 from train
    json.dumps(report.to_dict())


def test_independent_draws_are_not_flagged(real_splits):
    train, holdout = real_splits
    report = memorization_check(make_toy_dataset(300, seed=2), train, holdout)
    assert not report.flagged
    assert report.copy_fraction == 0
    assert report.fraction_closer == np.mean(report.distances[:, 0] < report.threshold) < 0.1
    assert report.p_value > 0.01
    # the synthetic -> train distances look like the floor
    np.testing.assert_allclose(report.synthetic_quantiles[3], report.holdout_quantiles[3], rtol=0.25)
    assert report.threshold == np.sort(report.holdout_distances)[9]  # 5% of 200
    assert report.expected_fraction == pytest.approx(10 / 201)
    assert report.holdout_indices.shape == report.holdout_distances.shape == (200,)


def test_near_copies_are_flagged_without_exact_copies(real_splits):
    train, holdout = real_splits
    noise = np.random.default_rng(3).normal(0, 1e-3, train.features.shape).astype(np.float32)
    near = dataclasses.replace(train, features=(train.features + noise) * train.gen_flags[..., None])
    report = memorization_check(near, train, holdout, k=1)
    assert report.copy_fraction == 0
    assert report.fraction_closer > 0.9 and report.flagged
    assert report.to_dict()["neighbours"] == 1


def test_memorization_check_attributes_and_arguments(real_splits):
    train, holdout = real_splits
    copies = subset(train, np.arange(20))
    shifted = dataclasses.replace(copies, attributes=copies.attributes + 1)
    assert memorization_check(shifted, train, holdout).copy_fraction == 1
    assert memorization_check(shifted, train, holdout, include_attributes=True).copy_fraction == 0
    with pytest.raises(ValueError, match="percentile"):
        memorization_check(copies, train, holdout, percentile=0)
    with pytest.raises(ValueError, match="synthetic and train differ"):
        memorization_check(make_toy_dataset(5, length=6), train, holdout)


# ------------------------------------------------------------ membership inference
def test_perfectly_separating_scores_give_full_success():
    result = membership_inference(np.arange(10.0, 20.0), np.arange(0.0, 30.0) - 30)
    assert result.success_rate == 1 and result.auc == 1
    assert result.chance_level == pytest.approx(10 / 40)
    assert (result.num_train, result.num_holdout) == (10, 30)
    assert membership_inference(-np.arange(1.0, 11.0), np.arange(0.0, 10.0)).success_rate == 0


def test_random_scores_give_chance():
    rates = [
        membership_inference(rng.normal(size=2000), rng.normal(size=2000)).success_rate
        for rng in map(np.random.default_rng, range(5))
    ]
    assert np.mean(rates) == pytest.approx(0.5, abs=0.015)
    assert all(abs(r - 0.5) < 0.05 for r in rates)


@pytest.mark.parametrize("n_train, n_holdout", [(50, 50), (30, 70), (7, 3)])
def test_constant_scores_give_exactly_chance(n_train, n_holdout):
    result = membership_inference(np.full(n_train, 0.3), np.full(n_holdout, 0.3))
    assert result.success_rate == pytest.approx(n_train / (n_train + n_holdout), abs=1e-12)
    assert result.success_rate == pytest.approx(result.chance_level, abs=1e-12)
    assert result.auc == 0.5


def test_ties_at_the_cutoff_are_shared_in_expectation():
    # top 3 of [5 (m), 4 (h), 1 (m), 1 (m), 1 (h), 1 (h)]: 5 and 4, then one of four tied
    # samples, half of them members -> (1 + 0.5) / 3
    result = membership_inference(np.array([5.0, 1.0, 1.0]), np.array([4.0, 1.0, 1.0]))
    assert result.success_rate == pytest.approx(1.5 / 3)
    with pytest.raises(ValueError, match="not finite"):
        membership_inference(np.array([1.0, np.nan]), np.array([0.0]))
    with pytest.raises(ValueError, match="non-empty"):
        membership_inference(np.array([]), np.array([0.0]))


def test_membership_inference_attack_checks_the_score_shapes():
    train, holdout = make_toy_dataset(6, seed=0), make_toy_dataset(4, seed=1)
    result = membership_inference_attack(lambda d: d.attributes[:, -1], train, holdout)
    expected = membership_inference(train.attributes[:, -1], holdout.attributes[:, -1])
    assert result == expected
    with pytest.raises(ValueError, match="expected \\[6\\]"):
        membership_inference_attack(lambda d: np.zeros(3), train, holdout)


# ------------------------------------------------------------ critic scores
@pytest.fixture(scope="module")
def trained():
    from dg_tf import DGConfig
    dataset = make_toy_dataset()
    model = DoppelGANger(DGConfig(**{**TINY, "epochs": 1, "num_packing": 2}),
                         dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset)
    return model, dataset


def test_critic_scores_equal_the_critic_on_the_encoded_packed_batch(trained):
    model, dataset = trained
    scores = model.critic_scores(dataset, batch_size=20)
    assert scores.shape == (48,) and scores.dtype == np.float32 and np.isfinite(scores).all()
    np.testing.assert_array_equal(scores, model.critic_scores(dataset))  # deterministic, batch-free
    features, attributes = model.encoding.encode(dataset)
    doubled = model.critic(tf.concat([features, features], axis=1), tf.concat([attributes, attributes], axis=1))
    np.testing.assert_allclose(scores, doubled.numpy()[:, 0], rtol=1e-5, atol=1e-6)
    assert np.std(scores) > 0
    aux = model.critic_scores(dataset, auxiliary=True)
    # the auxiliary critic sees each real row as [attributes, their real (non min/max) part] (both views, the default)
    seen = np.concatenate([attributes, dataset.attributes], axis=1)
    np.testing.assert_allclose(aux, model.aux_critic(tf.concat([seen, seen], 1)).numpy()[:, 0],
                               rtol=1e-5, atol=1e-6)


def test_critic_scores_reject_bad_input(trained):
    model, dataset = trained
    with pytest.raises(DataFormatError, match="differ from the model"):
        model.critic_scores(make_toy_dataset(4, length=12))
    with pytest.raises(DGError, match="batch_size"):
        model.critic_scores(dataset, batch_size=0)
    with pytest.raises(DGError, match="not trained"):
        DoppelGANger(None, dataset.feature_outputs, dataset.attribute_outputs).critic_scores(dataset)


def test_membership_inference_attack_with_the_critic(trained):
    """With the trained critic's scores, the success rate is the fraction of members among the 48
    highest scores and the AUC the Mann-Whitney fraction of member/non-member pairs, counted by hand."""
    model, dataset = trained
    holdout = make_toy_dataset(48, seed=5)
    result = membership_inference_attack(model.critic_scores, dataset, holdout)
    members, others = model.critic_scores(dataset), model.critic_scores(holdout)
    assert result.success_rate == pytest.approx(oracles.membership_success(members, others), abs=1e-12)
    assert result.auc == pytest.approx(oracles.pairwise_auc(members, others), abs=1e-12)
    assert result.chance_level == 0.5 and result.num_train == result.num_holdout == 48
    swapped = membership_inference_attack(model.critic_scores, holdout, dataset)  # the roles exchanged
    assert swapped.auc == pytest.approx(1 - result.auc, abs=1e-12)
