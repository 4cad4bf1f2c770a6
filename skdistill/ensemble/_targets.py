"""Soft targets for a teacher's own training rows: in-sample, out-of-bag, out-of-fold.

A teacher scored on its own training rows is more confident than on new rows: a fully
grown forest gives near one-hot probabilities there, and boosting has fitted those rows
for hundreds of rounds, so such targets may teach the student little beyond the
labels. Out-of-bag targets score each row with only the members that never saw it, and
out-of-fold targets score it with a clone fitted without it, as stacking does for its
final estimator. Which of them helps depends on the kind of teacher; the measurements
behind :func:`resolve_target_method` are in ``docs/teachers.md``.
"""

import numbers
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    RandomForestClassifier,
)
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import _num_samples, has_fit_parameter

from ._encoding import LabelEncodedClassifier
from ._logits import (
    FrozenEstimator,
    align_columns,
    bagging_member_votes,
    boosting_library,
    probability_logits,
    smoothed_vote_logits,
    teacher_logits,
    unwrap_teacher,
)

TARGET_METHODS = ("auto", "in-sample", "oob", "oof")

# Share of in-bag (row, tree) pairs allowed to give a row's own label a probability of
# zero before the rows are taken to differ from the forest's training rows. A tree
# gives an in-bag row of positive weight a positive probability of its label, because
# the row lies in the leaf it reaches. Rows of weight zero are the exception.
_IN_BAG_MISMATCH_TOLERANCE = 0.005

# Trees checked against their in-bag rows; a handful is enough to tell other rows.
_IN_BAG_TREES_CHECKED = 10


class TrainingLogits(NamedTuple):
    """Soft-target logits of the training rows and the method that made them.

    Attributes
    ----------
    logits : ndarray of shape (n_samples, n_classes)
        One row of logits per training row, columns in the requested class order.
    method : {"in-sample", "oob", "oof"}
        How the logits were made; ``"auto"`` is resolved to one of these.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.ensemble import TrainingLogits
    >>> result = TrainingLogits(np.zeros((2, 3)), "oob")
    >>> result.method
    'oob'
    """

    logits: np.ndarray
    method: str


class RowMismatchError(ValueError):
    """The rows passed are not the rows a prefit ensemble was fitted on."""


def supports_oob(teacher):
    """Return whether ``teacher`` has out-of-bag rows to give out-of-bag targets.

    True for ``RandomForestClassifier`` and ``ExtraTreesClassifier`` with
    ``bootstrap=True``, and for ``BaggingClassifier`` that draws with replacement or
    draws fewer rows than it is given, also inside a ``Pipeline`` or
    ``FrozenEstimator``. The teacher may be fitted or not.

    Examples
    --------
    >>> from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    >>> from skdistill.ensemble import supports_oob
    >>> supports_oob(RandomForestClassifier()), supports_oob(ExtraTreesClassifier())
    (True, False)
    """
    ensemble = _final_estimator(teacher)
    if isinstance(ensemble, RandomForestClassifier | ExtraTreesClassifier):
        return bool(ensemble.bootstrap)
    if isinstance(ensemble, BaggingClassifier):
        full_draw = (
            isinstance(ensemble.max_samples, numbers.Real)
            and not isinstance(ensemble.max_samples, numbers.Integral)
            and ensemble.max_samples >= 1.0
        ) or ensemble.max_samples is None
        return bool(ensemble.bootstrap) or not full_draw
    return False


def _final_estimator(teacher):
    while True:
        if FrozenEstimator is not None and isinstance(teacher, FrozenEstimator):
            teacher = teacher.estimator
        elif isinstance(teacher, Pipeline):
            teacher = teacher.steps[-1][1]
        else:
            return teacher


def _label_codes(y, classes):
    """Return the position of each label of ``y`` in ``classes``."""
    classes = np.asarray(classes)
    order = np.argsort(classes, kind="stable")
    codes = order[np.searchsorted(classes, y, sorter=order)]
    if not np.array_equal(classes[codes], np.asarray(y)):
        raise ValueError("y contains labels outside the teacher's classes_.")
    return codes


def _check_in_bag_rows(forest, X, y):
    """Raise RowMismatchError if ``(X, y)`` are not the forest's training rows."""
    codes = _label_codes(y, forest.classes_)
    n_rows = len(codes)
    checked = mismatched = 0
    samples = forest.estimators_samples_[:_IN_BAG_TREES_CHECKED]
    for tree, in_bag in zip(forest.estimators_, samples, strict=False):
        in_bag = np.unique(in_bag)
        proba = tree.predict_proba(X[in_bag])
        mismatched += int(np.sum(proba[np.arange(len(in_bag)), codes[in_bag]] <= 0))
        checked += len(in_bag)
    if checked and mismatched > _IN_BAG_MISMATCH_TOLERANCE * checked:
        raise RowMismatchError(
            f"X and y are not the rows the prefit {type(forest).__name__} was fitted "
            f"on: its trees give {mismatched} of {checked} of their own training rows "
            "a probability of zero for their label. Out-of-bag targets need the "
            f"forest's training rows in their original order (here {n_rows} rows)."
        )


def _check_row_count(ensemble, n_rows):
    largest = max(
        (int(np.max(s)) for s in ensemble.estimators_samples_ if len(s)), default=-1
    )
    if largest >= n_rows:
        raise RowMismatchError(
            f"The prefit {type(ensemble).__name__} was fitted on more rows than the "
            f"{n_rows} passed (it drew row {largest}). Out-of-bag targets need the "
            "ensemble's training rows in their original order."
        )


def _forest_oob_proba(forest, X):
    """Return the out-of-bag probability sums and the number of trees per row."""
    n_rows = X.shape[0]
    totals = np.zeros((n_rows, len(forest.classes_)))
    counts = np.zeros(n_rows)
    if (
        getattr(forest, "oob_decision_function_", None) is not None
        and len(forest.oob_decision_function_) == n_rows
    ):
        proba = np.asarray(forest.oob_decision_function_, dtype=np.float64)
        # scikit-learn leaves rows that were never out of bag at all zeros.
        counts = (proba.sum(axis=1) > 0).astype(np.float64)
        return proba, counts
    for tree, in_bag in zip(
        forest.estimators_, forest.estimators_samples_, strict=True
    ):
        out_of_bag = np.ones(n_rows, dtype=bool)
        out_of_bag[in_bag] = False
        rows = np.flatnonzero(out_of_bag)
        if len(rows):
            totals[rows] += tree.predict_proba(X[rows])
            counts[rows] += 1
    return totals, counts


def _bagging_oob_votes(bagging, X):
    n_rows = X.shape[0]
    totals = np.zeros((n_rows, len(bagging.classes_)))
    counts = np.zeros(n_rows)
    for member, features, in_bag in zip(
        bagging.estimators_,
        bagging.estimators_features_,
        bagging.estimators_samples_,
        strict=True,
    ):
        out_of_bag = np.ones(n_rows, dtype=bool)
        out_of_bag[in_bag] = False
        rows = np.flatnonzero(out_of_bag)
        if len(rows):
            totals[rows] += bagging_member_votes(
                member, X[rows][:, features], len(bagging.classes_)
            )
            counts[rows] += 1
    return totals, counts


def oob_logits(teacher, X, y=None, classes=None):
    """Compute out-of-bag soft-target logits for an ensemble's training rows.

    Each row is scored by the members whose bootstrap sample left it out. For a forest
    fitted with ``oob_score=True`` this is ``oob_decision_function_``. Otherwise the
    fitted ensemble regenerates its members' samples through its public
    ``estimators_samples_`` property (scikit-learn 1.4 or later for forests), so
    nothing is refitted.

    Parameters
    ----------
    teacher : fitted classifier
        A ``RandomForestClassifier`` or ``ExtraTreesClassifier`` fitted with
        ``bootstrap=True``, or a ``BaggingClassifier``, possibly inside a
        ``Pipeline`` or ``FrozenEstimator``.
    X : array-like of shape (n_samples, n_features)
        The rows the ensemble was fitted on, in the same order.
    y : array-like of shape (n_samples,), default=None
        Their labels. When given for a forest, ten trees check that their in-bag
        rows are these rows.
    classes : array-like of shape (n_classes,), default=None
        Class order of the columns; None keeps the teacher's ``classes_``.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes)
        :math:`\\log p` of the out-of-bag mean probability, clipped below at 1e-6.
        Members without ``predict_proba`` give vote fractions, smoothed by one uniform
        pseudo-voter. A row that no member left out gets the whole ensemble's
        logits (see :func:`teacher_logits`). With n bootstrap members that happens to
        a row with probability about ``0.632**n``: 1 % for 10 members.

    Raises
    ------
    ValueError
        If the teacher has no out-of-bag rows (``bootstrap=False``), or if ``X`` and
        ``y`` are evidently not the ensemble's training rows.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill.ensemble import oob_logits
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)
    >>> oob_logits(forest, X, y).shape
    (150, 3)
    """
    if not supports_oob(teacher):
        raise ValueError(
            f"The teacher {type(teacher).__name__} has no out-of-bag rows. Out-of-bag "
            "targets need a RandomForestClassifier or ExtraTreesClassifier with "
            "bootstrap=True, or a BaggingClassifier; use out-of-fold targets for "
            "other teachers."
        )
    ensemble, X_ensemble = unwrap_teacher(teacher, X)
    classes = np.asarray(ensemble.classes_ if classes is None else classes)
    n_rows = _num_samples(X_ensemble)
    _check_row_count(ensemble, n_rows)
    if isinstance(ensemble, BaggingClassifier):
        X_members = (
            sp.csr_matrix(X_ensemble)
            if sp.issparse(X_ensemble)
            else np.asarray(X_ensemble)
        )
        totals, counts = _bagging_oob_votes(ensemble, X_members)
    else:
        if sp.issparse(X_ensemble):
            # Trees read sparse rows as CSR float32, which also indexes by row.
            X_trees = sp.csr_matrix(X_ensemble, dtype=np.float32)
        else:
            X_trees = np.ascontiguousarray(X_ensemble, dtype=np.float32)
        if y is not None:
            _check_in_bag_rows(ensemble, X_trees, np.asarray(y))
        totals, counts = _forest_oob_proba(ensemble, X_trees)

    seen = counts > 0
    logits = np.empty((n_rows, len(ensemble.classes_)))
    fractions = totals[seen] / counts[seen, None]
    member = ensemble.estimators_[0]
    if isinstance(ensemble, BaggingClassifier) and not hasattr(member, "predict_proba"):
        logits[seen] = smoothed_vote_logits(fractions, counts[seen, None])
    else:
        logits[seen] = probability_logits(fractions)
    logits = align_columns(logits, ensemble.classes_, classes)
    unseen = np.flatnonzero(~seen)
    if len(unseen):
        logits[unseen] = teacher_logits(teacher, _safe_indexing(X, unseen), classes)
    return logits


def for_encoded_labels(estimator):
    """Wrap an XGBoost classifier in :class:`LabelEncodedClassifier`.

    XGBoost accepts only the labels 0..K-1, so any other labels, and folds that
    miss a class, would fail; other estimators are returned unchanged.
    """
    if boosting_library(_final_estimator(estimator)) == "xgboost" and not isinstance(
        estimator, LabelEncodedClassifier
    ):
        return LabelEncodedClassifier(estimator)
    return estimator


def _unfitted_copy(teacher):
    """Return an unfitted clone of ``teacher``, looking through FrozenEstimator."""
    if FrozenEstimator is not None and isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    if isinstance(teacher, LabelEncodedClassifier):
        return clone(teacher)
    return for_encoded_labels(clone(teacher))


def _seed_unset_random_states(estimator, rng):
    params = estimator.get_params(deep=True)
    names = sorted(
        name
        for name, value in params.items()
        if (name == "random_state" or name.endswith("__random_state")) and value is None
    )
    if names:
        estimator.set_params(
            **{name: int(rng.randint(np.iinfo(np.int32).max)) for name in names}
        )
    return estimator


def _splits(cv, X, y, random_state):
    if isinstance(cv, numbers.Integral):
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        splitter = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=seed)
    else:
        splitter = check_cv(cv, y, classifier=True)
    folds = list(splitter.split(X, y))
    counts = np.bincount(np.concatenate([test for _, test in folds]), minlength=len(y))
    if not np.all(counts == 1):
        raise ValueError(
            f"cv={cv!r} must put every row in exactly one test fold for out-of-fold "
            f"targets, but {int(np.sum(counts != 1))} of {len(y)} rows are in none "
            "or several. Use an int or a KFold-like splitter."
        )
    return folds


def oof_logits(
    teacher, X, y, classes=None, *, cv=5, sample_weight=None, random_state=None
):
    """Compute out-of-fold soft-target logits for the training rows.

    The rows are split into folds. For each fold, a clone of the teacher is fitted on
    the other folds and gives the logits of that fold's rows, as
    ``StackingClassifier`` does for the inputs of its final estimator. The teacher
    passed in is never fitted or changed.

    Parameters
    ----------
    teacher : classifier
        Fitted or not: only its parameters are used. A ``FrozenEstimator``'s inner
        estimator is cloned, and an XGBoost classifier is wrapped in
        :class:`LabelEncodedClassifier`.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    classes : array-like of shape (n_classes,), default=None
        Class order of the columns; None uses the sorted labels of ``y``. A class
        missing from a fold's training rows gets a logit far below the others for
        the rows of that fold.
    cv : int, cross-validation splitter or iterable, default=5
        An int k gives a shuffled ``StratifiedKFold`` with k folds, seeded from
        ``random_state``. Anything else is passed to
        :func:`sklearn.model_selection.check_cv`, and its splits must put every row in
        exactly one test fold.
    sample_weight : array-like of shape (n_samples,), default=None
        Passed, row-selected, to each clone's ``fit`` when it accepts it.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold split and every ``random_state`` parameter of the clones that
        is left at None.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes)

    Raises
    ------
    ValueError
        If the splits do not put every row in exactly one test fold.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from skdistill.ensemble import oof_logits
    >>> X, y = load_iris(return_X_y=True)
    >>> oof_logits(HistGradientBoostingClassifier(max_iter=10), X, y, cv=3).shape
    (150, 3)
    """
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    rng = check_random_state(random_state)
    folds = _splits(cv, X, y, rng)
    template = _seed_unset_random_states(_unfitted_copy(teacher), rng)
    weighted = sample_weight is not None and has_fit_parameter(
        template, "sample_weight"
    )
    logits = np.empty((len(y), len(classes)))
    for train, test in folds:
        model = clone(template)
        X_train = _safe_indexing(X, train)
        if weighted:
            model.fit(X_train, y[train], sample_weight=np.asarray(sample_weight)[train])
        else:
            model.fit(X_train, y[train])
        logits[test] = teacher_logits(model, _safe_indexing(X, test), classes)
    return logits


def resolve_target_method(teacher, method="auto", *, prefit=False):
    """Return the concrete target method ``"auto"`` stands for with this teacher.

    Parameters
    ----------
    teacher : classifier
    method : {"auto", "in-sample", "oob", "oof"}, default="auto"
        Anything but ``"auto"`` is returned unchanged.
    prefit : bool, default=False
        Whether the teacher came fitted. ``"auto"`` never picks ``"oof"`` for a
        prefit teacher, because that would fit clones of it; a prefit teacher keeps
        what its fitting may have used (other rows, early stopping on a validation
        set) that clones fitted on ``X`` would not reproduce.

    Returns
    -------
    method : {"in-sample", "oob", "oof"}

    Notes
    -----
    ``"auto"`` follows the benchmark of ``docs/teachers.md`` (five data sets, three
    seeds). It picks ``"oof"`` for a forest without bootstrap (such as
    ``ExtraTreesClassifier`` by default) that the estimator fits: its in-sample
    outputs are the labels themselves, and out-of-fold targets gave students 1.3
    points more test accuracy on average. Every other teacher, and a prefit forest
    without bootstrap, gets ``"in-sample"``. For random forests, in-sample,
    out-of-bag and out-of-fold targets gave the same accuracy within the spread
    over seeds. For boosting, voting and stacking teachers, out-of-fold targets were
    0.2 to 0.9 points worse on average and cost five more teacher fits.

    Examples
    --------
    >>> from sklearn.ensemble import ExtraTreesClassifier
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill.ensemble import resolve_target_method
    >>> resolve_target_method(RandomForestClassifier())
    'in-sample'
    >>> resolve_target_method(ExtraTreesClassifier())
    'oof'
    >>> resolve_target_method(HistGradientBoostingClassifier())
    'in-sample'
    """
    if method not in TARGET_METHODS:
        raise ValueError(
            f"teacher_targets={method!r} is not valid. Use one of "
            f"{', '.join(repr(m) for m in TARGET_METHODS)}."
        )
    if method != "auto":
        return method
    if _memorises_training_rows(teacher) and not prefit:
        return "oof"
    return "in-sample"


def _memorises_training_rows(teacher):
    """Return whether the teacher's in-sample outputs are its training labels.

    A forest without bootstrap fits every tree on all rows, so fully grown trees
    put each training row in a pure leaf and the in-sample targets carry nothing
    beyond the labels.
    """
    ensemble = _final_estimator(teacher)
    return (
        isinstance(ensemble, RandomForestClassifier | ExtraTreesClassifier)
        and not ensemble.bootstrap
    )


def training_logits(
    teacher,
    X,
    y,
    *,
    classes=None,
    sample_weight=None,
    method="auto",
    cv=5,
    prefit=False,
    random_state=None,
    verbose=0,
):
    """Compute the soft-target logits of a fitted teacher for its own training rows.

    Parameters
    ----------
    teacher : fitted classifier
        The teacher, fitted on ``(X, y)`` (or on other rows when ``prefit``).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    classes : array-like of shape (n_classes,), default=None
        Class order of the columns; None keeps the teacher's ``classes_``.
    sample_weight : array-like of shape (n_samples,), default=None
        Passed to the clones fitted for out-of-fold targets.
    method : {"auto", "in-sample", "oob", "oof"}, default="auto"
        ``"in-sample"``: the teacher's outputs on the rows (:func:`teacher_logits`).
        ``"oob"``: out-of-bag outputs (:func:`oob_logits`). ``"oof"``: out-of-fold
        outputs of clones (:func:`oof_logits`). ``"auto"``: see
        :func:`resolve_target_method`.
    cv : int, cross-validation splitter or iterable, default=5
        Folds for ``"oof"``.
    prefit : bool, default=False
        Whether the teacher came fitted; only ``"auto"`` reads it.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the clones of ``"oof"``.
    verbose : int, default=0
        Passed to :func:`teacher_logits` for in-sample targets.

    Returns
    -------
    result : TrainingLogits
        Named tuple ``(logits, method)`` with ``"auto"`` resolved.

    Raises
    ------
    ValueError
        If ``method`` is unknown, or ``"oob"`` is asked of a teacher without
        out-of-bag rows or of rows the ensemble was not fitted on.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill.ensemble import training_logits
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)
    >>> result = training_logits(forest, X, y, method="oob")
    >>> result.method, result.logits.shape
    ('oob', (150, 3))
    """
    resolved = resolve_target_method(teacher, method, prefit=prefit)
    classes = np.asarray(teacher.classes_ if classes is None else classes)
    if resolved == "oob":
        return TrainingLogits(oob_logits(teacher, X, y, classes), "oob")
    if resolved == "oof":
        logits = oof_logits(
            teacher,
            X,
            y,
            classes,
            cv=cv,
            sample_weight=sample_weight,
            random_state=random_state,
        )
        return TrainingLogits(logits, "oof")
    return TrainingLogits(
        teacher_logits(teacher, X, classes, verbose=verbose), "in-sample"
    )
