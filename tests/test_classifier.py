import pickle
import re

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier, StudentClassifier
from skdistill import _classifier as classifier_module
from skdistill.ensemble import teacher_logits

FAST = dict(
    hidden_layer_sizes=(32,),
    batch_size=32,
    max_iter=30,
    n_iter_no_change=5,
    random_state=0,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def cancer_split():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def small_forest(**params):
    return RandomForestClassifier(n_estimators=10, random_state=0, **params)


def test_classifier_fits_real_data_close_to_teacher(cancer_split):
    X_train, X_test, y_train, y_test = cancer_split
    teacher = RandomForestClassifier(n_estimators=100, random_state=0)
    teacher.fit(X_train, y_train)
    model = DistilledClassifier(teacher, random_state=0).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= teacher.score(X_test, y_test) - 0.03
    assert np.mean(model.predict(X_test) == teacher.predict(X_test)) >= 0.93


def test_classifier_output_shapes_and_normalisation(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba, rtol=1e-6)
    np.testing.assert_array_equal(
        model.predict(X), model.classes_[proba.argmax(axis=1)]
    )
    assert model.n_features_in_ == 4
    assert model.n_iter_ == len(model.loss_curve_)
    assert len(model.validation_scores_) == model.n_iter_
    assert set(model.loss_terms_) == {"kd", "ce"}
    assert isinstance(model.student_, torch.nn.Module)


def test_classifier_student_module_matches_numpy_path(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    with torch.no_grad():
        logits = model.student_(torch.as_tensor(X, dtype=torch.float32)).numpy()
    proba = torch.softmax(torch.as_tensor(logits, dtype=torch.float64), dim=1).numpy()
    np.testing.assert_allclose(model.predict_proba(X), proba, atol=1e-5)


def test_classifier_unfitted_teacher_is_cloned_not_mutated(iris):
    X, y = iris
    teacher = small_forest()
    model = DistilledClassifier(teacher, **FAST).fit(X, y)
    assert not hasattr(teacher, "estimators_")
    assert model.teacher_ is not teacher
    assert hasattr(model.teacher_, "estimators_")


def test_classifier_prefit_teacher_used_as_is(iris):
    X, y = iris
    teacher = small_forest().fit(X, y)
    trees = list(teacher.estimators_)
    params = teacher.get_params()
    model = DistilledClassifier(teacher, **FAST).fit(X, y)
    assert model.teacher_ is teacher
    assert all(a is b for a, b in zip(trees, teacher.estimators_, strict=True))
    assert teacher.get_params() == params


def test_classifier_frozen_teacher_survives_clone_and_search(iris):
    X, y = iris
    teacher = small_forest().fit(X, y)
    trees = list(teacher.estimators_)
    model = DistilledClassifier(FrozenEstimator(teacher), **FAST)
    scores = cross_val_score(clone(model), X, y, cv=3)
    assert scores.shape == (3,)
    search = GridSearchCV(model, {"alpha": [0.2, 0.8]}, cv=2).fit(X, y)
    assert search.best_estimator_.teacher_.estimator is teacher
    assert all(a is b for a, b in zip(trees, teacher.estimators_, strict=True))


def test_classifier_default_teacher_is_random_forest(iris):
    X, y = iris
    model = DistilledClassifier(**FAST).fit(X, y)
    assert isinstance(model.teacher_, RandomForestClassifier)


def test_classifier_same_seed_gives_identical_predictions(iris):
    X, y = iris
    first = DistilledClassifier(RandomForestClassifier(n_estimators=10), **FAST).fit(
        X, y
    )
    second = DistilledClassifier(RandomForestClassifier(n_estimators=10), **FAST).fit(
        X, y
    )
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_classifier_fit_leaves_global_random_state(iris):
    X, y = iris
    np.random.seed(3)
    torch.manual_seed(3)
    numpy_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state().clone()
    DistilledClassifier(small_forest(), dropout=0.3, **FAST).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert torch.equal(torch.get_rng_state(), torch_state)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"]),
        np.array([-3, 7, 40]),
        np.array(["b", "c", "a"]),
    ],
    ids=["strings", "gapped-integers", "unsorted-strings"],
)
def test_classifier_returns_original_labels(iris, labels):
    X, y = iris
    y_labels = labels[y]
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y_labels)
    np.testing.assert_array_equal(model.classes_, np.sort(labels))
    assert set(model.predict(X)) <= set(labels)
    assert model.score(X, y_labels) > 0.8


def test_classifier_boolean_binary_labels(cancer_split):
    X_train, _, y_train, _ = cancer_split
    model = DistilledClassifier(small_forest(), **FAST).fit(X_train, y_train == 1)
    np.testing.assert_array_equal(model.classes_, [False, True])
    assert model.predict_proba(X_train).shape == (len(X_train), 2)
    assert model.predict(X_train).dtype == bool


def test_classifier_dataframe_sets_feature_names(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    model = DistilledClassifier(small_forest(), **FAST).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, ["sl", "sw", "pl", "pw"])
    assert list(model.teacher_.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    np.testing.assert_allclose(model.predict_proba(frame), model.predict_proba(X))


def test_classifier_decision_function_teacher(cancer_split):
    X_train, X_test, y_train, y_test = cancer_split
    teacher = GradientBoostingClassifier(n_estimators=30, random_state=0)
    model = DistilledClassifier(teacher, **FAST).fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.9


def test_classifier_alpha_one_reproduces_constant_teacher(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    teacher = LogisticRegression(max_iter=1000).fit(X, y)
    teacher.coef_ = np.zeros_like(teacher.coef_)
    teacher.intercept_ = np.array([1.0, -0.5, 0.2])
    model = DistilledClassifier(
        teacher,
        alpha=1.0,
        temperature=1.0,
        hidden_layer_sizes=(16,),
        max_iter=300,
        learning_rate_init=1e-2,
        weight_decay=0.0,
        dropout=0.0,
        random_state=0,
    ).fit(X, y)
    expected = teacher.predict_proba(X[:5])
    np.testing.assert_allclose(model.predict_proba(X[:5]), expected, atol=0.02)
    assert rng is not None


def test_classifier_alpha_zero_ignores_teacher(iris):
    X, y = iris
    good = DistilledClassifier(small_forest(), alpha=0.0, **FAST).fit(X, y)
    constant_teacher = make_pipeline(
        StandardScaler(), DecisionTreeClassifier(max_depth=1)
    )
    other = DistilledClassifier(constant_teacher, alpha=0.0, **FAST).fit(X, y)
    np.testing.assert_allclose(good.predict_proba(X), other.predict_proba(X), atol=1e-6)


def test_classifier_get_and_set_nested_params():
    model = DistilledClassifier(small_forest())
    params = model.get_params()
    assert params["teacher__n_estimators"] == 10
    model.set_params(teacher__n_estimators=5, temperature=3.0)
    assert model.teacher.n_estimators == 5
    assert model.temperature == 3.0
    cloned = clone(model)
    assert cloned.teacher is not model.teacher
    assert cloned.get_params()["teacher__n_estimators"] == 5


def test_classifier_in_pipeline_and_grid_search(iris):
    X, y = iris
    pipeline = make_pipeline(
        StandardScaler(),
        DistilledClassifier(small_forest(), **{**FAST, "max_iter": 100}),
    )
    grid = {
        "distilledclassifier__temperature": [1.0, 4.0],
        "distilledclassifier__alpha": [0.0, 0.7],
        "distilledclassifier__teacher__n_estimators": [5],
    }
    search = GridSearchCV(pipeline, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.8
    best = search.best_estimator_[-1]
    assert best.teacher_.n_estimators == 5


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_classifier_round_trip_keeps_predictions(iris, tmp_path, dump):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    path = tmp_path / "model.bin"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(model))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(model, path)
        loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_classifier_to_student_predicts_identically(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    student = model.to_student()
    assert isinstance(student, StudentClassifier)
    np.testing.assert_array_equal(student.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(student.predict(X), model.predict(X))
    assert len(pickle.dumps(student)) < len(pickle.dumps(model)) / 2
    loaded = pickle.loads(pickle.dumps(student))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_student_classifier_cannot_be_fitted(iris):
    X, y = iris
    with pytest.raises(TypeError, match=r"call its to_student\(\) method"):
        StudentClassifier().fit(X, y)


def test_classifier_to_student_requires_fit():
    with pytest.raises(NotFittedError):
        DistilledClassifier().to_student()


def test_classifier_sample_weight_ones_equal_none(iris):
    X, y = iris
    plain = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    weighted = DistilledClassifier(small_forest(), **FAST).fit(X, y, np.ones(len(y)))
    np.testing.assert_allclose(
        plain.predict_proba(X), weighted.predict_proba(X), atol=1e-6
    )


def test_classifier_sample_weight_reaches_teacher(iris):
    X, y = iris
    weights = np.where(y == 0, 0.0, 1.0)
    model = DistilledClassifier(DecisionTreeClassifier(random_state=0), **FAST)
    model.fit(X, y, sample_weight=weights)
    plain_tree = DecisionTreeClassifier(random_state=0).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(model.teacher_.predict(X), plain_tree.predict(X))


def test_classifier_warns_when_teacher_ignores_sample_weight(iris):
    X, y = iris
    teacher = make_pipeline(StandardScaler(), LogisticRegression())
    with pytest.warns(UserWarning, match="does not accept sample_weight"):
        weights = np.linspace(0.5, 1.5, len(y))
        DistilledClassifier(teacher, **FAST).fit(X, y, sample_weight=weights)


def test_classifier_rejects_negative_sample_weight(iris):
    X, y = iris
    weights = np.ones(len(y))
    weights[3] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        DistilledClassifier(small_forest(), **FAST).fit(X, y, sample_weight=weights)


def test_classifier_prefit_teacher_with_extra_classes(iris):
    X, y = iris
    teacher = small_forest().fit(X, y)
    keep = y < 2
    model = DistilledClassifier(teacher, **FAST).fit(X[keep], y[keep])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (150, 3)


def test_classifier_verbose_zero_prints_nothing(iris, capsys):
    X, y = iris
    DistilledClassifier(small_forest(), **FAST).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_classifier_verbose_two_prints_each_epoch(iris, capsys):
    X, y = iris
    model = DistilledClassifier(small_forest(), verbose=2, **FAST).fit(X, y)
    output = capsys.readouterr().out.splitlines()
    # The lines before the epochs time the teacher's fit and soft targets.
    lines = [line for line in output if line.startswith("epoch ")]
    assert len(lines) == model.n_iter_
    assert lines[0].startswith("epoch 1: loss=")


def test_classifier_early_stopping_keeps_best_epoch(iris):
    X, y = iris
    params = {**FAST, "max_iter": 200, "n_iter_no_change": 5}
    model = DistilledClassifier(small_forest(), **params).fit(X, y)
    best = int(np.argmin(model.validation_loss_curve_)) + 1
    assert model.best_epoch_ == best
    assert model.n_iter_ <= best + 5


def test_classifier_without_early_stopping_uses_all_rows(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), early_stopping=False, **FAST).fit(X, y)
    assert model.validation_scores_ == []
    assert model.best_epoch_ is None


def test_classifier_warns_at_max_iter(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="max_iter=2 epochs"):
        DistilledClassifier(small_forest(), max_iter=2, random_state=0).fit(X, y)


def test_classifier_n_threads_is_restored(iris):
    X, y = iris
    before = torch.get_num_threads()
    DistilledClassifier(small_forest(), n_threads=2, **FAST).fit(X, y)
    assert torch.get_num_threads() == before


def test_classifier_device_auto_uses_cpu_without_gpu(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), device="auto", **FAST).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device_.startswith(expected)


# --- bad input --------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_classifier_rejects_non_finite_x(iris, bad):
    X, y = iris
    X = X.copy()
    X[5, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        DistilledClassifier(small_forest(), **FAST).fit(X, y)


def test_classifier_nan_error_suggests_imputer(iris):
    X, y = iris
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="imputer"):
        DistilledClassifier(small_forest(), **FAST).fit(X, y)


def test_classifier_rejects_nan_at_predict(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    X_bad = X[:3].copy()
    X_bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict_proba(X_bad)


def test_classifier_rejects_wrong_feature_count_at_predict(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    message = "X has 3 features, but DistilledClassifier is expecting 4 features"
    with pytest.raises(ValueError, match=message):
        model.predict(X[:, :3])


def test_classifier_rejects_single_class(iris):
    X, y = iris
    with pytest.raises(
        ValueError, match=r"y contains a single class \(0\); DistilledClassifier needs"
    ):
        DistilledClassifier(small_forest(), **FAST).fit(X[:50], y[:50])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"temperature": 0.0},
            "The 'temperature' parameter of DistilledClassifier must be a float in "
            "the range \\(0.0, inf\\). Got 0.0 instead.",
        ),
        ({"temperature": -1.0}, "The 'temperature' parameter"),
        (
            {"alpha": 1.5},
            "The 'alpha' parameter of DistilledClassifier must be a float in the "
            "range \\[0.0, 1.0\\]. Got 1.5 instead.",
        ),
        ({"alpha": -0.1}, "The 'alpha' parameter"),
        ({"dropout": 1.0}, "The 'dropout' parameter"),
        ({"activation": "softsign"}, "The 'activation' parameter"),
        ({"batch_size": 0}, "The 'batch_size' parameter"),
        (
            {"hidden_layer_sizes": (8, 0)},
            "hidden_layer_sizes must be a positive int or a sequence of positive",
        ),
    ],
)
def test_classifier_rejects_bad_parameters(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        DistilledClassifier(small_forest(), **{**FAST, **params}).fit(X, y)


def test_classifier_rejects_unknown_device(iris):
    X, y = iris
    with pytest.raises(ValueError, match="device='tpu' is not a valid torch device"):
        DistilledClassifier(small_forest(), device="tpu", **FAST).fit(X, y)


def test_classifier_rejects_teacher_without_soft_outputs(iris):
    X, y = iris

    class PredictOnly(DecisionTreeClassifier):
        predict_proba = property()

    message = (
        "The teacher PredictOnly has neither predict_proba nor decision_function and "
        "is not a hard-voting ensemble, so it gives no soft targets. Use a classifier "
        "with one of them."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        DistilledClassifier(PredictOnly(), **FAST).fit(X, y)


def test_classifier_rejects_prefit_teacher_missing_classes(iris):
    X, y = iris
    teacher = small_forest().fit(X[y < 2], y[y < 2])
    message = (
        "y contains classes [2] that the prefit teacher RandomForestClassifier was "
        "never fitted on (its classes_ are [0, 1])"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(teacher, **FAST).fit(X, y)


def test_classifier_rejects_prefit_teacher_other_feature_count(iris):
    X, y = iris
    teacher = small_forest().fit(X[:, :3], y)
    with pytest.raises(ValueError, match="fitted on 3 features, but X has 4"):
        DistilledClassifier(teacher, **FAST).fit(X, y)


def test_classifier_failed_fit_leaves_previous_state(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    proba = model.predict_proba(X)
    model.set_params(device="tpu")
    with pytest.raises(ValueError):
        model.fit(X[:, :3], y)
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    assert model.n_features_in_ == 4


def test_classifier_multiclass_wine(iris):
    X, y = load_wine(return_X_y=True)
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    assert model.score(X, y) > 0.9


def test_teacher_logits_follow_requested_class_order(iris):
    X, y = iris
    teacher = small_forest().fit(X, y)
    logits = teacher_logits(teacher, X[:5], classes=[2, 0, 1])
    direct = teacher_logits(teacher, X[:5])
    np.testing.assert_array_equal(logits, direct[:, [2, 0, 1]])


def test_classifier_to_student_copies_arrays(iris):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST).fit(X, y)
    student = model.to_student()
    student.coefs_[0][0, 0] += 1.0
    assert model.coefs_[0][0, 0] != student.coefs_[0][0, 0]


def test_classifier_rejects_one_versus_one_decision_columns():
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    X, y = load_digits(return_X_y=True)
    keep = y < 3
    teacher = SVC(decision_function_shape="ovo")
    message = (
        "The teacher SVC returns one-versus-one decision_function scores (3 columns "
        "for 3 classes), which are not per-class logits."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(teacher, **FAST).fit(X[keep], y[keep])


def test_classifier_one_versus_one_teacher_with_proba_uses_it():
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    X, y = load_digits(return_X_y=True)
    keep = y < 3
    teacher = SVC(decision_function_shape="ovo", probability=True, random_state=0)
    model = DistilledClassifier(teacher, **FAST).fit(X[keep], y[keep])
    assert model.score(X[keep], y[keep]) > 0.9


def test_fidelity_score_rejects_empty_and_negative_weights():
    from skdistill.metrics import fidelity_score

    with pytest.raises(ValueError, match="needs at least one prediction"):
        fidelity_score([], [])
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        fidelity_score([1, 2], [1, 1], sample_weight=[-1, 2])
    assert fidelity_score([1, 2], [1, 1], sample_weight=[3, 1]) == 0.75


def test_classifier_validation_accuracy_same_in_small_batches(iris, monkeypatch):
    X, y = iris
    model = DistilledClassifier(small_forest(), **FAST)
    expected = model.fit(X, y).validation_scores_
    monkeypatch.setattr(classifier_module, "_SCORE_BATCH_ROWS", 4)

    result = clone(model).fit(X, y).validation_scores_

    np.testing.assert_allclose(result, expected, rtol=1e-6)
