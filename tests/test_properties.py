"""Property-based tests: random data and parameters within the documented ranges.

Hypothesis draws shapes, dtypes, containers, label sets, sample weights, teachers and
parameter values. A drawn case that is valid must fit and then give finite, normalised
probabilities of the right shape. An invalid one must raise ``ValueError`` or
``TypeError`` with the expected message. Any other exception fails the test.

The example budget comes from a Hypothesis profile chosen by the environment variable
``HYPOTHESIS_PROFILE``: ``ci`` (the default) runs a small, fixed set of examples, and
``nightly`` runs many more with fresh random draws::

    HYPOTHESIS_PROFILE=nightly python -m pytest tests/test_properties.py
"""

import os
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier

_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", max_examples=40, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

X_DTYPES = ["float64", "float32", "float16", "int64", "uint8", "bool"]
SCALES = [1e-9, 1e-3, 1.0, 1e3, 1e12]


def teachers():
    return st.sampled_from(
        [
            lambda: DecisionTreeClassifier(max_depth=3, random_state=0),
            lambda: RandomForestClassifier(n_estimators=3, random_state=0),
            lambda: LogisticRegression(max_iter=50),
        ]
    ).map(lambda make: make())


@st.composite
def labels(draw, n_rows):
    n_classes = draw(st.integers(2, 6))
    codes = draw(hnp.arrays(np.int64, n_rows, elements=st.integers(0, n_classes - 1)))
    # Hypothesis favours small values, which would give many single-class draws, so
    # two rows get different labels; about one draw in eight has a single class.
    codes[:2] = [0, 1]
    if draw(st.sampled_from(range(8))) == 3:
        codes[:] = codes[0]
    kind = draw(st.sampled_from(["int", "gapped", "str", "bool"]))
    if kind == "gapped":
        return np.array([-7, 0, 3, 100, 10**9, 10**12])[codes]
    if kind == "str":
        return np.array(["a", "b", "ccc", "d d", "é", "0"])[codes]
    if kind == "bool":
        return codes % 2 == 1
    return codes


@st.composite
def features(draw, n_rows):
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from(X_DTYPES))
    if dtype.startswith("float"):
        finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=16)
        X = draw(hnp.arrays(dtype, (n_rows, n_features), elements=finite))
        if dtype == "float64":
            scales = draw(
                st.lists(
                    st.sampled_from(SCALES), min_size=n_features, max_size=n_features
                )
            )
            X = X * np.array(scales)
    else:
        X = draw(hnp.arrays(dtype, (n_rows, n_features)))
        X = X % 50 if dtype == "int64" else X
    container = draw(st.sampled_from(["numpy", "dataframe", "csr"]))
    return X, container


def as_container(X, container):
    if container == "dataframe":
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    if container == "csr":
        # scipy.sparse has no float16 matrices.
        return sp.csr_matrix(X.astype(np.float32) if X.dtype == np.float16 else X)
    return X


@st.composite
def parameters(draw):
    n_layers = draw(st.integers(1, 2))
    return dict(
        temperature=draw(st.floats(0.05, 20.0)),
        alpha=draw(st.floats(0.0, 1.0)),
        hidden_layer_sizes=tuple(
            draw(st.lists(st.integers(1, 16), min_size=n_layers, max_size=n_layers))
        ),
        activation=draw(st.sampled_from(["relu", "gelu", "silu", "tanh", "logistic"])),
        dropout=draw(st.floats(0.0, 0.9)),
        batch_size=draw(st.integers(1, 64)),
        max_iter=draw(st.integers(1, 3)),
        learning_rate_init=draw(st.floats(1e-4, 10.0)),
        weight_decay=draw(st.floats(0.0, 0.1)),
        early_stopping=draw(st.booleans()),
        validation_fraction=draw(st.floats(0.05, 0.9)),
        n_iter_no_change=draw(st.integers(1, 3)),
        tol=draw(st.floats(0.0, 1e-2)),
        random_state=draw(st.integers(0, 2**31 - 1)),
    )


@st.composite
def cases(draw):
    """Return (model, X, y, sample_weight, expected error message or None)."""
    n_rows = draw(st.integers(2, 40))
    X, container = draw(features(n_rows))
    y = draw(labels(n_rows))
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = draw(
            hnp.arrays(
                np.float64, n_rows, elements=st.sampled_from([1.0, 0.5, 3.0, 0.0])
            )
        )
        if draw(st.sampled_from(range(8))) == 3:
            sample_weight[:] = 0.0
    # The checks run in this order in fit: X, then the weights, then the labels.
    expected = None
    if X.dtype.kind == "f" and draw(st.sampled_from(range(5))) == 3:
        X = X.astype(np.float64)
        X[draw(st.integers(0, n_rows - 1)), 0] = draw(st.sampled_from([np.nan, np.inf]))
        expected = "Input X contains (NaN|infinity)"
    elif sample_weight is not None and not sample_weight.any():
        expected = "Sample weights must contain at least one non-zero number"
    elif len(np.unique(y)) < 2:
        expected = "y contains a single class"
    elif sample_weight is not None and len(np.unique(y[sample_weight > 0])) < 2:
        expected = "y contains a single class .* in the rows of non-zero sample weight"
    model = DistilledClassifier(draw(teachers()), device="cpu", **draw(parameters()))
    return model, as_container(X, container), y, sample_weight, expected


def check_predictions(model, X):
    n_rows = X.shape[0]
    proba = model.predict_proba(X)
    assert proba.shape == (n_rows, len(model.classes_))
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isfinite(model.predict_log_proba(X)).all()
    predicted = model.predict(X)
    assert predicted.shape == (n_rows,)
    assert np.isin(predicted, model.classes_).all()


def test_fit_random_cases_valid_or_clear_error(record_property):
    outcomes = Counter()

    @given(case=cases())
    def fit_case(case):
        model, X, y, sample_weight, expected = case
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if expected is not None:
                with pytest.raises((ValueError, TypeError), match=expected):
                    model.fit(X, y, sample_weight=sample_weight)
                outcomes["rejected"] += 1
                return
            model.fit(X, y, sample_weight=sample_weight)
            check_predictions(model, X)
        np.testing.assert_array_equal(model.classes_, np.unique(y))
        outcomes["fitted"] += 1

    fit_case()
    record_property("examples", sum(outcomes.values()))
    record_property("fitted", outcomes["fitted"])
    record_property("rejected", outcomes["rejected"])
    assert outcomes["fitted"] > 0


@pytest.fixture(scope="module")
def fitted_model():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3)) * [1.0, 1e3, 1e-3]
    y = (X[:, 0] + X[:, 1] / 1e3 > 0).astype(int) + (X[:, 2] > 0)
    teacher = RandomForestClassifier(n_estimators=10, random_state=0)
    model = DistilledClassifier(
        teacher, hidden_layer_sizes=(16,), max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def test_predict_any_finite_input_is_normalised(fitted_model, record_property):
    examples = Counter()
    finite = st.floats(allow_nan=False, allow_infinity=False)

    @given(
        X=hnp.arrays(
            np.float64, st.tuples(st.integers(1, 20), st.just(3)), elements=finite
        )
    )
    def predict_case(X):
        with warnings.catch_warnings():
            # Subtracting the mean from a value near the float64 limit overflows to
            # infinity, which the clipping then bounds.
            warnings.simplefilter("ignore", RuntimeWarning)
            check_predictions(fitted_model, X)
            first = fitted_model.predict_proba(X)
            np.testing.assert_array_equal(fitted_model.predict_proba(X), first)
        examples["examples"] += 1

    predict_case()
    record_property("examples", examples["examples"])
    record_property("fitted", 0)
    record_property("rejected", 0)
