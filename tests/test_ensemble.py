import re
import warnings

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
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
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skdistill.ensemble import (
    AveragingClassifier,
    LabelEncodedClassifier,
    gives_soft_targets,
    oob_logits,
    oof_logits,
    resolve_target_method,
    supports_oob,
    teacher_logits,
    training_logits,
)
from skdistill.ensemble._logits import PROBABILITY_FLOOR

# Labels whose sorted order (a, b, c) differs from their order of first appearance
# in iris (c, a, b), so a column-order mistake shows.
IRIS_NAMES = np.array(["c", "a", "b"])


@pytest.fixture(scope="module")
def iris_named():
    X, y = load_iris(return_X_y=True)
    return X, IRIS_NAMES[y]


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return X[:1000], y[:1000], X[1000:], y[1000:]


def _members():
    return [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("forest", RandomForestClassifier(n_estimators=10, random_state=0)),
    ]


TEACHERS = {
    "random-forest": lambda: RandomForestClassifier(n_estimators=20, random_state=0),
    "extra-trees": lambda: ExtraTreesClassifier(n_estimators=20, random_state=0),
    "bagging": lambda: BaggingClassifier(
        DecisionTreeClassifier(), n_estimators=10, random_state=0
    ),
    "bagging-no-proba": lambda: BaggingClassifier(
        make_pipeline(StandardScaler(), LinearSVC()), n_estimators=10, random_state=0
    ),
    "adaboost": lambda: AdaBoostClassifier(n_estimators=20, random_state=0),
    "gradient-boosting": lambda: GradientBoostingClassifier(
        n_estimators=20, random_state=0
    ),
    "hist-gradient-boosting": lambda: HistGradientBoostingClassifier(
        max_iter=20, random_state=0
    ),
    "soft-voting": lambda: VotingClassifier(
        _members(), voting="soft", weights=[2, 1, 1]
    ),
    "hard-voting": lambda: VotingClassifier(_members(), voting="hard"),
    "stacking": lambda: StackingClassifier(_members(), cv=3),
    "stacking-forest-final": lambda: StackingClassifier(
        _members(), final_estimator=RandomForestClassifier(n_estimators=10), cv=3
    ),
    "pipeline": lambda: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=500)
    ),
}


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_teacher_logits_shape_order_and_finite(iris_named, name):
    X, y = iris_named
    teacher = TEACHERS[name]().fit(X, y)
    logits = teacher_logits(teacher, X)
    assert logits.shape == (150, 3)
    assert np.all(np.isfinite(logits))
    np.testing.assert_array_equal(teacher.classes_, ["a", "b", "c"])
    # The highest logit is the teacher's own prediction, so the columns follow
    # classes_.
    agreement = np.mean(teacher.classes_[logits.argmax(axis=1)] == teacher.predict(X))
    assert agreement >= 0.97


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_teacher_logits_reorder_columns(iris_named, name):
    X, y = iris_named
    teacher = TEACHERS[name]().fit(X, y)
    direct = teacher_logits(teacher, X[:10])
    reordered = teacher_logits(teacher, X[:10], classes=["c", "a", "b"])
    np.testing.assert_array_equal(reordered, direct[:, [2, 0, 1]])


@pytest.mark.parametrize(
    "name", ["gradient-boosting", "hist-gradient-boosting", "pipeline", "stacking"]
)
def test_teacher_logits_are_decision_values(iris_named, name):
    X, y = iris_named
    teacher = TEACHERS[name]().fit(X, y)
    np.testing.assert_allclose(
        teacher_logits(teacher, X), teacher.decision_function(X), rtol=1e-12
    )


def test_teacher_logits_binary_decision_becomes_two_columns():
    X, y = load_breast_cancer(return_X_y=True)
    teacher = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    logits = teacher_logits(teacher, X[:20])
    np.testing.assert_array_equal(logits[:, 0], 0.0)
    np.testing.assert_allclose(logits[:, 1], teacher.decision_function(X[:20]))
    np.testing.assert_allclose(
        softmax(logits, axis=1), teacher.predict_proba(X[:20]), rtol=1e-6
    )


def test_teacher_logits_soft_voting_is_log_of_weighted_mean(iris_named):
    X, y = iris_named
    teacher = TEACHERS["soft-voting"]().fit(X, y)
    expected = np.log(np.clip(teacher.predict_proba(X), PROBABILITY_FLOOR, None))
    np.testing.assert_allclose(teacher_logits(teacher, X), expected)


def test_teacher_logits_adaboost_spread_wider_than_predict_proba(digits_split):
    X_train, y_train, X_test, _ = digits_split
    teacher = AdaBoostClassifier(
        DecisionTreeClassifier(max_depth=3), n_estimators=30, random_state=0
    ).fit(X_train, y_train)
    squashed = teacher.predict_proba(X_test)
    targets = softmax(teacher_logits(teacher, X_test), axis=1)
    # scikit-learn's probabilities sit near 1/10 for all ten classes.
    assert squashed.max(axis=1).mean() < 0.11
    assert targets.max(axis=1).mean() > 0.4
    assert targets.std(axis=1).mean() > 10 * squashed.std(axis=1).mean()
    # Spread, yet not saturated into one-hot labels.
    assert np.mean(targets.max(axis=1) > 0.999) < 0.05
    np.testing.assert_array_equal(targets.argmax(axis=1), squashed.argmax(axis=1))


def test_teacher_logits_adaboost_binary_scale():
    X, y = load_breast_cancer(return_X_y=True)
    teacher = AdaBoostClassifier(n_estimators=10, random_state=0).fit(X, y)
    logits = teacher_logits(teacher, X[:5])
    expected = teacher.decision_function(X[:5]) * teacher.estimator_weights_.sum()
    np.testing.assert_allclose(logits[:, 1] - logits[:, 0], expected)


def test_teacher_logits_hard_voting_smoothed_fractions(iris_named):
    X, y = iris_named
    teacher = VotingClassifier(_members(), voting="hard", weights=[2, 1, 1])
    teacher.fit(X, y)
    proba = softmax(teacher_logits(teacher, X), axis=1)
    votes = teacher.transform(X)
    weights = np.array([2.0, 1.0, 1.0])
    fractions = np.zeros((150, 3))
    for j in range(3):
        fractions[np.arange(150), votes[:, j]] += weights[j] / weights.sum()
    expected = (3 * fractions + 1 / 3) / 4
    np.testing.assert_allclose(proba, expected, rtol=1e-10)
    assert proba.min() > 0


def test_teacher_logits_hard_voting_skips_dropped_member(iris_named):
    X, y = iris_named
    members = _members()
    members[1] = ("tree", "drop")
    teacher = VotingClassifier(members, voting="hard", weights=[1, 5, 1]).fit(X, y)
    proba = softmax(teacher_logits(teacher, X), axis=1)
    # Two voters plus the pseudo-voter: a unanimous row gets (2 + 1/3) / 3.
    np.testing.assert_allclose(proba.max(), (2 + 1 / 3) / 3)


def test_teacher_logits_bagging_without_proba_votes(iris_named):
    X, y = iris_named
    teacher = TEACHERS["bagging-no-proba"]().fit(X, y)
    proba = softmax(teacher_logits(teacher, X), axis=1)
    fractions = teacher.predict_proba(X)
    np.testing.assert_allclose(proba, (10 * fractions + 1 / 3) / 11, rtol=1e-10)
    assert proba.min() > 0


def test_teacher_logits_frozen_teacher_reads_inner_kind():
    X, y = load_breast_cancer(return_X_y=True)
    teacher = AdaBoostClassifier(n_estimators=10, random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        teacher_logits(FrozenEstimator(teacher), X[:5]), teacher_logits(teacher, X[:5])
    )


def test_teacher_logits_pipeline_reads_final_step_kind(iris_named):
    X, y = iris_named
    pipeline = make_pipeline(
        StandardScaler(), VotingClassifier(_members(), voting="hard")
    ).fit(X, y)
    inner = pipeline[-1]
    expected = teacher_logits(inner, pipeline[0].transform(X))
    np.testing.assert_array_equal(teacher_logits(pipeline, X), expected)


def test_teacher_logits_rejects_unknown_class(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    message = (
        "The teacher RandomForestClassifier predicts classes ['c'] that are not among "
        "the classes ['a', 'b'] of the training labels. Pass a teacher whose classes_ "
        "are among them, or fit it on these labels."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        teacher_logits(teacher, X, classes=["a", "b"])


def test_teacher_logits_missing_class_gets_floor(iris_named):
    X, y = iris_named
    keep = y != "b"
    teacher = RandomForestClassifier(n_estimators=5, random_state=0)
    teacher.fit(X[keep], y[keep])
    logits = teacher_logits(teacher, X[:5], classes=["a", "b", "c"])
    proba = softmax(logits, axis=1)
    assert np.all(proba[:, 1] < 2 * PROBABILITY_FLOOR)


def test_teacher_logits_rejects_teacher_without_outputs(iris_named):
    X, y = iris_named

    class PredictOnly:
        classes_ = np.array(["a", "b", "c"])

        def predict(self, X):
            return np.full(len(X), "a")

    with pytest.raises(TypeError, match="has neither predict_proba nor"):
        teacher_logits(PredictOnly(), X)


def test_teacher_logits_rejects_non_finite_outputs(iris_named):
    X, y = iris_named
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    teacher.intercept_ = np.array([np.inf, 0.0, 0.0])
    with pytest.raises(ValueError, match="returned NaN or infinite outputs"):
        teacher_logits(teacher, X)


def test_gives_soft_targets_kinds():
    assert gives_soft_targets(RandomForestClassifier())
    assert gives_soft_targets(VotingClassifier(_members(), voting="hard"))
    assert gives_soft_targets(StackingClassifier(_members()))
    assert gives_soft_targets(
        make_pipeline(StandardScaler(), VotingClassifier(_members(), voting="hard"))
    )
    assert not gives_soft_targets(StandardScaler())


# --- out-of-bag -------------------------------------------------------------------


def test_oob_logits_match_oob_decision_function(iris_named):
    X, y = iris_named
    with_attribute = RandomForestClassifier(
        n_estimators=40, oob_score=True, random_state=0
    ).fit(X, y)
    recomputed = RandomForestClassifier(n_estimators=40, random_state=0).fit(X, y)
    expected = np.log(
        np.clip(with_attribute.oob_decision_function_, PROBABILITY_FLOOR, None)
    )
    np.testing.assert_allclose(oob_logits(with_attribute, X, y), expected)
    np.testing.assert_allclose(oob_logits(recomputed, X, y), expected)


def test_oob_logits_bagging_match_oob_decision_function(iris_named):
    X, y = iris_named
    teacher = BaggingClassifier(
        DecisionTreeClassifier(), n_estimators=30, oob_score=True, random_state=0
    ).fit(X, y)
    expected = np.log(np.clip(teacher.oob_decision_function_, PROBABILITY_FLOOR, None))
    np.testing.assert_allclose(oob_logits(teacher, X, y), expected)


def test_oob_logits_bagging_without_proba_smoothed(iris_named):
    X, y = iris_named
    teacher = BaggingClassifier(
        make_pipeline(StandardScaler(), LinearSVC()),
        n_estimators=30,
        oob_score=True,
        random_state=0,
    ).fit(X, y)
    proba = softmax(oob_logits(teacher, X, y), axis=1)
    assert proba.min() > 0
    np.testing.assert_array_equal(
        proba.argmax(axis=1), teacher.oob_decision_function_.argmax(axis=1)
    )


def test_oob_logits_differ_from_in_sample():
    X, y = load_breast_cancer(return_X_y=True)
    teacher = RandomForestClassifier(n_estimators=40, random_state=0).fit(X, y)
    in_sample = softmax(teacher_logits(teacher, X), axis=1).max(axis=1)
    out_of_bag = softmax(oob_logits(teacher, X, y), axis=1).max(axis=1)
    # Out-of-bag targets are less confident on the training rows.
    assert out_of_bag.mean() < in_sample.mean() - 0.02


def test_oob_logits_rows_never_out_of_bag_fall_back(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)
    in_bag_everywhere = np.ones(150, dtype=bool)
    for sample in teacher.estimators_samples_:
        out = np.ones(150, dtype=bool)
        out[sample] = False
        in_bag_everywhere &= ~out
    assert in_bag_everywhere.any()
    logits = oob_logits(teacher, X, y)
    np.testing.assert_allclose(
        logits[in_bag_everywhere], teacher_logits(teacher, X[in_bag_everywhere])
    )
    assert np.all(np.isfinite(logits))


def test_oob_logits_pipeline_and_frozen(iris_named):
    X, y = iris_named
    pipeline = make_pipeline(
        StandardScaler(), RandomForestClassifier(n_estimators=40, random_state=0)
    ).fit(X, y)
    direct = oob_logits(pipeline[-1], pipeline[0].transform(X), y)
    np.testing.assert_allclose(oob_logits(FrozenEstimator(pipeline), X, y), direct)


def test_oob_logits_rejects_teacher_without_bootstrap(iris_named):
    X, y = iris_named
    teacher = ExtraTreesClassifier(n_estimators=5, random_state=0).fit(X, y)
    message = "The teacher ExtraTreesClassifier has no out-of-bag rows."
    with pytest.raises(ValueError, match=re.escape(message)):
        oob_logits(teacher, X, y)


def test_oob_logits_rejects_other_rows(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    shuffled = np.random.RandomState(0).permutation(150)
    with pytest.raises(ValueError, match="X and y are not the rows the prefit"):
        oob_logits(teacher, X[shuffled], y[shuffled])


def test_oob_logits_rejects_fewer_rows(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="was fitted on more rows than the 100"):
        oob_logits(teacher, X[:100], y[:100])


def test_supports_oob_kinds():
    assert supports_oob(RandomForestClassifier())
    assert not supports_oob(RandomForestClassifier(bootstrap=False))
    assert not supports_oob(ExtraTreesClassifier())
    assert supports_oob(ExtraTreesClassifier(bootstrap=True))
    assert supports_oob(BaggingClassifier())
    assert not supports_oob(BaggingClassifier(bootstrap=False))
    assert supports_oob(BaggingClassifier(bootstrap=False, max_samples=0.5))
    assert supports_oob(make_pipeline(StandardScaler(), RandomForestClassifier()))
    assert not supports_oob(GradientBoostingClassifier(subsample=0.5))


# --- out-of-fold ------------------------------------------------------------------


def test_oof_logits_match_manual_folds(iris_named):
    X, y = iris_named
    cv = KFold(3, shuffle=True, random_state=1)
    teacher = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    logits = oof_logits(teacher, X, y, cv=cv)
    expected = np.empty_like(logits)
    for train, test in cv.split(X, y):
        model = clone(teacher).fit(X[train], y[train])
        expected[test] = model.decision_function(X[test])
    np.testing.assert_allclose(logits, expected)


def test_oof_logits_label_missing_from_fold(iris_named):
    X, y = iris_named
    y = y.copy()
    y[0] = "z"  # one row of a fourth class: absent from every other fold's training
    cv = KFold(3)
    teacher = LogisticRegression(max_iter=500)
    logits = oof_logits(teacher, X, y, classes=["a", "b", "c", "z"], cv=cv)
    assert logits.shape == (150, 4)
    assert np.all(np.isfinite(logits))
    # Row 0 is in the first test fold, whose training rows lack "z": its column is
    # far below the others there. The other folds learned "z" from row 0.
    first_test = next(cv.split(X, y))[1]
    proba = softmax(logits[first_test], axis=1)
    assert np.all(proba[:, 3] < 2 * PROBABILITY_FLOOR)


def test_oof_logits_use_sample_weight(iris_named):
    X, y = iris_named
    weights = np.where(y == "a", 0.0, 1.0)
    cv = KFold(3, shuffle=True, random_state=0)
    teacher = DecisionTreeClassifier(random_state=0)
    logits = oof_logits(teacher, X, y, cv=cv, sample_weight=weights)
    expected = np.empty((150, 3))
    for train, test in cv.split(X, y):
        model = clone(teacher).fit(X[train], y[train], sample_weight=weights[train])
        expected[test] = teacher_logits(model, X[test], ["a", "b", "c"])
    np.testing.assert_allclose(logits, expected)


def test_oof_logits_same_seed_same_result(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=5)
    first = oof_logits(teacher, X, y, random_state=3)
    second = oof_logits(teacher, X, y, random_state=3)
    np.testing.assert_array_equal(first, second)


def test_oof_logits_leave_teacher_untouched(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    trees = list(teacher.estimators_)
    oof_logits(teacher, X, y, cv=3, random_state=0)
    assert all(a is b for a, b in zip(trees, teacher.estimators_, strict=True))
    frozen = FrozenEstimator(teacher)
    logits = oof_logits(frozen, X, y, cv=3, random_state=0)
    assert not np.allclose(logits, teacher_logits(teacher, X))


def test_oof_logits_reject_incomplete_splits(iris_named):
    X, y = iris_named
    splits = [(np.arange(50, 150), np.arange(50))]
    message = "must put every row in exactly one test fold for out-of-fold targets"
    with pytest.raises(ValueError, match=message):
        oof_logits(LogisticRegression(), X, y, cv=splits)


# --- choosing the method ----------------------------------------------------------


@pytest.mark.parametrize(
    ("teacher", "prefit", "expected"),
    [
        (RandomForestClassifier(), False, "in-sample"),
        (RandomForestClassifier(), True, "in-sample"),
        (BaggingClassifier(), False, "in-sample"),
        (ExtraTreesClassifier(), False, "oof"),
        (ExtraTreesClassifier(), True, "in-sample"),
        (ExtraTreesClassifier(bootstrap=True), False, "in-sample"),
        (RandomForestClassifier(bootstrap=False), False, "oof"),
        (HistGradientBoostingClassifier(), False, "in-sample"),
        (GradientBoostingClassifier(), False, "in-sample"),
        (AdaBoostClassifier(), False, "in-sample"),
        (AdaBoostClassifier(), True, "in-sample"),
        (VotingClassifier(_members()), False, "in-sample"),
        (StackingClassifier(_members()), False, "in-sample"),
        (make_pipeline(StandardScaler(), ExtraTreesClassifier()), False, "oof"),
    ],
)
def test_resolve_target_method_auto(teacher, prefit, expected):
    assert resolve_target_method(teacher, "auto", prefit=prefit) == expected


def test_resolve_target_method_rejects_unknown():
    message = (
        "teacher_targets='bootstrap' is not valid. Use one of 'auto', 'in-sample', "
        "'oob', 'oof'."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        resolve_target_method(RandomForestClassifier(), "bootstrap")


def test_training_logits_explicit_oob_raises_for_other_rows(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    keep = y != "c"
    with pytest.raises(ValueError, match="Out-of-bag targets need the ensemble's"):
        training_logits(teacher, X[keep], y[keep], method="oob", prefit=True)


def test_training_logits_in_sample_equals_teacher_logits(iris_named):
    X, y = iris_named
    teacher = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    result = training_logits(teacher, X, y, method="in-sample")
    assert result.method == "in-sample"
    np.testing.assert_array_equal(result.logits, teacher_logits(teacher, X))


# --- wrappers ---------------------------------------------------------------------


def test_label_encoded_classifier_maps_labels_back(iris_named):
    X, y = iris_named
    model = LabelEncodedClassifier(LogisticRegression(max_iter=500)).fit(X, y)
    np.testing.assert_array_equal(model.classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(model.estimator_.classes_, [0, 1, 2])
    assert set(model.predict(X)) == {"a", "b", "c"}
    np.testing.assert_allclose(
        teacher_logits(model, X), model.estimator_.decision_function(X)
    )
    assert model.score(X, y) > 0.9


def test_averaging_classifier_from_fitted_averages_probabilities(iris_named):
    X, y = iris_named
    first = LogisticRegression(max_iter=500).fit(X, y)
    second = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    average = AveragingClassifier.from_fitted([first, second], weights=[3, 1])
    assert average.estimators_[0] is first
    expected = 0.75 * first.predict_proba(X) + 0.25 * softmax(
        teacher_logits(second, X), axis=1
    )
    np.testing.assert_allclose(average.predict_proba(X), expected)
    np.testing.assert_allclose(
        teacher_logits(average, X), np.log(np.clip(expected, PROBABILITY_FLOOR, None))
    )


def test_averaging_classifier_union_of_classes(iris_named):
    X, y = iris_named
    keep = y != "c"
    partial = LogisticRegression(max_iter=500).fit(X[keep], y[keep])
    full = LogisticRegression(max_iter=500).fit(X, y)
    average = AveragingClassifier.from_fitted([partial, full])
    np.testing.assert_array_equal(average.classes_, ["a", "b", "c"])
    proba = average.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba[:, 2] <= 0.5 + PROBABILITY_FLOOR)


def test_averaging_classifier_fit_clones(iris_named):
    X, y = iris_named
    members = [LogisticRegression(max_iter=500), DecisionTreeClassifier()]
    average = AveragingClassifier(members).fit(X, y)
    assert not hasattr(members[0], "coef_")
    assert average.estimators_[0] is not members[0]
    assert average.score(X, y) > 0.9


@pytest.mark.parametrize(
    ("members", "error", "message"),
    [
        ([], ValueError, "The teacher is an empty list."),
        (
            [LogisticRegression(), "forest"],
            TypeError,
            "Item 1 of the teacher list, 'forest', is not a classifier",
        ),
    ],
)
def test_averaging_classifier_rejects_bad_members(iris_named, members, error, message):
    X, y = iris_named
    with pytest.raises(error, match=re.escape(message)):
        AveragingClassifier(members).fit(X, y)


def test_averaging_classifier_rejects_mixed_members(iris_named):
    X, y = iris_named
    fitted = LogisticRegression(max_iter=500).fit(X, y)
    message = (
        "The teacher list mixes fitted and unfitted classifiers (items [1] are "
        "unfitted)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        AveragingClassifier.from_fitted([fitted, DecisionTreeClassifier()])


def test_averaging_classifier_rejects_bad_weights(iris_named):
    X, y = iris_named
    message = "weights must contain one non-negative weight per member (2)"
    with pytest.raises(ValueError, match=re.escape(message)):
        AveragingClassifier(
            [LogisticRegression(), DecisionTreeClassifier()], weights=[1, -1]
        ).fit(X, y)


def test_averaging_classifier_rejects_other_feature_counts(iris_named):
    X, y = iris_named
    first = LogisticRegression(max_iter=500).fit(X, y)
    second = LogisticRegression(max_iter=500).fit(X[:, :2], y)
    with pytest.raises(ValueError, match="fitted on different numbers of features"):
        AveragingClassifier.from_fitted([first, second])


def test_teacher_logits_never_warns_for_large_forest(iris_named):
    X, y = iris_named
    teacher = RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        oob_logits(teacher, X, y)


def test_averaging_classifier_weights_reach_members_that_accept_them(iris_named):
    X, y = iris_named
    weights = np.where(y == "a", 0.0, 1.0)
    members = [
        DecisionTreeClassifier(random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
    ]
    with pytest.warns(UserWarning, match="Pipeline does not accept sample_weight"):
        average = AveragingClassifier(members).fit(X, y, sample_weight=weights)
    tree = DecisionTreeClassifier(random_state=0).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(average.estimators_[0].predict(X), tree.predict(X))


def test_label_encoded_classifier_passes_sample_weight(iris_named):
    X, y = iris_named
    weights = np.where(y == "a", 0.0, 1.0)
    model = LabelEncodedClassifier(DecisionTreeClassifier(random_state=0))
    model.fit(X, y, sample_weight=weights)
    tree = DecisionTreeClassifier(random_state=0).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(model.predict(X), tree.predict(X))


@pytest.mark.parametrize(
    "make_teacher",
    [
        lambda: RandomForestClassifier(n_estimators=20, random_state=0),
        lambda: BaggingClassifier(
            DecisionTreeClassifier(), n_estimators=20, random_state=0
        ),
    ],
    ids=["forest", "bagging"],
)
def test_oob_logits_sparse_equal_dense(iris_named, make_teacher):
    from scipy.sparse import csr_matrix

    X, y = iris_named
    dense = make_teacher().fit(X, y)
    sparse = make_teacher().fit(csr_matrix(X), y)
    np.testing.assert_allclose(
        oob_logits(sparse, csr_matrix(X), y), oob_logits(dense, X, y)
    )
