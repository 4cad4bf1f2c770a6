"""Odd training data: each case is either handled or rejected with a clear error.

A test whose name contains ``rejects`` checks that a case fails with a message that
names the problem and the fix; every other test checks that a case is handled.
``benchmarks/reliability.py`` counts them by that rule.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris, make_blobs
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier
from skdistill import _validation as validation

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


def assert_valid_proba(model, X):
    proba = model.predict_proba(X)
    assert proba.shape == (X.shape[0], len(model.classes_))
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isin(model.predict(X), model.classes_).all()
    return proba


class RecordingTeacher(ClassifierMixin, BaseEstimator):
    """A decision tree that records what its ``fit`` received."""

    def fit(self, X, y, sample_weight=None):
        self.fit_input_type_ = type(X)
        self.fit_sample_weight_ = sample_weight
        self.tree_ = DecisionTreeClassifier(random_state=0)
        self.tree_.fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.tree_.classes_
        return self

    def predict_proba(self, X):
        return self.tree_.predict_proba(X)


class NonFiniteProbaTeacher(ClassifierMixin, BaseEstimator):
    """A teacher whose ``predict_proba`` contains one non-finite value."""

    def __init__(self, value=np.nan):
        self.value = value

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        output = np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))
        output[len(X) // 2, 0] = self.value
        return output


class NonFiniteDecisionTeacher(NonFiniteProbaTeacher):
    """The same outputs from ``decision_function``, which soft targets prefer."""

    def decision_function(self, X):
        return self.predict_proba(X)


class InventingTeacher(ClassifierMixin, BaseEstimator):
    """A teacher whose ``classes_`` contain a label that ``y`` never had."""

    def fit(self, X, y):
        self.classes_ = np.append(np.unique(y), 99)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))


# --- sparse input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "container", [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array]
)
def test_sparse_x_fits_like_dense(iris, container):
    X, y = iris
    dense = distiller().fit(X, y)
    sparse = distiller().fit(container(X), y)
    np.testing.assert_allclose(dense.input_mean_, sparse.input_mean_, rtol=1e-12)
    np.testing.assert_allclose(dense.input_scale_, sparse.input_scale_, rtol=1e-12)
    np.testing.assert_allclose(
        sparse.predict_proba(container(X)), dense.predict_proba(X), atol=1e-5
    )


def test_sparse_x_predicts_in_chunks(iris, monkeypatch):
    X, y = iris
    model = distiller().fit(sp.csr_matrix(X), y)
    expected = model.predict_proba(X)
    # Four columns with a budget of eight values densify two rows at a time.
    monkeypatch.setattr(validation, "SPARSE_CHUNK_VALUES", 8)
    assert validation.sparse_chunk_rows(X.shape[1]) == 2
    np.testing.assert_array_equal(model.predict_proba(sp.csr_matrix(X)), expected)


def test_sparse_x_standardised_in_chunks(monkeypatch):
    rng = np.random.RandomState(0)
    X = sp.random(50, 7, density=0.2, format="csr", random_state=rng)
    mean, scale = rng.rand(7), rng.rand(7) + 0.5
    dense = validation.standardised_float32(X.toarray(), mean, scale)
    monkeypatch.setattr(validation, "SPARSE_CHUNK_VALUES", 20)
    chunked = validation.standardised_float32(X, mean, scale)
    assert chunked.dtype == np.float32
    np.testing.assert_array_equal(chunked, dense)


def test_sparse_x_reaches_teacher_as_csr(iris):
    X, y = iris
    model = distiller(RecordingTeacher()).fit(sp.csc_matrix(X), y)
    assert model.teacher_.fit_input_type_ is sp.csr_matrix


def test_sparse_x_rejects_with_dense_only_teacher(iris):
    X, y = iris
    teacher = HistGradientBoostingClassifier(max_iter=5)
    with pytest.raises(TypeError, match="dense data is required"):
        distiller(teacher).fit(sp.csr_matrix(X), y)


# --- DataFrames -----------------------------------------------------------------------


def iris_frame(X):
    return pd.DataFrame(
        {
            "long_sepal": X[:, 0] > 5.8,
            "sepal_width_mm": (X[:, 1] * 10).astype(np.int64),
            "petal_length": X[:, 2].astype(np.float32),
            "petal_width_dm": (X[:, 3] * 10).astype(np.int16),
        }
    )


@pytest.mark.parametrize(
    "nullable",
    [
        {},
        {"sepal_width_mm": "Int64", "petal_width_dm": "UInt8"},
        {"long_sepal": "boolean", "petal_length": "Float64"},
    ],
)
def test_dataframe_numeric_dtypes_fit_like_floats(iris, nullable):
    X, y = iris
    frame = iris_frame(X).astype(nullable)
    as_floats = frame.astype(np.float32).to_numpy(dtype=np.float64)
    from_frame = distiller().fit(frame, y)
    from_floats = distiller().fit(as_floats, y)
    np.testing.assert_array_equal(
        from_frame.feature_names_in_, ["long_sepal", *frame.columns[1:]]
    )
    np.testing.assert_allclose(
        from_frame.predict_proba(frame), from_floats.predict_proba(as_floats), atol=1e-6
    )


def test_dataframe_rejects_missing_nullable_value(iris):
    X, y = iris
    frame = iris_frame(X).astype({"sepal_width_mm": "Int64"})
    frame.loc[4, "sepal_width_mm"] = pd.NA
    with pytest.raises(ValueError, match="Input X contains NaN"):
        distiller().fit(frame, y)


@pytest.mark.parametrize(
    ("column", "dtype"),
    [
        (
            pd.Series(np.where(np.arange(150) % 2, "red", "blue"), dtype=object),
            "object",
        ),
        (
            pd.Series(np.where(np.arange(150) % 2, "red", "blue"), dtype="string"),
            "string",
        ),
        (pd.Categorical(np.where(np.arange(150) % 2, "red", "blue")), "category"),
        (
            pd.Series(pd.date_range("2024-01-01", periods=150), dtype="M8[ns]"),
            "datetime64[ns]",
        ),
    ],
)
def test_dataframe_rejects_non_numeric_column(iris, column, dtype):
    X, y = iris
    frame = iris_frame(X)
    frame["colour"] = column
    message = (
        f"X has columns that are not numeric: 'colour' ({dtype}). The student reads "
        "numbers only, so encode such columns before distilling, for example with "
        "make_pipeline(ColumnTransformer([('encode', OneHotEncoder(), columns)], "
        "remainder='passthrough'), model); OrdinalEncoder suits tree teachers."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(frame, y)


def test_dataframe_rejects_non_numeric_column_at_predict(iris):
    X, y = iris
    model = distiller().fit(iris_frame(X), y)
    frame = iris_frame(X)
    frame["petal_length"] = frame["petal_length"].astype(str).astype(object)
    frame.loc[0, "petal_length"] = "long"
    with pytest.raises(ValueError, match=r"not numeric: 'petal_length' \(object\)"):
        model.predict_proba(frame)


def test_dataframe_rejects_many_text_columns_listing_some(iris):
    X, y = iris
    frame = pd.DataFrame({f"text_{j}": ["a"] * 150 for j in range(7)}, dtype=object)
    message = (
        "'text_0' (object), 'text_1' (object), 'text_2' (object), 'text_3' (object), "
        "'text_4' (object), and 2 more."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(frame, y)


def test_dataframe_object_column_of_numbers(iris):
    X, y = iris
    frame = iris_frame(X)
    frame["petal_length"] = frame["petal_length"].astype(object)
    model = distiller().fit(frame, y)
    assert_valid_proba(model, frame)


def test_object_array_rejects_string_column(iris):
    X, y = iris
    mixed = X.astype(object)
    mixed[7, 2] = "red"
    message = (
        "Column 2 of X cannot be converted to float64: could not convert string to "
        "float: 'red'."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(mixed, y)


def test_float16_input_fits_like_float64(iris):
    X, y = iris
    half = X.astype(np.float16)
    model = distiller().fit(half, y)
    reference = distiller().fit(half.astype(np.float64), y)
    np.testing.assert_array_equal(
        model.predict_proba(half), reference.predict_proba(half.astype(np.float64))
    )
    assert model.input_mean_.dtype == np.float64


# --- tiny data ------------------------------------------------------------------------


def test_tiny_fewer_rows_than_batch_size(iris):
    X, y = iris
    rows = [0, 1, 2, 50, 51, 52, 100, 101, 102]
    model = distiller(batch_size=256).fit(X[rows], y[rows])
    assert_valid_proba(model, X)


def test_tiny_two_rows_per_class(iris):
    X, y = iris
    rows = [0, 1, 50, 51, 100, 101]
    model = distiller(validation_fraction=0.5).fit(X[rows], y[rows])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert_valid_proba(model, X)


def test_tiny_two_rows_in_all(iris):
    X, y = iris
    model = distiller().fit(X[[0, 50]], y[[0, 50]])
    assert_valid_proba(model, X)


@pytest.mark.parametrize("early_stopping", [True, False])
def test_tiny_class_with_one_row(iris, early_stopping):
    X, y = iris
    rows = [*range(20), *range(50, 70), 100]
    model = distiller(early_stopping=early_stopping).fit(X[rows], y[rows])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert_valid_proba(model, X)


def test_tiny_validation_split_too_small(iris):
    X, y = iris
    rows = [0, 50, 100]
    message = (
        "early_stopping=True needs at least one validation and one training row, but "
        "3 rows with validation_fraction=0.9 leave none; training without early "
        "stopping."
    )
    with pytest.warns(UserWarning, match=re.escape(message)):
        model = distiller(validation_fraction=0.9).fit(X[rows], y[rows])
    assert model.validation_scores_ == []
    assert model.best_epoch_ is None
    assert_valid_proba(model, X)


def test_tiny_rejects_one_row(iris):
    X, y = iris
    message = (
        "Found array with 1 sample(s) (shape=(1, 4)) while a minimum of 2 is required "
        "by DistilledClassifier."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(X[:1], y[:1])


def test_tiny_rejects_empty_x(iris):
    X, y = iris
    with pytest.raises(ValueError, match=re.escape("Found array with 0 sample(s)")):
        distiller().fit(X[:0], y[:0])


# --- shapes and scales ----------------------------------------------------------------


def test_many_classes_fit_and_predict():
    X, y = make_blobs(n_samples=720, centers=120, n_features=8, random_state=0)
    model = distiller(hidden_layer_sizes=(64,), max_iter=30).fit(X, y)
    assert len(model.classes_) == 120
    proba = assert_valid_proba(model, X)
    assert proba.shape == (720, 120)
    assert model.score(X, y) > 0.9


def test_constant_columns_keep_unit_scale(iris):
    X, y = iris
    constant = np.column_stack([X, np.zeros(150), np.full(150, 5.0), np.full(150, 1e9)])
    model = distiller().fit(constant, y)
    np.testing.assert_array_equal(model.input_scale_[4:], [1.0, 1.0, 1.0])
    assert_valid_proba(model, constant)
    assert model.score(constant, y) > 0.9


def test_all_rows_identical(iris):
    X, y = iris
    same = np.tile(X[0], (150, 1))
    model = distiller().fit(same, y)
    proba = assert_valid_proba(model, same)
    np.testing.assert_allclose(proba, np.tile(proba[0], (150, 1)), atol=1e-7)


def test_features_on_wildly_different_scales(iris):
    X, y = iris
    scales = np.array([1e-9, 1e-3, 1e6, 1e12])

    # A teacher that standardises its inputs gives the same soft targets at any
    # scale, so the students must match as well: the student standardises in float64.
    def teacher():
        return make_pipeline(StandardScaler(), LogisticRegression(tol=1e-10))

    plain = distiller(teacher()).fit(X, y)
    scaled = distiller(teacher()).fit(X * scales, y)
    np.testing.assert_allclose(scaled.input_scale_, plain.input_scale_ * scales)
    proba = assert_valid_proba(scaled, X * scales)
    np.testing.assert_allclose(proba, plain.predict_proba(X), atol=1e-6)
    assert scaled.score(X * scales, y) > 0.9


def test_duplicated_rows(iris):
    X, y = iris
    model = distiller().fit(np.repeat(X, 4, axis=0), np.repeat(y, 4))
    assert_valid_proba(model, X)
    assert model.score(X, y) > 0.9


def test_column_vector_y_fits_like_flat_y(iris):
    X, y = iris
    flat = distiller().fit(X, y)
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        column = distiller().fit(X, y.reshape(-1, 1))
    np.testing.assert_array_equal(column.predict_proba(X), flat.predict_proba(X))


def test_multi_output_y_rejects(iris):
    X, y = iris
    message = (
        "DistilledClassifier predicts one target, but y has shape (150, 2). Fit one "
        "model per column, for example with sklearn.multioutput.MultiOutputClassifier."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(X, np.column_stack([y, y]))


def test_three_dimensional_y_rejects(iris):
    X, y = iris
    message = "y must be 1-D or a column vector, but it has shape (150, 1, 1)."
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(X, y.reshape(-1, 1, 1))


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"]),
        np.array([-5, 10, 1000]),
        np.array([1.0, 2.0, 3.0]),
    ],
)
def test_label_kinds_map_back(iris, labels):
    X, y = iris
    model = distiller().fit(X, labels[y])
    np.testing.assert_array_equal(model.classes_, labels)
    assert_valid_proba(model, X)
    assert model.score(X, labels[y]) > 0.9


def test_mixed_type_labels_rejects(iris):
    X, y = iris
    labels = np.array(["a", 1, 2.5], dtype=object)[y]
    with pytest.raises(TypeError, match="'<' not supported between instances"):
        distiller().fit(X, labels)


def test_continuous_labels_rejects(iris):
    X, y = iris
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        distiller().fit(X, X[:, 0])


# --- sample weights -------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.0, 2.5, 1e-3])
def test_sample_weight_equal_values_equal_none(iris, value):
    X, y = iris
    plain = distiller().fit(X, y)
    weighted = distiller().fit(X, y, sample_weight=np.full(150, value))
    np.testing.assert_allclose(
        weighted.predict_proba(X), plain.predict_proba(X), atol=1e-6
    )


def test_sample_weight_zeros_drop_rows_from_both_terms(iris):
    X, y = iris
    teacher = small_forest().fit(X, y)
    weights = np.ones(150)
    weights[::7] = 0.0
    # Rows of weight zero get extreme inputs and wrong labels: if they reached the
    # standardisation, the soft-target term or the label term, the fits would differ.
    X_noisy, y_noisy = X.copy(), y.copy()
    X_noisy[weights == 0] = 1e6
    y_noisy[weights == 0] = (y[weights == 0] + 1) % 3
    zeroed = distiller(teacher).fit(X_noisy, y_noisy, sample_weight=weights)
    dropped = distiller(teacher).fit(X[weights > 0], y[weights > 0])
    np.testing.assert_array_equal(zeroed.input_mean_, dropped.input_mean_)
    np.testing.assert_array_equal(zeroed.loss_curve_, dropped.loss_curve_)
    np.testing.assert_array_equal(zeroed.predict_proba(X), dropped.predict_proba(X))


def test_sample_weight_rejects_single_weighted_class(iris):
    X, y = iris
    message = (
        "y contains a single class (1) in the rows of non-zero sample weight, "
        "because the classes [0, 2] have only zero weights. DistilledClassifier "
        "needs samples of at least two classes. Give some rows of another class a "
        "non-zero weight."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(X, y, sample_weight=(y == 1).astype(float))
    # Fitting without the rows of zero weight raises for the same reason.
    with pytest.raises(ValueError, match=re.escape("y contains a single class (1)")):
        distiller().fit(X[y == 1], y[y == 1])


def test_sample_weight_single_weighted_class_prefit_teacher(iris):
    X, y = iris
    teacher = small_forest().fit(X, y)
    weights = (y == 1).astype(float)
    zeroed = distiller(teacher).fit(X, y, sample_weight=weights)
    dropped = distiller(teacher).fit(X[y == 1], y[y == 1])
    np.testing.assert_array_equal(zeroed.classes_, [0, 1, 2])
    np.testing.assert_array_equal(zeroed.predict_proba(X), dropped.predict_proba(X))


def test_sample_weight_reaches_teacher(iris):
    X, y = iris
    weights = np.linspace(0.5, 2.0, 150)
    model = distiller(RecordingTeacher()).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(model.teacher_.fit_sample_weight_, weights)


def test_sample_weight_equal_values_not_passed_to_teacher(iris):
    X, y = iris
    model = distiller(RecordingTeacher()).fit(X, y, sample_weight=np.full(150, 3.0))
    assert model.teacher_.fit_sample_weight_ is None


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (
            np.r_[-1.0, np.ones(149)],
            "Negative values in data passed to `sample_weight`",
        ),
        (np.zeros(150), "Sample weights must contain at least one non-zero number."),
        (np.r_[np.nan, np.ones(149)], "Input sample_weight contains NaN."),
        (np.r_[np.inf, np.ones(149)], "Input sample_weight contains infinity"),
        (np.ones(149), "sample_weight.shape == (149,), expected (150,)!"),
    ],
)
def test_sample_weight_rejects_invalid(iris, weights, message):
    X, y = iris
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller().fit(X, y, sample_weight=weights)


# --- odd teachers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("teacher", "name"),
    [
        (NonFiniteProbaTeacher(np.nan), "NonFiniteProbaTeacher"),
        (NonFiniteDecisionTeacher(np.nan), "NonFiniteDecisionTeacher"),
        (NonFiniteDecisionTeacher(np.inf), "NonFiniteDecisionTeacher"),
        (NonFiniteDecisionTeacher(-np.inf), "NonFiniteDecisionTeacher"),
    ],
)
def test_teacher_rejects_non_finite_outputs(iris, teacher, name):
    X, y = iris
    message = (
        f"The teacher {name} returned NaN or infinite outputs, which cannot serve as "
        "soft targets."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller(teacher).fit(X, y)


def test_teacher_probability_zero_is_handled(iris):
    # A probability of exactly zero is finite, and the floor keeps its logit finite.
    X, y = iris
    model = distiller(DecisionTreeClassifier(random_state=0)).fit(X, y)
    assert_valid_proba(model, X)
    assert model.score(X, y) > 0.9


def test_teacher_rejects_class_absent_from_y(iris):
    X, y = iris
    message = (
        "The teacher InventingTeacher predicts classes [99] that are not among the "
        "classes [0, 1, 2] of the training labels."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        distiller(InventingTeacher()).fit(X, y)


def test_prefit_teacher_class_absent_from_y(iris):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])
    teacher = small_forest().fit(X, labels[y])
    keep = y > 0
    model = distiller(teacher).fit(X[keep], labels[y[keep]])
    np.testing.assert_array_equal(model.classes_, labels)
    proba = assert_valid_proba(model, X)
    # The student learns the absent class only from the teacher's soft targets.
    assert proba[keep, 0].max() < 0.5


def test_warnings_clean_for_ordinary_data(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        distiller(max_iter=200).fit(X, y)
