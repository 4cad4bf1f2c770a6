import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import sklearn
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import skdistill._base
from skdistill import DistilledClassifier, DistilledRegressor
from skdistill.ensemble import teacher_logits

FAST = dict(
    hidden_layer_sizes=(16,),
    batch_size=32,
    max_iter=5,
    n_iter_no_change=5,
    random_state=0,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:150], y[:150]


@pytest.fixture
def captured(monkeypatch):
    """Record the training and validation tensors each fit passes to the loop."""
    calls = []
    real = skdistill._base.train_network

    def recording(net, batch_loss, train, **kwargs):
        calls.append({"train": train, "validation": kwargs["validation"]})
        return real(net, batch_loss, train, **kwargs)

    monkeypatch.setattr(skdistill._base, "train_network", recording)
    return calls


def small_forest():
    return RandomForestClassifier(n_estimators=10, random_state=0)


def raw_rows(model, standardised):
    """Undo the student's input standardisation of captured rows."""
    return standardised.numpy().astype(np.float64) * model.input_scale_ + (
        model.input_mean_
    )


def test_transfer_rows_added_to_training_only(iris, captured):
    X, y = iris
    model = DistilledClassifier(
        small_forest(), augment="munge", augment_factor=2.0, **FAST
    ).fit(X, y)
    train, validation = captured[0]["train"], captured[0]["validation"]
    n_validation = math.ceil(0.1 * len(X))
    n_train = len(X) - n_validation
    assert len(validation["X"]) == n_validation
    assert len(train["X"]) == n_train + 2 * n_train
    assert (train["y"][n_train:] == -1).all()
    assert (train["y"][:n_train] >= 0).all()
    np.testing.assert_array_equal(train["weight"][n_train:].numpy(), 1.0)
    assert model.n_iter_ >= 1


def test_transfer_rows_never_copy_validation_rows(iris, captured):
    X, y = iris
    model = DistilledClassifier(
        small_forest(), augment="munge", munge_swap_probability=0.0, **FAST
    ).fit(X, y)
    train, validation = captured[0]["train"], captured[0]["validation"]
    n_train = len(X) - len(validation["X"])
    copies = raw_rows(model, train["X"][n_train:])
    training_rows = raw_rows(model, train["X"][:n_train])
    validation_rows = raw_rows(model, validation["X"])
    # With swap probability 0 every transfer row copies a training row exactly.
    for row in copies:
        assert np.isclose(training_rows, row, atol=1e-5).all(axis=1).any()
        assert not np.isclose(validation_rows, row, atol=1e-5).all(axis=1).any()


def test_transfer_rows_get_teacher_soft_targets(iris, captured):
    X, y = iris
    teacher = small_forest().fit(X, y)
    model = DistilledClassifier(
        teacher, augment="gaussian", gaussian_scale=0.3, **FAST
    ).fit(X, y)
    train, validation = captured[0]["train"], captured[0]["validation"]
    n_train = len(X) - len(validation["X"])
    synthetic = raw_rows(model, train["X"][n_train:])
    expected = teacher_logits(teacher, synthetic.astype(np.float32))
    np.testing.assert_allclose(train["target"][n_train:].numpy(), expected, atol=1e-4)


def test_transfer_gaussian_scale_zero_copies_training_rows(iris, captured):
    X, y = iris
    DistilledClassifier(
        small_forest(), augment="gaussian", gaussian_scale=0.0, **FAST
    ).fit(X, y)
    train = captured[0]["train"]
    n_train = len(X) - len(captured[0]["validation"]["X"])
    np.testing.assert_array_equal(
        np.sort(train["X"][n_train:].numpy(), axis=0),
        np.sort(train["X"][:n_train].numpy(), axis=0),
    )


def test_transfer_munge_categorical_columns_keep_observed_values(iris, captured):
    X, y = iris
    X = X.copy()
    X[:, 3] = np.round(X[:, 3])  # an ordinal column with the categories 0, 1, 2, 3
    model = DistilledClassifier(
        small_forest(),
        augment="munge",
        augment_factor=3.0,
        munge_swap_probability=0.8,
        categorical_features=[3],
        **FAST,
    ).fit(X, y)
    train = captured[0]["train"]
    n_train = len(X) - len(captured[0]["validation"]["X"])
    synthetic = raw_rows(model, train["X"][n_train:])
    observed = np.unique(X[:, 3])
    assert (
        np.isclose(synthetic[:, 3, None], observed[None, :], atol=1e-5)
        .any(axis=1)
        .all()
    )
    # The continuous columns do take new values.
    assert len(np.unique(np.round(synthetic[:, 0], 4))) > len(np.unique(X[:, 0]))


def test_transfer_same_seed_gives_identical_predictions(iris):
    X, y = iris
    params = dict(augment="munge", augment_factor=1.5, **FAST)
    first = DistilledClassifier(small_forest(), **params).fit(X, y)
    second = DistilledClassifier(small_forest(), **params).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_transfer_regressor_rows_have_no_target(diabetes, captured):
    X, y = diabetes
    DistilledRegressor(
        RandomForestRegressor(n_estimators=5, random_state=0),
        augment="munge",
        **FAST,
    ).fit(X, y)
    train = captured[0]["train"]
    n_train = len(X) - len(captured[0]["validation"]["X"])
    assert len(train["X"]) == 2 * n_train
    assert train["y"][n_train:].isnan().all()
    assert not train["y"][:n_train].isnan().any()
    assert not train["target"].isnan().any()


def test_transfer_dataframe_teacher_gets_named_columns(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*feature names")
        model = DistilledClassifier(small_forest(), augment="gaussian", **FAST)
        model.fit(frame, y)
    assert list(model.teacher_.feature_names_in_) == ["a", "b", "c", "d"]


def test_transfer_grid_search_over_augment(iris):
    X, y = iris
    grid = {"augment": [None, "munge"], "augment_factor": [0.5, 1.0]}
    search = GridSearchCV(DistilledClassifier(small_forest(), **FAST), grid, cv=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"augment": "smote"},
            # The allowed values are a set, printed in no fixed order.
            "The 'augment' parameter of DistilledClassifier must be a str among {",
        ),
        (
            {"augment": "munge", "augment_factor": 0.0},
            "The 'augment_factor' parameter of DistilledClassifier must be a float "
            "in the range (0.0, inf). Got 0.0 instead.",
        ),
        (
            {"augment": "munge", "munge_swap_probability": 1.5},
            "The 'munge_swap_probability' parameter of DistilledClassifier must be "
            "a float in the range [0.0, 1.0]. Got 1.5 instead.",
        ),
        (
            {"augment": "munge", "munge_local_variance": 0.0},
            "The 'munge_local_variance' parameter of DistilledClassifier",
        ),
        (
            {"augment": "gaussian", "gaussian_scale": -0.1},
            "The 'gaussian_scale' parameter of DistilledClassifier",
        ),
    ],
)
def test_transfer_rejects_bad_parameters(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        DistilledClassifier(small_forest(), **{**FAST, **params}).fit(X, y)
    if params.get("augment") == "smote":
        assert str(error.value).endswith("or None. Got 'smote' instead.")
        assert "'gaussian'" in str(error.value)
        assert "'munge'" in str(error.value)


def test_transfer_rejects_bad_categorical_features(iris):
    X, y = iris
    model = DistilledClassifier(
        small_forest(), augment="munge", categorical_features=[7], **FAST
    )
    with pytest.raises(ValueError, match="7"):
        model.fit(X, y)


def test_unlabeled_rows_get_soft_targets_only(iris, captured):
    X, y = iris
    teacher = small_forest().fit(X[::2], y[::2])
    X_labelled, y_labelled = X[::3], y[::3]
    X_unlabeled = np.delete(X, np.s_[::3], axis=0)
    DistilledClassifier(teacher, **FAST).fit(
        X_labelled, y_labelled, X_unlabeled=X_unlabeled
    )
    train, validation = captured[0]["train"], captured[0]["validation"]
    n_validation = math.ceil(0.1 * len(X_labelled))
    assert len(validation["X"]) == n_validation
    n_train = len(X_labelled) - n_validation
    assert len(train["X"]) == n_train + len(X_unlabeled)
    assert (train["y"][n_train:] == -1).all()
    np.testing.assert_allclose(
        train["target"][n_train:].numpy(),
        teacher_logits(teacher, X_unlabeled),
        atol=1e-5,
    )


def test_unlabeled_rows_feed_transfer_rows(iris, captured):
    X, y = iris
    DistilledClassifier(small_forest(), augment="munge", **FAST).fit(
        X[:60], y[:60], X_unlabeled=X[60:]
    )
    train = captured[0]["train"]
    n_train = 60 - math.ceil(0.1 * 60)
    # Transfer rows are made from the training rows and the unlabelled rows.
    assert len(train["X"]) == n_train + 90 + (n_train + 90)


def test_unlabeled_rows_regressor(diabetes, captured):
    X, y = diabetes
    model = DistilledRegressor(
        RandomForestRegressor(n_estimators=5, random_state=0), **FAST
    ).fit(X[:50], y[:50], X_unlabeled=X[50:])
    train = captured[0]["train"]
    assert train["y"][-100:].isnan().all()
    assert model.predict(X).shape == (150,)


def test_unlabeled_rows_shape_input_standardisation(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(
        X[::3], y[::3], X_unlabeled=np.delete(X, np.s_[::3], axis=0)
    )
    np.testing.assert_allclose(model.input_mean_, X.mean(axis=0))


def test_unlabeled_rows_rejects_wrong_feature_count(iris):
    X, y = iris
    message = (
        "X_unlabeled has 3 features, but X has 4. Pass unlabelled rows with the same "
        "columns as X."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(small_forest(), **FAST).fit(X, y, X_unlabeled=X[:, :3])


def test_unlabeled_rows_rejects_nan(iris):
    X, y = iris
    X_unlabeled = X[:10].copy()
    X_unlabeled[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X_unlabeled contains NaN"):
        DistilledClassifier(small_forest(), **FAST).fit(X, y, X_unlabeled=X_unlabeled)


def test_unlabeled_rows_rejects_empty(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        DistilledClassifier(small_forest(), **FAST).fit(
            X, y, X_unlabeled=np.empty((0, 4))
        )


def test_unlabeled_rows_rejects_other_columns(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    other = frame.iloc[:10][["b", "a", "c", "d"]]
    message = (
        "X_unlabeled has the columns ['b', 'a', 'c', 'd'], but X has ['a', 'b', 'c', "
        "'d']. Pass unlabelled rows with the columns of X, in the same order."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(small_forest(), **FAST).fit(frame, y, X_unlabeled=other)


def test_unlabeled_rows_routed_through_pipeline(iris, captured):
    X, y = iris
    X_unlabeled = X[100:] + 100.0
    with sklearn.config_context(enable_metadata_routing=True):
        student = DistilledClassifier(small_forest(), **FAST).set_fit_request(
            X_unlabeled=True
        )
        pipeline = Pipeline(
            [("scale", StandardScaler()), ("student", student)],
            transform_input=["X_unlabeled"],
        )
        pipeline.fit(X[:100], y[:100], X_unlabeled=X_unlabeled)
    train = captured[0]["train"]
    scaler = pipeline.named_steps["scale"]
    model = pipeline.named_steps["student"]
    unlabeled_rows = raw_rows(model, train["X"][-50:])
    # The scaler fitted on X transformed the unlabelled rows before the student.
    np.testing.assert_allclose(
        unlabeled_rows, scaler.transform(X_unlabeled), rtol=1e-4, atol=1e-4
    )


def test_unlabeled_rows_need_a_fit_request(iris):
    X, y = iris
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = make_pipeline(DistilledClassifier(small_forest(), **FAST))
        with pytest.raises(UnsetMetadataPassedError, match="X_unlabeled"):
            pipeline.fit(X, y, X_unlabeled=X[:10])


def test_unlabeled_rows_as_step_parameter_without_routing(iris, captured):
    X, y = iris
    pipeline = make_pipeline(DistilledClassifier(small_forest(), **FAST))
    pipeline.fit(X[:100], y[:100], distilledclassifier__X_unlabeled=X[100:])
    n_train = 100 - math.ceil(0.1 * 100)
    assert len(captured[0]["train"]["X"]) == n_train + 50


def test_transfer_rejects_sparse_x(iris):
    X, y = iris
    message = (
        "augment='munge' makes transfer rows from dense data, but X is a sparse "
        "matrix. Pass X.toarray(), or set augment=None."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(small_forest(), augment="munge", **FAST).fit(
            scipy.sparse.csr_matrix(X), y
        )


def test_unlabeled_rows_sparse_with_sparse_x(iris, captured):
    X, y = iris
    sparse = scipy.sparse.csr_matrix(X)
    DistilledClassifier(small_forest(), **FAST).fit(
        sparse[::3], y[::3], X_unlabeled=sparse[1::3]
    )
    n_train = 50 - math.ceil(0.1 * 50)
    assert len(captured[0]["train"]["X"]) == n_train + 50
