import numpy as np
import pytest
import torch
from scipy.special import log_softmax, softmax

from skdistill._losses import (
    classification_distillation_loss,
    hard_target_cross_entropy,
    regression_distillation_loss,
    soft_target_kl,
)


def _random_batch(n=7, k=4, seed=0):
    rng = np.random.RandomState(seed)
    student = rng.normal(size=(n, k))
    teacher = rng.normal(scale=3, size=(n, k))
    y = rng.randint(k, size=n)
    weight = rng.uniform(0.2, 2.0, size=n)
    return student, teacher, y, weight


def _tensors(*arrays):
    return [torch.as_tensor(a) for a in arrays]


@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
def test_soft_target_kl_matches_numpy(temperature):
    student, teacher, _, _ = _random_batch()
    p_teacher = softmax(teacher / temperature, axis=1)
    expected = temperature**2 * np.sum(
        p_teacher
        * (
            log_softmax(teacher / temperature, axis=1)
            - log_softmax(student / temperature, axis=1)
        ),
        axis=1,
    )
    s, t = _tensors(student, teacher)
    np.testing.assert_allclose(
        soft_target_kl(s, t, temperature).numpy(), expected, rtol=1e-10
    )


def test_soft_target_kl_zero_when_logits_equal_up_to_shift():
    student, _, _, _ = _random_batch()
    s, t = _tensors(student, student + 5.0)
    np.testing.assert_allclose(soft_target_kl(s, t, 2.0).numpy(), 0.0, atol=1e-12)


def test_hard_target_cross_entropy_ignores_unlabelled_rows():
    student, _, y, _ = _random_batch()
    y[:3] = -1
    s, labels = _tensors(student, y)
    ce = hard_target_cross_entropy(s, labels).numpy()
    expected = -log_softmax(student, axis=1)[np.arange(len(y)), np.maximum(y, 0)]
    np.testing.assert_allclose(ce[:3], 0.0)
    np.testing.assert_allclose(ce[3:], expected[3:], rtol=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_classification_distillation_loss_blends_weighted_means(alpha):
    student, teacher, y, weight = _random_batch()
    temperature = 3.0
    s, t, labels, w = _tensors(student, teacher, y, weight)
    total, kd, ce = classification_distillation_loss(
        s, t, labels, w, temperature=temperature, alpha=alpha
    )
    kl = soft_target_kl(s, t, temperature).numpy()
    cross_entropy = -log_softmax(student, axis=1)[np.arange(len(y)), y]
    expected_kd = np.mean(weight * kl) if alpha > 0 else 0.0
    expected_ce = np.mean(weight * cross_entropy) if alpha < 1 else 0.0
    assert kd.item() == pytest.approx(expected_kd, rel=1e-10)
    assert ce.item() == pytest.approx(expected_ce, rel=1e-10)
    assert total.item() == pytest.approx(
        alpha * expected_kd + (1 - alpha) * expected_ce, rel=1e-10
    )


def test_classification_distillation_loss_zero_weight_drops_row():
    student, teacher, y, weight = _random_batch()
    weight[0] = 0.0
    changed = teacher.copy()
    changed[0] += 100.0 * np.arange(teacher.shape[1])
    s, t, t_changed, labels, w = _tensors(student, teacher, changed, y, weight)
    first = classification_distillation_loss(
        s, t, labels, w, temperature=2.0, alpha=0.5
    )
    second = classification_distillation_loss(
        s, t_changed, labels, w, temperature=2.0, alpha=0.5
    )
    assert first[0].item() == pytest.approx(second[0].item(), rel=1e-12)


def test_regression_distillation_loss_matches_formula():
    rng = np.random.RandomState(1)
    prediction, teacher, y = rng.normal(size=(3, 6, 2))
    y[1, 0] = np.nan
    weight = rng.uniform(0.5, 1.5, size=6)
    p, t, target, w = _tensors(prediction, teacher, y, weight)
    total, teacher_term, label_term = regression_distillation_loss(
        p, t, target, w, alpha=0.25
    )
    label_error = np.where(np.isnan(y), 0.0, prediction - y)
    expected_teacher = np.mean(weight * ((prediction - teacher) ** 2).mean(axis=1))
    expected_label = np.mean(weight * (label_error**2).mean(axis=1))
    assert teacher_term.item() == pytest.approx(expected_teacher, rel=1e-10)
    assert label_term.item() == pytest.approx(expected_label, rel=1e-10)
    assert total.item() == pytest.approx(
        0.25 * expected_teacher + 0.75 * expected_label
    )
