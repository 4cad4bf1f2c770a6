import sys

import numpy as np
import pytest
import torch
from scipy.special import softmax
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from skdistill import DistilledClassifier, StudentClassifier, _inference
from skdistill._inference import _softmax_in_place


@pytest.fixture
def fitted_student():
    X, y = load_iris(return_X_y=True)
    model = DistilledClassifier(
        LogisticRegression(max_iter=1000),
        hidden_layer_sizes=(16,),
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    return model.to_student(), X


def test_softmax_in_place_matches_scipy():
    z = np.random.default_rng(0).normal(scale=30.0, size=(50, 7))
    expected = softmax(z, axis=1)

    result = _softmax_in_place(z.copy())

    np.testing.assert_allclose(result, expected, rtol=1e-14, atol=1e-300)


def test_softmax_in_place_writes_into_input():
    z = np.array([[1000.0, 0.0], [-1000.0, -1000.0]])

    result = _softmax_in_place(z)

    assert result is z
    np.testing.assert_array_equal(result, [[1.0, 0.0], [0.5, 0.5]])


@pytest.mark.parametrize("chunk_size", [1, 7, 150, 10_000])
def test_predict_proba_same_for_any_chunk_size(fitted_student, monkeypatch, chunk_size):
    student, X = fitted_student
    expected = student.predict_proba(X)
    monkeypatch.setattr(_inference, "PREDICT_CHUNK_SIZE", chunk_size)

    result = student.predict_proba(X)

    np.testing.assert_array_equal(result, expected)


def test_predict_proba_one_row_matches_batch(fitted_student):
    student, X = fitted_student

    one_row = student.predict_proba(X[3:4])

    np.testing.assert_allclose(one_row, student.predict_proba(X)[3:4], rtol=1e-6)


def test_predict_proba_unfitted_student_raises():
    with pytest.raises(NotFittedError, match="StudentClassifier instance is not"):
        StudentClassifier().predict_proba(np.zeros((1, 4)))


def _torch_calls(function):
    """Return the names of the torch functions that ``function()`` calls."""
    calls = []

    def profile(frame, event, arg):
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            name = frame.f_code.co_name
        elif event == "c_call":
            module = getattr(arg, "__module__", None) or ""
            name = getattr(arg, "__qualname__", repr(arg))
        else:
            return
        if module == "torch" or module.startswith("torch."):
            calls.append(f"{module}.{name}")

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return calls


def test_predict_proba_calls_no_torch():
    X, y = load_iris(return_X_y=True)
    model = DistilledClassifier(
        LogisticRegression(max_iter=1000), hidden_layer_sizes=(4,), max_iter=1
    ).fit(X, y)
    student = model.to_student()
    rows = torch.from_numpy(X[:2].astype(np.float32))

    assert _torch_calls(lambda: student.predict_proba(X)) == []
    assert _torch_calls(lambda: model.predict_proba(X)) == []
    # The same check detects a torch forward pass, so it can fail.
    assert _torch_calls(lambda: model.student_(rows)) != []
