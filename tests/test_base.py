import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skdistill import DistilledClassifier, DistilledRegressor, _base
from skdistill._base import _standardisation, _standardised_rows


def small_forest():
    return RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0)


@pytest.fixture
def offset_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 4)) * [1.0, 1e-3, 1e3, 1.0] + [0.0, 5.0, -1e6, 2.0]
    X[:, 3] = 2.0  # a constant column
    return X


@pytest.mark.parametrize("block_rows", [7, 1000, 16_384])
def test_standardisation_matches_numpy_in_blocks(offset_data, monkeypatch, block_rows):
    monkeypatch.setattr(_base, "_STANDARDISE_BLOCK_ROWS", block_rows)

    mean, scale = _standardisation(offset_data)

    np.testing.assert_array_equal(mean, offset_data.mean(axis=0))
    np.testing.assert_allclose(scale[:3], offset_data[:, :3].std(axis=0), rtol=1e-12)
    assert scale[3] == 1.0


@pytest.mark.parametrize("block_rows", [7, 16_384])
def test_standardised_rows_match_direct_formula(offset_data, monkeypatch, block_rows):
    monkeypatch.setattr(_base, "_STANDARDISE_BLOCK_ROWS", block_rows)
    mean, scale = _standardisation(offset_data)
    rows = np.random.default_rng(1).permutation(len(offset_data))[:333]

    result = _standardised_rows(offset_data, mean, scale, rows)

    assert result.dtype == np.float32
    expected = ((offset_data[rows] - mean) / scale).astype(np.float32)
    np.testing.assert_array_equal(result, expected)


def test_standardised_rows_empty_selection(offset_data):
    mean, scale = _standardisation(offset_data)

    result = _standardised_rows(offset_data, mean, scale, np.array([], dtype=int))

    assert result.shape == (0, offset_data.shape[1])


def test_standardised_rows_sparse_matches_dense(offset_data, monkeypatch):
    sparse = pytest.importorskip("scipy.sparse")
    monkeypatch.setattr(_base, "_STANDARDISE_BLOCK_ROWS", 64)
    mean, scale = _standardisation(offset_data)
    rows = np.arange(0, len(offset_data), 3)

    result = _standardised_rows(sparse.csr_matrix(offset_data), mean, scale, rows)

    expected = _standardised_rows(offset_data, mean, scale, rows)
    np.testing.assert_array_equal(result, expected)


# --- weighted standardisation ---------------------------------------------------------


@pytest.mark.parametrize("block_rows", [7, 16_384])
def test_standardisation_weight_two_duplicates_row(
    offset_data, monkeypatch, block_rows
):
    monkeypatch.setattr(_base, "_STANDARDISE_BLOCK_ROWS", block_rows)
    weights = np.ones(len(offset_data))
    weights[[3, 10]] = 2.0
    duplicated = np.vstack([offset_data, offset_data[[3, 10]]])

    mean, scale = _standardisation(offset_data, weights)

    expected_mean, expected_scale = _standardisation(duplicated)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-9)
    assert scale[3] == 1.0


def test_standardisation_weighted_sparse_matches_dense(offset_data):
    weights = np.random.default_rng(2).uniform(0.1, 3.0, size=len(offset_data))
    dense = offset_data[:, :3]

    mean, scale = _standardisation(sp.csr_matrix(dense), weights)

    expected_mean, expected_scale = _standardisation(dense, weights)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-9)
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-6)


def test_standardisation_weighted_sparse_constant_column():
    X = sp.csr_matrix(np.full((24, 1), 7.0))
    weights = np.array([1.0, 1.0] + [3.0] * 22)

    mean, scale = _standardisation(X, weights / weights.mean())

    np.testing.assert_allclose(mean, [7.0], rtol=1e-14)
    np.testing.assert_array_equal(scale, [1.0])


def test_standardisation_weights_shift_mean():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])

    mean, scale = _standardisation(X, np.array([3.0, 1.0, 1.0, 1.0]))

    np.testing.assert_allclose(mean, [1.0])
    np.testing.assert_allclose(scale, [np.sqrt(8.0 / 6.0)])


@pytest.mark.parametrize("sparse_input", [False, True])
def test_fit_weight_two_duplicates_scaling(sparse_input):
    X, y = load_iris(return_X_y=True)
    X, y = X[::3], y[::3]
    weights = np.ones(len(y))
    weights[[0, 7, 20]] = 2.0
    X_duplicated = np.vstack([X, X[[0, 7, 20]]])
    y_duplicated = np.concatenate([y, y[[0, 7, 20]]])
    if sparse_input:
        X, X_duplicated = sp.csr_matrix(X), sp.csr_matrix(X_duplicated)
    params = {"hidden_layer_sizes": (4,), "max_iter": 1, "random_state": 0}

    weighted = DistilledClassifier(small_forest(), **params)
    weighted.fit(X, y, sample_weight=weights)
    duplicated = DistilledClassifier(small_forest(), **params)
    duplicated.fit(X_duplicated, y_duplicated)

    np.testing.assert_allclose(weighted.input_mean_, duplicated.input_mean_)
    np.testing.assert_allclose(weighted.input_scale_, duplicated.input_scale_)
    unweighted_mean = np.asarray(X.mean(axis=0)).ravel()
    assert not np.allclose(weighted.input_mean_, unweighted_mean)


def test_fit_scaling_unlabeled_weigh_one():
    X, y = load_iris(return_X_y=True)
    X_labeled, y_labeled, X_unlabeled = X[:100:2], y[:100:2], X[100:]
    weights = np.linspace(1.0, 4.0, len(y_labeled))
    model = DistilledClassifier(
        small_forest(), hidden_layer_sizes=(4,), max_iter=1, random_state=0
    )

    model.fit(X_labeled, y_labeled, sample_weight=weights, X_unlabeled=X_unlabeled)

    row_weights = np.concatenate([weights / weights.mean(), np.ones(len(X_unlabeled))])
    rows = np.vstack([X_labeled, X_unlabeled])
    np.testing.assert_allclose(
        model.input_mean_, np.average(rows, axis=0, weights=row_weights)
    )


# --- set_params -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator, default",
    [
        (DistilledClassifier, "RandomForestClassifier"),
        (DistilledRegressor, "RandomForestRegressor"),
    ],
)
def test_set_params_teacher_params_need_teacher(estimator, default):
    name = estimator.__name__
    message = (
        f"Cannot set teacher__n_estimators on {name}, because its teacher is None. "
        f"The default {default} is created only in fit, so it takes no parameters. "
        f"teacher__* parameters need an explicit teacher, such as "
        f"{name}(teacher={default}()), or set teacher in the same call or parameter "
        "grid."
    )
    model = estimator()

    with pytest.raises(ValueError, match=re.escape(message)):
        model.set_params(teacher__n_estimators=10)
    assert model.teacher is None


def test_set_params_teacher_in_same_call():
    model = DistilledClassifier()

    model.set_params(teacher=RandomForestClassifier(), teacher__n_estimators=10)

    assert model.teacher.n_estimators == 10


def test_set_params_explicit_teacher_params():
    model = DistilledClassifier(RandomForestClassifier())

    model.set_params(teacher__max_depth=3, alpha=0.2)

    assert model.teacher.max_depth == 3
    assert model.alpha == 0.2


def test_grid_search_teacher_params_need_teacher():
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(
        DistilledClassifier(max_iter=1), {"teacher__max_depth": [2, 3]}, cv=2
    )

    with pytest.raises(ValueError, match=r"teacher__\* parameters need an explicit"):
        search.fit(X, y)


# --- hidden_layer_sizes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes, widths",
    [
        ((8.5,), "8.5"),
        ((16, 8.0), "8.0"),
        ((True,), "True"),
        (True, "True"),
        ((0, 4), "0"),
        ((4, -2), "-2"),
        (np.array([4.0]), "4.0"),
    ],
)
def test_hidden_layer_sizes_rejects_non_integers(sizes, widths):
    X, y = load_iris(return_X_y=True)
    model = DistilledClassifier(small_forest(), hidden_layer_sizes=sizes, max_iter=1)
    message = (
        "hidden_layer_sizes must be a positive int or a sequence of positive ints, "
        f"got {sizes!r}. Invalid widths: {widths}. Pass whole numbers of units"
    )

    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X, y)


@pytest.mark.parametrize("sizes", [0, -1, 8.5])
def test_hidden_layer_sizes_rejects_bad_scalar(sizes):
    X, y = load_iris(return_X_y=True)
    model = DistilledClassifier(small_forest(), hidden_layer_sizes=sizes, max_iter=1)

    with pytest.raises(ValueError, match="'hidden_layer_sizes' parameter of"):
        model.fit(X, y)


@pytest.mark.parametrize(
    "sizes, shapes",
    [
        (5, [(4, 5), (5, 3)]),
        ((np.int64(5), 2), [(4, 5), (5, 2), (2, 3)]),
        (np.array([6]), [(4, 6), (6, 3)]),
    ],
)
def test_hidden_layer_sizes_accepts_integers(sizes, shapes):
    X, y = load_iris(return_X_y=True)
    model = DistilledClassifier(small_forest(), hidden_layer_sizes=sizes, max_iter=1)

    model.fit(X, y)

    assert [coef.shape for coef in model.coefs_] == shapes


# --- divergence warning ---------------------------------------------------------------


def test_divergence_warning_names_weight_decay():
    X, y = load_iris(return_X_y=True)
    model = DistilledClassifier(
        small_forest(),
        hidden_layer_sizes=(8,),
        weight_decay=1e6,
        early_stopping=False,
        max_iter=20,
        random_state=0,
    )

    with pytest.warns(ConvergenceWarning) as record:
        model.fit(X, y)

    messages = [str(warning.message) for warning in record]
    diverged = [text for text in messages if "became NaN or infinite" in text]
    assert len(diverged) == 1
    assert "learning_rate_init=0.001 and weight_decay=1000000.0" in diverged[0]
    assert "1 - learning_rate_init * weight_decay in every step" in diverged[0]
    assert model.n_iter_ < 20
    assert all(np.isfinite(coef).all() for coef in model.coefs_)
