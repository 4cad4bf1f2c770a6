import pickle
import re

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import (
    BaggingRegressor,
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingRegressor,
    VotingRegressor,
)
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skdistill import DistilledRegressor, StudentRegressor
from skdistill._regressor import _weighted_r2
from skdistill.ensemble import teacher_predictions

FAST = dict(
    hidden_layer_sizes=(32,),
    batch_size=32,
    max_iter=30,
    n_iter_no_change=5,
    random_state=0,
)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:200], y[:200]


@pytest.fixture(scope="module")
def diabetes_split():
    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


def small_forest(**params):
    return RandomForestRegressor(n_estimators=10, random_state=0, **params)


def test_regressor_fits_real_data_close_to_teacher(diabetes_split):
    X_train, X_test, y_train, y_test = diabetes_split
    teacher = RandomForestRegressor(n_estimators=100, random_state=0)
    teacher.fit(X_train, y_train)
    model = DistilledRegressor(teacher, random_state=0).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= teacher.score(X_test, y_test) - 0.05
    assert r2_score(teacher.predict(X_test), model.predict(X_test)) >= 0.6


def test_regressor_output_shapes_and_attributes(diabetes):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    predicted = model.predict(X)
    assert predicted.shape == (200,)
    assert predicted.dtype == np.float64
    assert model.n_outputs_ == 1
    assert model.n_features_in_ == 10
    assert model.target_mean_.shape == (1,)
    assert set(model.loss_terms_) == {"kd", "mse"}
    assert len(model.validation_scores_) == model.n_iter_
    assert max(model.validation_scores_) <= 1.0
    assert isinstance(model.student_, torch.nn.Module)


def test_regressor_student_module_matches_numpy_path(diabetes):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    with torch.no_grad():
        output = model.student_(torch.as_tensor(X[:10], dtype=torch.float32)).numpy()
    expected = output[:, 0] * model.target_scale_[0] + model.target_mean_[0]
    np.testing.assert_allclose(model.predict(X[:10]), expected, rtol=1e-4)


def test_regressor_multi_output(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, np.log(y), -2.0 * y])
    model = DistilledRegressor(small_forest(), **{**FAST, "max_iter": 60}).fit(X, Y)
    predicted = model.predict(X)
    assert predicted.shape == (200, 3)
    assert model.n_outputs_ == 3
    assert model.target_scale_.shape == (3,)
    # The third output is the first scaled by -2, so the student must follow both.
    assert np.corrcoef(predicted[:, 0], predicted[:, 2])[0, 1] < -0.9
    assert model.score(X, Y) > 0.3


def test_regressor_column_y_predicts_one_dimension(diabetes):
    X, y = diabetes
    flat = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    column = DistilledRegressor(small_forest(), **FAST).fit(X, y.reshape(-1, 1))
    assert column.predict(X).shape == (200,)
    np.testing.assert_array_equal(column.predict(X), flat.predict(X))


def test_regressor_rejects_multi_output_for_single_output_teacher(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, y])
    message = (
        "y has 2 outputs, but the teacher GradientBoostingRegressor supports a single "
        "output. Wrap it in sklearn.multioutput.MultiOutputRegressor, or use a "
        "teacher that supports several outputs, such as RandomForestRegressor."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledRegressor(GradientBoostingRegressor(n_estimators=5), **FAST).fit(X, Y)


def test_regressor_multi_output_wrapper_teacher(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, np.sqrt(y)])
    teacher = MultiOutputRegressor(GradientBoostingRegressor(n_estimators=10))
    model = DistilledRegressor(teacher, **FAST).fit(X, Y)
    assert model.predict(X).shape == (200, 2)


@pytest.mark.parametrize(
    "teacher",
    [
        RandomForestRegressor(n_estimators=10),
        ExtraTreesRegressor(n_estimators=10),
        GradientBoostingRegressor(n_estimators=20),
        HistGradientBoostingRegressor(max_iter=20),
        BaggingRegressor(n_estimators=5),
        VotingRegressor([("tree", DecisionTreeRegressor()), ("ridge", Ridge())]),
        StackingRegressor(
            [("tree", DecisionTreeRegressor(max_depth=3)), ("ridge", Ridge())],
            cv=3,
        ),
    ],
    ids=lambda teacher: type(teacher).__name__,
)
def test_regressor_accepts_regression_ensembles(diabetes, teacher):
    X, y = diabetes
    model = DistilledRegressor(teacher, **{**FAST, "max_iter": 60}).fit(X, y)
    assert model.teacher_ is not teacher
    assert r2_score(model.teacher_.predict(X), model.predict(X)) > 0.3


def test_regressor_alpha_one_reproduces_constant_teacher(diabetes):
    X, y = diabetes
    teacher = DummyRegressor(strategy="constant", constant=42.0).fit(X, y)
    model = DistilledRegressor(
        teacher,
        alpha=1.0,
        hidden_layer_sizes=(16,),
        batch_size=32,
        max_iter=300,
        learning_rate_init=1e-2,
        weight_decay=0.0,
        dropout=0.0,
        early_stopping=False,
        n_iter_no_change=300,
        random_state=0,
    ).fit(X, y)
    # Within 2% of the spread of y, the scale on which the student is trained.
    np.testing.assert_allclose(model.predict(X), 42.0, atol=0.02 * y.std())


def test_regressor_alpha_zero_ignores_teacher(diabetes):
    X, y = diabetes
    good = DistilledRegressor(small_forest(), alpha=0.0, **FAST).fit(X, y)
    constant_teacher = DummyRegressor(strategy="constant", constant=-5.0)
    other = DistilledRegressor(constant_teacher, alpha=0.0, **FAST).fit(X, y)
    np.testing.assert_allclose(good.predict(X), other.predict(X), rtol=1e-6)


def test_regressor_constant_target(diabetes):
    X, _ = diabetes
    y = np.full(len(X), 7.5)
    model = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    np.testing.assert_array_equal(model.target_scale_, [1.0])
    np.testing.assert_allclose(model.predict(X), 7.5, atol=0.5)


def test_regressor_unfitted_teacher_is_cloned_not_mutated(diabetes):
    X, y = diabetes
    teacher = small_forest()
    model = DistilledRegressor(teacher, **FAST).fit(X, y)
    assert not hasattr(teacher, "estimators_")
    assert model.teacher_ is not teacher


def test_regressor_prefit_teacher_used_as_is(diabetes):
    X, y = diabetes
    teacher = small_forest().fit(X, y)
    model = DistilledRegressor(teacher, **FAST).fit(X, y)
    assert model.teacher_ is teacher


def test_regressor_frozen_teacher_survives_clone(diabetes):
    X, y = diabetes
    teacher = small_forest().fit(X, y)
    model = clone(DistilledRegressor(FrozenEstimator(teacher), **FAST)).fit(X, y)
    np.testing.assert_array_equal(model.teacher_.predict(X), teacher.predict(X))


def test_regressor_default_teacher_is_random_forest(diabetes):
    X, y = diabetes
    model = DistilledRegressor(**{**FAST, "max_iter": 2}).fit(X, y)
    assert isinstance(model.teacher_, RandomForestRegressor)


def test_regressor_same_seed_gives_identical_predictions(diabetes):
    X, y = diabetes
    first = DistilledRegressor(RandomForestRegressor(n_estimators=5), **FAST)
    second = clone(first)
    np.testing.assert_array_equal(
        first.fit(X, y).predict(X), second.fit(X, y).predict(X)
    )


def test_regressor_sample_weight_ones_equal_none(diabetes):
    X, y = diabetes
    plain = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    weighted = DistilledRegressor(small_forest(), **FAST)
    weighted.fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(plain.predict(X), weighted.predict(X))


def test_regressor_dataframe_sets_feature_names(diabetes):
    X, y = diabetes
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    model = DistilledRegressor(small_forest(), **FAST).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.predict(frame).shape == (200,)


def test_regressor_in_pipeline_and_grid_search(diabetes):
    X, y = diabetes
    pipeline = make_pipeline(
        StandardScaler(), DistilledRegressor(small_forest(), **FAST)
    )
    grid = {
        "distilledregressor__alpha": [0.0, 1.0],
        "distilledregressor__teacher__n_estimators": [5],
    }
    search = GridSearchCV(pipeline, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_[-1].teacher_.n_estimators == 5


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_regressor_round_trip_keeps_predictions(diabetes, tmp_path, dump):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    path = tmp_path / "model.bin"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(model))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(model, path)
        loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_regressor_to_student_predicts_identically(diabetes):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), **FAST).fit(X, np.column_stack([y, y]))
    student = model.to_student()
    assert isinstance(student, StudentRegressor)
    assert not hasattr(student, "teacher_")
    np.testing.assert_array_equal(student.predict(X), model.predict(X))
    assert student.score(X, np.column_stack([y, y])) == model.score(
        X, np.column_stack([y, y])
    )


def test_student_regressor_cannot_be_fitted(diabetes):
    X, y = diabetes
    message = (
        "StudentRegressor cannot be fitted; fit a DistilledRegressor and call its "
        "to_student() method."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        StudentRegressor().fit(X, y)


def test_regressor_to_student_requires_fit():
    with pytest.raises(NotFittedError):
        DistilledRegressor().to_student()


def test_regressor_rejects_classifier_teacher(diabetes):
    X, y = diabetes
    message = (
        "The teacher RandomForestClassifier is a classifier, but DistilledRegressor "
        "needs a regressor. Use DistilledClassifier to distil a classifier."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        DistilledRegressor(RandomForestClassifier(), **FAST).fit(X, y)


def test_regressor_rejects_teacher_without_predict(diabetes):
    X, y = diabetes
    message = (
        "The teacher StandardScaler has no predict method, so it gives no "
        "predictions to imitate. Use a regressor."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        DistilledRegressor(StandardScaler(), **FAST).fit(X, y)


def test_regressor_rejects_prefit_teacher_other_feature_count(diabetes):
    X, y = diabetes
    teacher = small_forest().fit(X[:, :3], y)
    with pytest.raises(ValueError, match="fitted on 3 features, but X has 10"):
        DistilledRegressor(teacher, **FAST).fit(X, y)


def test_regressor_rejects_prefit_teacher_other_output_count(diabetes):
    X, y = diabetes
    teacher = small_forest().fit(X, np.column_stack([y, y]))
    message = (
        "The teacher RandomForestRegressor predicts 2 outputs, but y has 1. Fit the "
        "teacher on targets with the same outputs as y, or pass an unfitted teacher."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledRegressor(teacher, **FAST).fit(X, y)


def test_regressor_rejects_non_finite_y(diabetes):
    X, y = diabetes
    y = y.copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        DistilledRegressor(small_forest(), **FAST).fit(X, y)


def test_regressor_rejects_overflowing_y(diabetes):
    X, y = diabetes
    message = (
        "The mean or standard deviation of the target y overflows float64, because "
        "its values are too large in magnitude. Divide y by a constant first and "
        "multiply the predictions by it."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledRegressor(small_forest(), **FAST).fit(X, y * 1e200)


def test_regressor_rejects_overflowing_y_column(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, y * 1e200, y])
    message = (
        "The mean or standard deviation of output columns [1] of the target y "
        "overflows float64, because their values are too large in magnitude. Divide "
        "those columns of y by a constant first and multiply the predictions by it."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledRegressor(small_forest(), **FAST).fit(X, Y)


def test_regressor_rejects_overflowing_x(diabetes):
    X, y = diabetes
    X = X.copy()
    X[:, 2] *= 1e200
    message = (
        "The mean or standard deviation of columns [2] of X overflows float64, "
        "because their values are too large in magnitude. Divide those columns by a "
        "constant first."
    )
    # A forest would reject X first, when its float32 cast turns the column into inf.
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledRegressor(DummyRegressor(), **FAST).fit(X, y)


def test_regressor_rejects_all_zero_weights(diabetes):
    X, y = diabetes
    message = "Sample weights must contain at least one non-zero number."
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledRegressor(small_forest(), **FAST).fit(
            X, y, sample_weight=np.zeros(len(y))
        )


def test_regressor_rejects_string_y(diabetes):
    X, _ = diabetes
    y = np.array(["a", "b"] * 100)
    with pytest.raises(ValueError, match="could not convert string to float"):
        DistilledRegressor(small_forest(), **FAST).fit(X, y)


def test_regressor_rejects_nan_x(diabetes):
    X, y = diabetes
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        DistilledRegressor(small_forest(), **FAST).fit(X, y)


def test_regressor_rejects_wrong_feature_count_at_predict(diabetes):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    with pytest.raises(ValueError, match="X has 9 features"):
        model.predict(X[:, :9])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"alpha": 1.5},
            "The 'alpha' parameter of DistilledRegressor must be a float in the "
            "range [0.0, 1.0]. Got 1.5 instead.",
        ),
        ({"dropout": 1.0}, "The 'dropout' parameter of DistilledRegressor"),
        ({"max_iter": 0}, "The 'max_iter' parameter of DistilledRegressor"),
        ({"augment": "smote"}, "The 'augment' parameter of DistilledRegressor"),
        ({"feature_loss": "l2"}, "The 'feature_loss' parameter of DistilledRegressor"),
        (
            {"feature_weight": -1.0},
            "The 'feature_weight' parameter of DistilledRegressor",
        ),
    ],
)
def test_regressor_rejects_bad_parameters(diabetes, params, message):
    X, y = diabetes
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledRegressor(small_forest(), **{**FAST, **params}).fit(X, y)


def test_regressor_failed_fit_leaves_previous_state(diabetes):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), **FAST).fit(X, y)
    predicted = model.predict(X)
    model.set_params(device="tpu")
    with pytest.raises(ValueError):
        model.fit(X[:, :3], y)
    np.testing.assert_array_equal(model.predict(X), predicted)
    assert model.n_features_in_ == 10


def test_weighted_r2_matches_sklearn():
    rng = np.random.RandomState(0)
    y = rng.normal(size=(50, 2))
    predicted = y + rng.normal(scale=0.5, size=(50, 2))
    weight = rng.uniform(0.1, 2.0, size=50)

    def net(X):
        return torch.as_tensor(predicted, dtype=torch.float64)

    tensors = {
        "X": torch.zeros(50, 1),
        "y": torch.as_tensor(y),
        "weight": torch.as_tensor(weight),
    }
    expected = r2_score(y, predicted, sample_weight=weight)
    assert _weighted_r2(net, tensors) == pytest.approx(expected, rel=1e-10)


def test_weighted_r2_constant_output_scores_like_sklearn():
    y = np.ones((4, 1))
    tensors = {"X": torch.zeros(4, 1), "y": torch.as_tensor(y), "weight": torch.ones(4)}
    exact = _weighted_r2(lambda X: torch.ones(4, 1, dtype=torch.float64), tensors)
    wrong = _weighted_r2(lambda X: torch.zeros(4, 1, dtype=torch.float64), tensors)
    assert exact == 1.0
    assert wrong == 0.0


def test_teacher_predictions_rejects_non_finite_output(diabetes):
    X, y = diabetes
    teacher = LinearRegression().fit(X, y)
    teacher.intercept_ = np.nan
    with pytest.raises(ValueError, match="returned NaN or infinite predictions"):
        teacher_predictions(teacher, X)


def test_teacher_predictions_chunks_give_same_result(diabetes):
    X, y = diabetes
    teacher = LinearRegression().fit(X, y)
    whole = teacher_predictions(teacher, X)
    chunked = teacher_predictions(teacher, X, chunk_size=7)
    np.testing.assert_allclose(whole, chunked, rtol=1e-12)
    assert whole.shape == (200, 1)


def test_regressor_warm_start_keeps_target_scaling(diabetes):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), warm_start=True, **FAST).fit(X, y)
    mean = model.target_mean_.copy()
    model.fit(X[:100], y[:100] + 1000.0)
    np.testing.assert_array_equal(model.target_mean_, mean)


def test_regressor_warm_start_rejects_other_output_count(diabetes):
    X, y = diabetes
    model = DistilledRegressor(small_forest(), warm_start=True, **FAST).fit(X, y)
    message = (
        "DistilledRegressor with warm_start=True continues training the previous "
        "student, but y has 2 outputs instead of 1."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X, np.column_stack([y, y]))
