import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import (
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor

import skdistill._base
from skdistill import DistilledClassifier, DistilledRegressor
from skdistill._feature_distillation import FeatureTargets, with_feature_term
from skdistill._feature_losses import HintLoss

FAST = dict(
    hidden_layer_sizes=(16, 12),
    batch_size=32,
    max_iter=8,
    n_iter_no_change=8,
    random_state=0,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def iris_forest(iris):
    X, y = iris
    return RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def iris_mlp(iris):
    X, y = iris
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
    # A teacher that has not fully converged serves these tests as well.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mlp.fit(X, y)


@pytest.fixture
def captured(monkeypatch):
    """Record what each fit passes to the training loop."""
    calls = []
    real = skdistill._base.train_network

    def recording(net, batch_loss, train, **kwargs):
        calls.append({"train": train, **kwargs})
        return real(net, batch_loss, train, **kwargs)

    monkeypatch.setattr(skdistill._base, "train_network", recording)
    return calls


@pytest.mark.parametrize("loss", ["hint", "relational", "contrastive"])
def test_feature_loss_with_ensemble_teacher(iris, iris_forest, loss):
    X, y = iris
    model = DistilledClassifier(
        iris_forest,
        feature_loss=loss,
        **{**FAST, "max_iter": 60, "learning_rate_init": 1e-2},
    ).fit(X, y)
    assert set(model.loss_terms_) == {"kd", "ce", "feature"}
    assert len(model.loss_terms_["feature"]) == model.n_iter_
    assert np.isfinite(model.loss_curve_).all()
    assert model.score(X, y) > 0.9


@pytest.mark.parametrize(
    "loss", ["hint", "attention", "relational", "contrastive", "nst"]
)
def test_feature_loss_with_neural_teacher(iris, iris_mlp, loss):
    X, y = iris
    model = DistilledClassifier(iris_mlp, feature_loss=loss, **FAST).fit(X, y)
    assert "feature" in model.loss_terms_
    assert np.isfinite(model.loss_terms_["feature"]).all()


def test_feature_loss_regressor_with_boosting_teacher():
    X, y = load_diabetes(return_X_y=True)
    model = DistilledRegressor(
        GradientBoostingRegressor(n_estimators=30, random_state=0),
        feature_loss="hint",
        feature_components=8,
        **FAST,
    ).fit(X[:200], y[:200])
    assert set(model.loss_terms_) == {"kd", "mse", "feature"}


def test_feature_loss_hint_term_decreases(iris, iris_forest):
    X, y = iris
    model = DistilledClassifier(
        iris_forest, feature_loss="hint", **{**FAST, "max_iter": 40}
    ).fit(X, y)
    curve = model.loss_terms_["feature"]
    assert curve[-1] < 0.5 * curve[0]


def test_feature_loss_trainable_parts_train_with_student(iris, iris_forest, captured):
    X, y = iris
    DistilledClassifier(iris_forest, feature_loss="hint", **FAST).fit(X, y)
    parameters = captured[0]["extra_parameters"]
    # The hint regressor maps the last hidden layer (12 units) to the teacher.
    assert [tuple(p.shape) for p in parameters][0][1] == 12
    assert len(parameters) == 2
    DistilledClassifier(iris_forest, feature_loss="relational", **FAST).fit(X, y)
    assert captured[1]["extra_parameters"] == []


def test_feature_loss_reads_chosen_student_layer(iris, iris_forest, captured):
    X, y = iris
    DistilledClassifier(iris_forest, feature_loss="hint", feature_layer=0, **FAST).fit(
        X, y
    )
    weight = captured[0]["extra_parameters"][0]
    assert weight.shape[1] == 16


def test_feature_loss_representation_standardised(iris, iris_forest, captured):
    X, y = iris
    DistilledClassifier(
        iris_forest, feature_loss="hint", feature_components=5, **FAST
    ).fit(X, y)
    feature = captured[0]["train"]["feature"].numpy()
    assert feature.shape[1] == 5
    np.testing.assert_allclose(feature.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(feature.std(axis=0), 1.0, atol=1e-3)
    assert "feature" not in captured[0]["validation"]


def test_feature_loss_attention_reads_raw_activations(iris, iris_mlp):
    X, _ = iris

    class Settings:
        feature_loss = "attention"
        feature_components = 64
        teacher_layer = None

    targets = FeatureTargets(Settings(), iris_mlp, X, random_state=0)
    # ReLU activations stay non-negative, so |h|^p keeps the teacher's pattern.
    assert (targets.transform(X) >= 0).all()
    assert targets.width == 8


def test_feature_loss_rows_include_transfer_rows(iris, iris_forest, captured):
    X, y = iris
    DistilledClassifier(iris_forest, feature_loss="hint", augment="munge", **FAST).fit(
        X, y
    )
    train = captured[0]["train"]
    assert len(train["feature"]) == len(train["X"])


def test_feature_weight_zero_disables_term(iris, iris_forest):
    X, y = iris
    plain = DistilledClassifier(iris_forest, **FAST).fit(X, y)
    zero = DistilledClassifier(
        iris_forest, feature_loss="contrastive", feature_weight=0.0, **FAST
    ).fit(X, y)
    assert "feature" not in zero.loss_terms_
    np.testing.assert_array_equal(plain.predict_proba(X), zero.predict_proba(X))


def test_feature_loss_same_seed_gives_identical_predictions(iris, iris_forest):
    X, y = iris
    params = dict(feature_loss="contrastive", **FAST)
    first = DistilledClassifier(iris_forest, **params).fit(X, y)
    second = DistilledClassifier(iris_forest, **params).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_feature_loss_params_reach_the_loss(iris, iris_forest, captured):
    X, y = iris
    DistilledClassifier(
        iris_forest,
        feature_loss="contrastive",
        feature_loss_params={"embedding_dim": 7},
        **FAST,
    ).fit(X, y)
    shapes = [tuple(p.shape) for p in captured[0]["extra_parameters"]]
    assert (7, 12) in shapes


def test_feature_loss_grid_search(iris, iris_forest):
    X, y = iris
    grid = {"feature_loss": [None, "hint"], "feature_weight": [0.1, 1.0]}
    search = GridSearchCV(DistilledClassifier(iris_forest, **FAST), grid, cv=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4


def test_with_feature_term_skips_batches_without_features():
    student_calls = []

    class Student:
        def hidden_and_output(self, x):
            student_calls.append(x)
            return [x], x

    def output_loss(output, batch):
        return output.sum(), {"kd": output.sum()}

    batch_loss = with_feature_term(
        output_loss, Student(), HintLoss(3, 2), weight=0.5, layer=-1
    )
    x = torch.ones(4, 3)
    total, terms = batch_loss(lambda inputs: inputs, {"X": x})
    assert float(total) == 12.0
    assert "feature" not in terms
    assert student_calls == []
    total, terms = batch_loss(None, {"X": x, "feature": torch.zeros(4, 2)})
    expected = 12.0 + 0.5 * terms["feature"].item()
    assert total.item() == pytest.approx(expected)
    single, terms = batch_loss(None, {"X": x[:1], "feature": torch.zeros(1, 2)})
    assert float(terms["feature"]) == 0.0


@pytest.mark.parametrize("loss", ["attention", "nst"])
def test_feature_loss_rejects_ensemble_teacher_for_neural_loss(iris, loss):
    X, y = iris
    message = (
        f"The '{loss}' feature loss needs hidden-layer activations of a neural "
        "teacher, but the teacher RandomForestClassifier is an ensemble whose "
        "representation is the outputs of its members."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(
            RandomForestClassifier(n_estimators=5), feature_loss=loss, **FAST
        ).fit(X, y)


def test_feature_loss_rejects_unsupported_teacher(iris):
    X, y = iris
    message = (
        "feature_loss='hint' needs an intermediate representation of the teacher, "
        "but the teacher KNeighborsClassifier has none that skdistill can read"
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        DistilledClassifier(KNeighborsClassifier(), feature_loss="hint", **FAST).fit(
            X, y
        )


def test_feature_loss_unsupported_teacher_without_loss_fits(iris):
    X, y = iris
    model = DistilledClassifier(KNeighborsClassifier(), **FAST).fit(X, y)
    assert "feature" not in model.loss_terms_


def test_feature_loss_rejects_layer_out_of_range(iris, iris_forest):
    X, y = iris
    message = (
        "feature_layer=2 selects no hidden layer of the student: with "
        "hidden_layer_sizes=(16, 12) it must be an int in [-2, 1]."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(
            iris_forest, feature_loss="hint", feature_layer=2, **FAST
        ).fit(X, y)


def test_feature_loss_rejects_student_without_hidden_layer(iris, iris_forest):
    X, y = iris
    message = "hidden_layer_sizes=() gives the student no hidden layer"
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(
            iris_forest,
            feature_loss="hint",
            **{**FAST, "hidden_layer_sizes": ()},
        ).fit(X, y)


def test_feature_loss_rejects_teacher_layer_for_ensemble(iris, iris_forest):
    X, y = iris
    message = (
        "teacher_layer=0 selects a hidden layer of a neural teacher, but the teacher "
        "RandomForestClassifier is an ensemble. Leave teacher_layer=None for this "
        "teacher."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(
            iris_forest, feature_loss="hint", teacher_layer=0, **FAST
        ).fit(X, y)


def test_feature_loss_teacher_layer_selects_mlp_layer(iris, captured):
    X, y = iris
    teacher = MLPRegressor(hidden_layer_sizes=(9, 5), max_iter=50, random_state=0)
    teacher.fit(X, y.astype(float))
    DistilledRegressor(teacher, feature_loss="hint", teacher_layer=0, **FAST).fit(
        X, y.astype(float)
    )
    assert captured[0]["train"]["feature"].shape[1] == 9


def test_feature_loss_rejects_unknown_loss_parameter_before_fitting(iris):
    X, y = iris
    teacher = RandomForestClassifier(n_estimators=5)
    message = (
        "The 'hint' feature loss takes no parameter 'memory_size'. Its parameters "
        "are 'init'."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        DistilledClassifier(
            teacher,
            feature_loss="hint",
            feature_loss_params={"memory_size": 10},
            **FAST,
        ).fit(X, y)
    assert not hasattr(teacher, "estimators_")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"feature_loss": "fitnet"},
            "The 'feature_loss' parameter of DistilledRegressor must be a str among",
        ),
        (
            {"feature_weight": -0.5},
            "The 'feature_weight' parameter of DistilledRegressor must be a float in "
            "the range [0.0, inf). Got -0.5 instead.",
        ),
        (
            {"feature_components": 0},
            "The 'feature_components' parameter of DistilledRegressor",
        ),
        (
            {"feature_loss_params": [1]},
            "The 'feature_loss_params' parameter of DistilledRegressor",
        ),
    ],
)
def test_feature_loss_rejects_bad_parameters(params, message):
    X, y = load_diabetes(return_X_y=True)
    model = DistilledRegressor(
        RandomForestRegressor(n_estimators=5), **{**FAST, **params}
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X[:50], y[:50])
