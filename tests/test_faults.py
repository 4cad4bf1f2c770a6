"""Faults during training: divergence, exceptions and interrupts, warm starts.

Every test here is a fault case that ``fit`` must survive: either the model it returns
predicts finite values, or the estimator is left exactly as it was before the failed
``fit`` and the error reaches the caller.
"""

import copy
import re
import threading

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skdistill import DistilledClassifier
from skdistill import _base as base
from skdistill._training import train_network

FAST = dict(
    hidden_layer_sizes=(16,),
    batch_size=32,
    max_iter=20,
    n_iter_no_change=5,
    learning_rate_init=1e-2,
    random_state=0,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def small_forest():
    return RandomForestClassifier(n_estimators=10, random_state=0)


def distiller(teacher=None, **params):
    teacher = small_forest() if teacher is None else teacher
    return DistilledClassifier(teacher, **{**FAST, **params})


class InterruptingTeacher(ClassifierMixin, BaseEstimator):
    """A decision forest that raises ``error`` in ``fit`` or in ``predict_proba``."""

    def __init__(self, error=KeyboardInterrupt, where="fit"):
        self.error = error
        self.where = where

    def fit(self, X, y):
        if self.where == "fit":
            raise self.error("stopped in fit")
        self.forest_ = small_forest().fit(X, y)
        self.classes_ = self.forest_.classes_
        return self

    def predict_proba(self, X):
        if self.where == "predict_proba":
            raise self.error("stopped in predict_proba")
        return self.forest_.predict_proba(X)


def fitted_state(model):
    """Return the model's attributes, with arrays and modules copied for comparison."""
    return {name: copy.deepcopy(value) for name, value in vars(model).items()}


def assert_state_unchanged(model, before, objects_before):
    assert set(vars(model)) == set(before)
    for name, value in vars(model).items():
        assert value is objects_before[name], name
    for old, new in zip(before["coefs_"], model.coefs_, strict=True):
        np.testing.assert_array_equal(old, new)
    for name, tensor in before["student_"].state_dict().items():
        torch.testing.assert_close(model.student_.state_dict()[name], tensor)


def interrupt_optimizer_after(monkeypatch, n_steps, error=KeyboardInterrupt):
    """Make ``AdamW.step`` raise ``error`` on its call after ``n_steps`` calls."""
    original = torch.optim.AdamW.step
    calls = {"n": 0}

    def step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_steps:
            raise error("stopped in training")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", step)
    return calls


# --- divergence -----------------------------------------------------------------------


def test_divergence_stops_and_keeps_finite_weights(iris):
    X, y = iris
    model = distiller(
        hidden_layer_sizes=(32, 32, 32),
        learning_rate_init=1e12,
        early_stopping=False,
        max_iter=50,
    )
    with pytest.warns(ConvergenceWarning) as record:
        model.fit(X, y)
    message = str(record[0].message)
    assert re.search(r"became NaN or infinite in epoch \d+", message)
    assert "likely causes are learning_rate_init=1000000000000.0 and" in message
    assert model.n_iter_ < 50
    assert all(np.isfinite(coef).all() for coef in model.coefs_)
    assert np.isfinite(model.predict_proba(X)).all()


def make_tensors(n_rows=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n_rows, 3, generator=generator)
    return {"X": X, "y": (X[:, 0] > 0).long()}


def make_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
    )


def cross_entropy(net, batch):
    loss = torch.nn.functional.cross_entropy(net(batch["X"]), batch["y"])
    return loss, {"ce": loss}


def test_nan_loss_restores_last_good_epoch():
    train = make_tensors()
    calls = {"n": 0}

    def loss_that_fails_in_epoch_three(net, batch):
        calls["n"] += 1
        loss, terms = cross_entropy(net, batch)
        # Two batches per epoch, so the fifth call is the first batch of epoch 3.
        if calls["n"] == 5:
            loss = loss * torch.tensor(float("nan"))
        return loss, terms

    net = make_net()
    history = train_network(
        net,
        loss_that_fails_in_epoch_three,
        train,
        batch_size=32,
        max_iter=10,
        generator=torch.Generator().manual_seed(1),
    )
    reference = make_net()
    train_network(
        reference,
        cross_entropy,
        train,
        batch_size=32,
        max_iter=2,
        n_iter_no_change=100,
        generator=torch.Generator().manual_seed(1),
    )
    assert history.diverged_epoch == 3
    assert history.n_iter == 2
    for name, tensor in reference.state_dict().items():
        torch.testing.assert_close(net.state_dict()[name], tensor, rtol=0, atol=0)


def test_nan_weights_after_finite_loss_are_not_kept():
    # The square root has an infinite gradient at zero, so the step of epoch 2 turns
    # every weight of the first layer into NaN although its loss is finite.
    train = make_tensors()
    calls = {"n": 0}

    def loss_with_infinite_gradient(net, batch):
        calls["n"] += 1
        loss, terms = cross_entropy(net, batch)
        if calls["n"] == 2:
            weight = net[0].weight
            loss = loss + torch.sqrt((weight - weight.detach()) ** 2).sum()
        return loss, terms

    net = make_net()
    history = train_network(
        net, loss_with_infinite_gradient, train, batch_size=64, max_iter=10
    )
    assert history.diverged_epoch == 2
    assert history.n_iter == 2
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_nan_validation_loss_restores_best_epoch():
    train, validation = make_tensors(seed=0), make_tensors(seed=1)
    evaluations = {"n": 0}

    def loss_nan_on_fourth_validation(net, batch):
        loss, terms = cross_entropy(net, batch)
        if not net.training:
            evaluations["n"] += 1
            if evaluations["n"] == 4:
                loss = loss * torch.tensor(float("inf"))
        return loss, terms

    net = make_net()
    history = train_network(
        net,
        loss_nan_on_fourth_validation,
        train,
        validation=validation,
        batch_size=64,
        max_iter=10,
    )
    assert history.diverged_epoch == 4
    assert history.best_epoch == int(np.argmin(history.validation_loss_curve[:3])) + 1
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_divergence_in_first_epoch_keeps_initial_weights(iris, monkeypatch):
    X, y = iris
    model = distiller(early_stopping=False)

    def nan_loss(fitted):
        def output_loss(output, batch):
            loss = output.sum() * torch.tensor(float("nan"))
            return loss, {"kd": loss, "ce": loss}

        return output_loss

    monkeypatch.setattr(
        DistilledClassifier, "_output_loss", lambda self, f: nan_loss(f)
    )
    message = (
        "DistilledClassifier: the loss or the weights became NaN or infinite in epoch "
        "1, so training stopped and the initial weights were kept. The likely causes "
        "are learning_rate_init=0.01 and weight_decay=0.0001. AdamW multiplies each "
        "weight by 1 - learning_rate_init * weight_decay in every step, so a product "
        "above 2 makes the weights grow in magnitude every step. A large "
        "learning_rate_init alone can also diverge. Lower either value, or check the "
        "inputs for extreme values."
    )
    with pytest.warns(ConvergenceWarning, match=re.escape(message)):
        model.fit(X, y)
    assert model.n_iter_ == 0
    assert model.loss_curve_ == []
    assert np.isfinite(model.predict_proba(X)).all()


# --- exceptions and interrupts --------------------------------------------------------


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError, MemoryError])
@pytest.mark.parametrize("where", ["fit", "predict_proba"])
def test_interrupted_teacher_leaves_fitted_model_as_before(iris, error, where):
    X, y = iris
    model = distiller().fit(X, y)
    proba = model.predict_proba(X)
    model.set_params(teacher=InterruptingTeacher(error, where))
    before, objects = fitted_state(model), dict(vars(model))
    with pytest.raises(error, match=f"stopped in {where}"):
        model.fit(X[:100], y[:100])
    assert_state_unchanged(model, before, objects)
    np.testing.assert_array_equal(model.predict_proba(X), proba)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_training_leaves_fitted_model_as_before(iris, monkeypatch, error):
    X, y = iris
    model = distiller().fit(X, y)
    proba = model.predict_proba(X)
    before, objects = fitted_state(model), dict(vars(model))
    calls = interrupt_optimizer_after(monkeypatch, n_steps=7, error=error)
    with pytest.raises(error, match="stopped in training"):
        model.fit(X, y)
    assert calls["n"] == 8
    assert_state_unchanged(model, before, objects)
    np.testing.assert_array_equal(model.predict_proba(X), proba)


def test_interrupted_first_fit_leaves_model_unfitted(iris, monkeypatch):
    X, y = iris
    model = distiller()
    params = dict(vars(model))
    interrupt_optimizer_after(monkeypatch, n_steps=3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert vars(model) == params
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_interrupted_training_restores_torch_global_state(iris, monkeypatch):
    X, y = iris
    torch.manual_seed(123)
    rng_state = torch.get_rng_state()
    threads = torch.get_num_threads()
    interrupt_optimizer_after(monkeypatch, n_steps=3)
    with pytest.raises(KeyboardInterrupt):
        distiller(n_threads=threads + 1).fit(X, y)
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert torch.get_num_threads() == threads
    # The training lock was released: another thread can take it.
    acquired = []

    def take_and_release_lock():
        acquired.append(base._TRAINING_LOCK.acquire(timeout=5))
        if acquired[-1]:
            base._TRAINING_LOCK.release()

    thread = threading.Thread(target=take_and_release_lock)
    thread.start()
    thread.join()
    assert acquired == [True]


def test_interrupted_fit_then_refit_matches_clean_fit(iris, monkeypatch):
    X, y = iris
    model = distiller()
    with monkeypatch.context() as patch:
        interrupt_optimizer_after(patch, n_steps=5)
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    np.testing.assert_array_equal(
        model.fit(X, y).predict_proba(X), distiller().fit(X, y).predict_proba(X)
    )


def test_interrupted_warm_start_keeps_previous_student(iris, monkeypatch):
    X, y = iris
    model = distiller(warm_start=True).fit(X, y)
    proba = model.predict_proba(X)
    before, objects = fitted_state(model), dict(vars(model))
    interrupt_optimizer_after(monkeypatch, n_steps=4)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert_state_unchanged(model, before, objects)
    np.testing.assert_array_equal(model.predict_proba(X), proba)


# --- warm start -----------------------------------------------------------------------


def test_warm_start_continues_from_previous_weights(iris):
    X, y = iris
    model = distiller(early_stopping=False, warm_start=True).fit(X, y)
    previous = [coef.copy() for coef in model.coefs_]
    # With a vanishing learning rate, training cannot move the weights it starts from.
    model.set_params(learning_rate_init=1e-12, max_iter=2)
    model.fit(X, y)
    for old, new in zip(previous, model.coefs_, strict=True):
        np.testing.assert_allclose(new, old, rtol=0, atol=1e-6)


def test_warm_start_false_starts_from_scratch(iris):
    X, y = iris
    model = distiller(early_stopping=False).fit(X, y)
    model.set_params(learning_rate_init=1e-12, max_iter=2)
    model.fit(X, y)
    fresh = distiller(early_stopping=False, learning_rate_init=1e-12, max_iter=2)
    fresh.fit(X, y)
    for coef, fresh_coef in zip(model.coefs_, fresh.coefs_, strict=True):
        np.testing.assert_array_equal(coef, fresh_coef)


def test_warm_start_second_fit_starts_at_lower_loss(iris):
    X, y = iris
    params = dict(early_stopping=False, max_iter=15)
    cold = distiller(**params).fit(X, y)
    warm = distiller(warm_start=True, **params).fit(X, y).fit(X, y)
    assert warm.loss_curve_[0] < 0.5 * cold.loss_curve_[0]
    assert warm.loss_curve_[0] < cold.loss_curve_[5]


def test_warm_start_keeps_input_standardisation(iris):
    X, y = iris
    model = distiller(warm_start=True).fit(X, y)
    mean, scale = model.input_mean_, model.input_scale_
    model.fit(X * 2.0 + 1.0, y)
    np.testing.assert_array_equal(model.input_mean_, mean)
    np.testing.assert_array_equal(model.input_scale_, scale)


def test_warm_start_first_fit_equals_cold_fit(iris):
    X, y = iris
    warm = distiller(warm_start=True).fit(X, y)
    cold = distiller().fit(X, y)
    np.testing.assert_array_equal(warm.predict_proba(X), cold.predict_proba(X))


def test_warm_start_dropout_may_change(iris):
    X, y = iris
    model = distiller(warm_start=True, dropout=0.0, max_iter=3).fit(X, y)
    model.set_params(dropout=0.3)
    model.fit(X, y)
    assert np.isfinite(model.predict_proba(X)).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_layer_sizes": (8,)}, "hidden_layer_sizes is (8,) instead of (16,)"),
        ({"activation": "tanh"}, "activation is 'tanh' instead of 'relu'"),
        ({"X": "drop column"}, "X has 3 features instead of 4"),
        ({"y": "two classes"}, "the classes are [0, 1] instead of [0, 1, 2]"),
    ],
)
def test_warm_start_rejects_changed_student(iris, change, message):
    X, y = iris
    model = distiller(warm_start=True, max_iter=3).fit(X, y)
    before, objects = fitted_state(model), dict(vars(model))
    X_new, y_new = X, y
    if "X" in change:
        X_new = X[:, :3]
    elif "y" in change:
        X_new, y_new = X[y < 2], y[y < 2]
    else:
        model.set_params(**change)
        objects = dict(vars(model))
    full = (
        f"DistilledClassifier with warm_start=True continues training the previous "
        f"student, but {message}. Keep them as in the previous fit, or set "
        "warm_start=False to train a new student."
    )
    with pytest.raises(ValueError, match=re.escape(full)):
        model.fit(X_new, y_new)
    assert set(vars(model)) == set(before)
    assert model.coefs_ is objects["coefs_"]


# --- deterministic prediction ---------------------------------------------------------


def test_predict_proba_deterministic_across_calls(iris):
    X, y = iris
    model = distiller(dropout=0.5).fit(X, y)
    first = model.predict_proba(X)
    for _ in range(5):
        np.testing.assert_array_equal(model.predict_proba(X), first)
    assert not model.student_.training
    with torch.no_grad():
        logits = model.student_(torch.as_tensor(X, dtype=torch.float32))
        again = model.student_(torch.as_tensor(X, dtype=torch.float32))
    torch.testing.assert_close(logits, again, rtol=0, atol=0)


def test_predict_proba_of_one_row_matches_batch(iris):
    X, y = iris
    model = distiller().fit(X, y)
    batch = model.predict_proba(X)
    rows = np.vstack([model.predict_proba(X[i : i + 1]) for i in range(0, 150, 10)])
    np.testing.assert_allclose(rows, batch[::10], rtol=1e-6, atol=1e-7)
