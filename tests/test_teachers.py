import re

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier
from skdistill.ensemble import (
    AveragingClassifier,
    LabelEncodedClassifier,
    oob_logits,
    oof_logits,
    teacher_logits,
)

STUDENT = dict(
    hidden_layer_sizes=(64,),
    batch_size=32,
    max_iter=100,
    n_iter_no_change=10,
    cv=3,
    random_state=0,
)
FAST = dict(STUDENT, max_iter=10, n_iter_no_change=5)

# Labels in an order different from their first appearance in the data sets.
CANCER_NAMES = np.array(["malignant", "benign"])
WINE_NAMES = np.array(["red", "amber", "pale"])


@pytest.fixture(scope="module")
def cancer_split():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(
        X, CANCER_NAMES[y], test_size=0.3, stratify=y, random_state=0
    )


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return X, WINE_NAMES[y]


def _members():
    return [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("forest", RandomForestClassifier(n_estimators=10, random_state=0)),
    ]


TEACHERS = {
    "random-forest": (
        lambda: RandomForestClassifier(n_estimators=30, random_state=0),
        "in-sample",
    ),
    "extra-trees": (
        lambda: ExtraTreesClassifier(n_estimators=20, random_state=0),
        "oof",
    ),
    "bagging": (
        lambda: BaggingClassifier(
            DecisionTreeClassifier(), n_estimators=20, random_state=0
        ),
        "in-sample",
    ),
    "bagging-no-proba": (
        lambda: BaggingClassifier(
            make_pipeline(StandardScaler(), LinearSVC()),
            n_estimators=20,
            random_state=0,
        ),
        "in-sample",
    ),
    "adaboost": (
        lambda: AdaBoostClassifier(n_estimators=15, random_state=0),
        "in-sample",
    ),
    "gradient-boosting": (
        lambda: GradientBoostingClassifier(n_estimators=15, random_state=0),
        "in-sample",
    ),
    "hist-gradient-boosting": (
        lambda: HistGradientBoostingClassifier(max_iter=15, random_state=0),
        "in-sample",
    ),
    "soft-voting": (
        lambda: VotingClassifier(_members(), voting="soft", weights=[2, 1, 1]),
        "in-sample",
    ),
    "hard-voting": (
        lambda: VotingClassifier(_members(), voting="hard"),
        "in-sample",
    ),
    "stacking": (lambda: StackingClassifier(_members(), cv=2), "in-sample"),
    "pipeline": (
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
        "in-sample",
    ),
    "list": (
        lambda: [
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
            RandomForestClassifier(n_estimators=20, random_state=0),
        ],
        "in-sample",
    ),
}

# The student is a one-hidden-layer MLP trained for at most 100 epochs, so it may
# trail the teacher by this much test accuracy on breast_cancer (171 test rows).
ACCURACY_MARGIN = 0.04


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_teacher_student_close_to_teacher(cancer_split, name):
    X_train, X_test, y_train, y_test = cancer_split
    make_teacher, method = TEACHERS[name]
    model = DistilledClassifier(make_teacher(), **STUDENT).fit(X_train, y_train)
    assert model.teacher_targets_ == method
    np.testing.assert_array_equal(model.classes_, ["benign", "malignant"])
    teacher_accuracy = model.teacher_.score(X_test, y_test)
    assert model.score(X_test, y_test) >= teacher_accuracy - ACCURACY_MARGIN


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_teacher_targets_columns_follow_classes(wine, name):
    X, y = wine
    make_teacher, _ = TEACHERS[name]
    model = DistilledClassifier(make_teacher(), teacher_targets="oof", **FAST)
    model.fit(X, y)
    assert model.teacher_targets_ == "oof"
    np.testing.assert_array_equal(model.classes_, ["amber", "pale", "red"])
    logits = teacher_logits(model.teacher_, X, model.classes_)
    assert logits.shape == (178, 3)
    assert np.all(np.isfinite(logits))
    predicted = model.classes_[logits.argmax(axis=1)]
    assert np.mean(predicted == model.teacher_.predict(X)) >= 0.97


@pytest.mark.parametrize("method", ["oob", "oof"])
def test_teacher_targets_forest_honest_targets_less_confident(cancer_split, method):
    X_train, _, y_train, _ = cancer_split
    teacher = RandomForestClassifier(n_estimators=50, random_state=0)
    model = DistilledClassifier(teacher, teacher_targets=method, **FAST)
    model.fit(X_train, y_train)
    in_sample = softmax(teacher_logits(model.teacher_, X_train), axis=1)
    if method == "oob":
        honest = oob_logits(model.teacher_, X_train, y_train)
    else:
        honest = oof_logits(model.teacher_, X_train, y_train, cv=3, random_state=0)
    honest = softmax(honest, axis=1)
    # On its own training rows a forest is right every time and near one-hot. The
    # honest targets make mistakes, as on new rows, and are less sure.
    classes = model.teacher_.classes_
    assert np.mean(classes[in_sample.argmax(axis=1)] == y_train) == 1.0
    assert np.mean(classes[honest.argmax(axis=1)] == y_train) < 0.99
    assert honest.max(axis=1).mean() < in_sample.max(axis=1).mean() - 0.02


def test_teacher_targets_oob_uses_forest_attribute(cancer_split):
    X_train, X_test, y_train, y_test = cancer_split
    teacher = RandomForestClassifier(n_estimators=50, oob_score=True, random_state=0)
    model = DistilledClassifier(teacher, teacher_targets="oob", **STUDENT)
    model.fit(X_train, y_train)
    assert model.teacher_targets_ == "oob"
    assert hasattr(model.teacher_, "oob_decision_function_")
    assert model.score(X_test, y_test) > 0.9


def test_teacher_targets_prefit_forest_oob_leaves_teacher(cancer_split):
    X_train, _, y_train, _ = cancer_split
    teacher = RandomForestClassifier(n_estimators=30, random_state=0)
    teacher.fit(X_train, y_train)
    trees = list(teacher.estimators_)
    params = teacher.get_params()
    model = DistilledClassifier(teacher, teacher_targets="oob", **FAST)
    model.fit(X_train, y_train)
    assert model.teacher_targets_ == "oob"
    assert model.teacher_ is teacher
    assert all(a is b for a, b in zip(trees, teacher.estimators_, strict=True))
    assert teacher.get_params() == params


def test_teacher_targets_prefit_boosting_auto_is_in_sample(cancer_split):
    X_train, _, y_train, _ = cancer_split
    teacher = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    teacher.fit(X_train, y_train)
    model = DistilledClassifier(teacher, **FAST).fit(X_train, y_train)
    assert model.teacher_targets_ == "in-sample"
    assert model.teacher_ is teacher
    assert teacher.n_iter_ == 10


def test_teacher_targets_prefit_oof_fits_clones_only(cancer_split):
    X_train, _, y_train, _ = cancer_split
    teacher = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    teacher.fit(X_train, y_train)
    before = teacher.predict_proba(X_train)
    model = DistilledClassifier(teacher, teacher_targets="oof", **FAST)
    model.fit(X_train, y_train)
    assert model.teacher_ is teacher
    np.testing.assert_array_equal(teacher.predict_proba(X_train), before)


def test_teacher_targets_prefit_with_extra_classes_oob_raises():
    X, y = load_iris(return_X_y=True)
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    keep = y < 2
    model = DistilledClassifier(teacher, teacher_targets="oob", **FAST)
    with pytest.raises(ValueError, match="Out-of-bag targets need the ensemble's"):
        model.fit(X[keep], y[keep])


def test_teacher_targets_prefit_extra_trees_auto_is_in_sample():
    X, y = load_iris(return_X_y=True)
    teacher = ExtraTreesClassifier(n_estimators=10, random_state=0).fit(X, y)
    keep = y < 2
    model = DistilledClassifier(teacher, **FAST).fit(X[keep], y[keep])
    assert model.teacher_targets_ == "in-sample"
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (150, 3)


def test_teacher_targets_prefit_with_extra_classes_oof():
    X, y = load_iris(return_X_y=True)
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    keep = y < 2
    model = DistilledClassifier(teacher, teacher_targets="oof", **FAST)
    model.fit(X[keep], y[keep])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (150, 3)


def test_teacher_targets_label_missing_from_fold():
    X, y = load_iris(return_X_y=True)
    y = y.copy()
    y[0] = 3  # a class with a single row is absent from the other folds' training
    model = DistilledClassifier(
        LogisticRegression(max_iter=500),
        teacher_targets="oof",
        **{**FAST, "cv": KFold(3)},
    )
    with pytest.warns(UserWarning):
        # The stratified validation split of early stopping warns about the class
        # with one row.
        model.fit(X, y)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2, 3])
    assert model.predict_proba(X).shape == (150, 4)


def test_teacher_targets_oof_respects_sample_weight(cancer_split):
    X_train, _, y_train, _ = cancer_split
    weights = np.linspace(0.2, 2.0, len(y_train))
    model = DistilledClassifier(
        DecisionTreeClassifier(max_depth=3, random_state=0),
        teacher_targets="oof",
        **FAST,
    )
    model.fit(X_train, y_train, sample_weight=weights)
    expected_first = DecisionTreeClassifier(max_depth=3, random_state=0).fit(
        X_train, y_train, sample_weight=weights
    )
    np.testing.assert_array_equal(
        model.teacher_.predict(X_train), expected_first.predict(X_train)
    )


def test_teacher_targets_oof_same_seed_identical(cancer_split):
    X_train, X_test, y_train, _ = cancer_split
    params = dict(FAST, teacher_targets="oof")
    first = DistilledClassifier(RandomForestClassifier(n_estimators=10), **params)
    second = DistilledClassifier(RandomForestClassifier(n_estimators=10), **params)
    first.fit(X_train, y_train)
    second.fit(X_train, y_train)
    np.testing.assert_array_equal(
        first.predict_proba(X_test), second.predict_proba(X_test)
    )


def test_teacher_targets_frozen_teacher_oob(cancer_split):
    X_train, _, y_train, _ = cancer_split
    teacher = RandomForestClassifier(n_estimators=30, random_state=0)
    teacher.fit(X_train, y_train)
    model = DistilledClassifier(FrozenEstimator(teacher), teacher_targets="oob", **FAST)
    model.fit(X_train, y_train)
    assert model.teacher_targets_ == "oob"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"teacher_targets": "bootstrap"},
            "The 'teacher_targets' parameter of DistilledClassifier must be a str "
            "among",
        ),
        ({"cv": "five"}, "The 'cv' parameter of DistilledClassifier must be"),
        ({"teacher": "forest"}, "The 'teacher' parameter of DistilledClassifier must"),
    ],
)
def test_teacher_targets_rejects_bad_parameters(cancer_split, params, message):
    X_train, _, y_train, _ = cancer_split
    with pytest.raises(ValueError, match=re.escape(message)):
        DistilledClassifier(**{**FAST, **params}).fit(X_train, y_train)


def test_teacher_targets_oob_rejects_boosting(cancer_split):
    X_train, _, y_train, _ = cancer_split
    model = DistilledClassifier(
        GradientBoostingClassifier(n_estimators=5, subsample=0.5),
        teacher_targets="oob",
        **FAST,
    )
    message = "The teacher GradientBoostingClassifier has no out-of-bag rows."
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X_train, y_train)


def test_teacher_targets_cv_one_fold_rejected(cancer_split):
    X_train, _, y_train, _ = cancer_split
    model = DistilledClassifier(
        LogisticRegression(), teacher_targets="oof", **{**FAST, "cv": 1}
    )
    message = "The 'cv' parameter of DistilledClassifier must be an int in the range [2"
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X_train, y_train)


def test_teacher_rejects_predict_only_classifier(cancer_split):
    X_train, _, y_train, _ = cancer_split

    class PredictOnly(DecisionTreeClassifier):
        predict_proba = property()

    message = (
        "The teacher PredictOnly has neither predict_proba nor decision_function and "
        "is not a hard-voting ensemble, so it gives no soft targets."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        DistilledClassifier(PredictOnly(), **FAST).fit(X_train, y_train)


# --- a list of models -------------------------------------------------------------


def test_teacher_list_prefit_is_averaged(cancer_split):
    X_train, X_test, y_train, y_test = cancer_split
    members = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(
            X_train, y_train
        ),
        HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(
            X_train, y_train
        ),
    ]
    model = DistilledClassifier(members, **STUDENT).fit(X_train, y_train)
    assert isinstance(model.teacher_, AveragingClassifier)
    assert model.teacher_.estimators_[0] is members[0]
    assert model.teacher_targets_ == "in-sample"
    expected = np.mean([m.predict_proba(X_test) for m in members], axis=0)
    np.testing.assert_allclose(model.teacher_.predict_proba(X_test), expected)
    assert model.score(X_test, y_test) > 0.93


def test_teacher_list_clone_and_get_params(cancer_split):
    X_train, _, y_train, _ = cancer_split
    members = [LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=2)]
    model = DistilledClassifier(members, **FAST)
    assert model.get_params()["teacher"] is members
    cloned = clone(model)
    assert isinstance(cloned.teacher, list)
    assert cloned.teacher[0] is not members[0]
    assert cloned.teacher[0].get_params() == members[0].get_params()
    cloned.fit(X_train, y_train)
    assert not hasattr(members[0], "coef_")
    assert len(cloned.teacher_.estimators_) == 2


def test_teacher_list_in_grid_search(cancer_split):
    X_train, _, y_train, _ = cancer_split
    members = [LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=2)]
    model = DistilledClassifier(members, teacher_targets="in-sample", **FAST)
    search = GridSearchCV(model, {"alpha": [0.3, 0.7]}, cv=2).fit(X_train, y_train)
    assert search.best_score_ > 0.8


def test_teacher_list_rejects_mixed_members(cancer_split):
    X_train, _, y_train, _ = cancer_split
    fitted = LogisticRegression(max_iter=500).fit(X_train, y_train)
    with pytest.raises(ValueError, match="mixes fitted and unfitted classifiers"):
        DistilledClassifier([fitted, DecisionTreeClassifier()], **FAST).fit(
            X_train, y_train
        )


def test_teacher_list_rejects_non_classifier_item(cancer_split):
    X_train, _, y_train, _ = cancer_split
    with pytest.raises(TypeError, match="Item 1 of the teacher list, 3, is not"):
        DistilledClassifier([LogisticRegression(), 3], **FAST).fit(X_train, y_train)


# --- XGBoost, LightGBM and CatBoost -----------------------------------------------

LIBRARY_LABELS = {
    "strings": np.array(["setosa", "versicolor", "virginica"]),
    "gapped-integers": np.array([40, -3, 7]),
}


def _library_teacher(library):
    if library == "xgboost":
        xgboost = pytest.importorskip("xgboost")
        return xgboost.XGBClassifier(n_estimators=10, max_depth=2, n_jobs=1)
    if library == "lightgbm":
        lightgbm = pytest.importorskip("lightgbm")
        return lightgbm.LGBMClassifier(
            n_estimators=10, num_leaves=4, n_jobs=1, verbose=-1
        )
    catboost = pytest.importorskip("catboost")
    return catboost.CatBoostClassifier(
        iterations=10, depth=2, thread_count=1, verbose=0, allow_writing_files=False
    )


def _raw_margins(model, X):
    module = type(model).__module__.split(".")[0]
    if module == "xgboost":
        return model.predict(X, output_margin=True)
    if module == "lightgbm":
        return model.predict(X, raw_score=True)
    return model.predict(X, prediction_type="RawFormulaVal")


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
@pytest.mark.parametrize("labels", sorted(LIBRARY_LABELS))
def test_boosting_library_unfitted_teacher_labels(library, labels):
    X, y = load_iris(return_X_y=True)
    y_labels = LIBRARY_LABELS[labels][y]
    model = DistilledClassifier(
        _library_teacher(library), teacher_targets="oof", **FAST
    ).fit(X, y_labels)
    np.testing.assert_array_equal(model.classes_, np.sort(LIBRARY_LABELS[labels]))
    assert model.teacher_targets_ == "oof"
    logits = teacher_logits(model.teacher_, X, model.classes_)
    assert np.all(np.isfinite(logits))
    predicted = model.classes_[logits.argmax(axis=1)]
    np.testing.assert_array_equal(predicted, model.teacher_.predict(X).reshape(-1))
    assert model.score(X, y_labels) > 0.8


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_boosting_library_logits_are_raw_margins(library):
    X, y = load_breast_cancer(return_X_y=True)
    teacher = _library_teacher(library).fit(X, y)
    logits = teacher_logits(teacher, X[:20])
    np.testing.assert_allclose(
        logits[:, 1] - logits[:, 0], _raw_margins(teacher, X[:20])
    )
    np.testing.assert_allclose(
        softmax(logits, axis=1), teacher.predict_proba(X[:20]), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("library", ["lightgbm", "catboost"])
def test_boosting_library_prefit_with_strings(library):
    X, y = load_iris(return_X_y=True)
    y_labels = LIBRARY_LABELS["strings"][y]
    teacher = _library_teacher(library).fit(X, y_labels)
    model = DistilledClassifier(teacher, **FAST).fit(X, y_labels)
    assert model.teacher_ is teacher
    assert model.teacher_targets_ == "in-sample"
    np.testing.assert_allclose(
        softmax(teacher_logits(teacher, X), axis=1),
        teacher.predict_proba(X),
        rtol=1e-5,
        atol=1e-6,
    )


def test_boosting_library_prefit_xgboost_wrapped_with_strings():
    X, y = load_iris(return_X_y=True)
    y_labels = LIBRARY_LABELS["gapped-integers"][y]
    teacher = LabelEncodedClassifier(_library_teacher("xgboost")).fit(X, y_labels)
    model = DistilledClassifier(teacher, **FAST).fit(X, y_labels)
    assert model.teacher_ is teacher
    np.testing.assert_array_equal(model.classes_, [-3, 7, 40])
    assert set(model.predict(X)) <= {-3, 7, 40}


def test_boosting_library_prefit_xgboost_on_codes_rejects_strings():
    X, y = load_iris(return_X_y=True)
    teacher = _library_teacher("xgboost").fit(X, y)
    y_labels = LIBRARY_LABELS["strings"][y]
    with pytest.raises(ValueError, match="that the prefit teacher XGBClassifier was"):
        DistilledClassifier(teacher, **FAST).fit(X, y_labels)
