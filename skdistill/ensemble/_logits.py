"""Soft-target logits of every kind of fitted classifier.

Each kind of teacher has its own reader that turns its outputs into logits, columns in
the teacher's ``classes_`` order:

- decision values of gradient boosting, histogram gradient boosting and any other
  classifier with ``decision_function`` (linear models, stacking with a linear final
  estimator);
- AdaBoost's decision values before scikit-learn divides them by the total estimator
  weight;
- the raw margins of XGBoost, LightGBM and CatBoost;
- vote fractions, smoothed, for hard voting and for bagging of members without
  ``predict_proba``;
- the logarithm of ``predict_proba`` otherwise (forests, bagging, soft voting).

A ``Pipeline`` is read through its final step, and a ``FrozenEstimator`` through the
estimator it wraps, so that each gets the reader of its kind.
"""

import numpy as np
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_array
from sklearn.utils.validation import _num_samples

from .._progress import progress

try:
    from sklearn.frozen import FrozenEstimator
except ImportError:  # pragma: no cover - scikit-learn < 1.6
    FrozenEstimator = None

# Probabilities are clipped to this floor before the logarithm, so a class that the
# teacher gives probability 0 gets a finite logit of about -13.8 instead of -inf.
PROBABILITY_FLOOR = 1e-6

# Vote fractions are smoothed as if one more member voted for every class equally,
# so a class no member votes for keeps a small, non-zero probability.
VOTE_PSEUDO_COUNT = 1.0

# Rows per call to the teacher, which bounds the memory of its intermediate results.
DEFAULT_CHUNK_SIZE = 65_536

# The gradient boosting libraries whose scikit-learn wrappers give raw margins through
# an argument of predict (checked with xgboost 3.2, lightgbm 4.7 and catboost 1.2).
_RAW_MARGIN_ARGUMENTS = {
    "xgboost": {"output_margin": True},
    "lightgbm": {"raw_score": True},
    "catboost": {"prediction_type": "RawFormulaVal"},
}


def boosting_library(estimator):
    """Return "xgboost", "lightgbm" or "catboost" for their classifiers, else None."""
    library = type(estimator).__module__.split(".")[0]
    return library if library in _RAW_MARGIN_ARGUMENTS else None


def unwrap_teacher(teacher, X):
    """Return the estimator that gives ``teacher``'s outputs and its input rows.

    A ``FrozenEstimator`` is replaced by the estimator it wraps and a ``Pipeline`` by
    its final step, with ``X`` passed through the steps before it.
    """
    while True:
        if FrozenEstimator is not None and isinstance(teacher, FrozenEstimator):
            teacher = teacher.estimator
        elif isinstance(teacher, Pipeline) and len(teacher.steps) > 1:
            X = teacher[:-1].transform(X)
            teacher = teacher.steps[-1][1]
        elif isinstance(teacher, Pipeline):
            teacher = teacher.steps[-1][1]
        else:
            return teacher, X


def gives_soft_targets(teacher):
    """Return whether ``teacher`` is a kind :func:`teacher_logits` can read.

    True for classifiers with ``predict_proba`` or ``decision_function``, hard-voting
    ensembles, bagging of members without ``predict_proba`` and the gradient boosting
    libraries, also inside a ``Pipeline`` or ``FrozenEstimator``. The teacher may be
    fitted or not.

    Examples
    --------
    >>> from sklearn.ensemble import VotingClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdistill.ensemble import gives_soft_targets
    >>> hard = VotingClassifier([("lr", LogisticRegression())], voting="hard")
    >>> gives_soft_targets(hard), gives_soft_targets(StandardScaler())
    (True, False)
    """
    if hasattr(teacher, "predict_proba") or hasattr(teacher, "decision_function"):
        return True
    while True:
        if FrozenEstimator is not None and isinstance(teacher, FrozenEstimator):
            teacher = teacher.estimator
        elif isinstance(teacher, Pipeline):
            teacher = teacher.steps[-1][1]
        else:
            break
    if isinstance(teacher, VotingClassifier):
        return teacher.voting == "hard"
    if isinstance(teacher, StackingClassifier) and teacher.final_estimator is None:
        # Stacking fits a LogisticRegression as the final estimator by default.
        return True
    return (
        hasattr(teacher, "predict_proba")
        or hasattr(teacher, "decision_function")
        or boosting_library(teacher) is not None
    )


def probability_logits(proba):
    """Return ``log(proba)`` with probabilities clipped below at the floor."""
    return np.log(np.clip(np.asarray(proba, dtype=np.float64), PROBABILITY_FLOOR, None))


def smoothed_vote_logits(fractions, n_voters):
    """Return logits of vote fractions smoothed by one uniform pseudo-voter.

    Parameters
    ----------
    fractions : ndarray of shape (n_samples, n_classes)
        Weighted share of the voters that predict each class; rows sum to one.
    n_voters : int
        Number of voters, which sets how much the pseudo-voter shifts the fractions:
        ``(n_voters * fraction + 1 / n_classes) / (n_voters + 1)``.
    """
    n_classes = fractions.shape[1]
    smoothed = (n_voters * fractions + VOTE_PSEUDO_COUNT / n_classes) / (
        n_voters + VOTE_PSEUDO_COUNT
    )
    return np.log(smoothed)


def binary_to_two_columns(scores):
    """Expand binary decision values to two logit columns.

    Binary decision values are the log-odds of ``classes_[1]`` up to scale, and
    ``softmax([0, d]) == sigmoid(d)``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        return np.column_stack([np.zeros_like(scores), scores])
    return scores


def _adaboost_logits(teacher, X):
    # scikit-learn's predict_proba applies softmax(f / (K - 1)), after Zhu et al.
    # (2009), to a decision that it first divides by the sum of the estimator
    # weights. That division bounds the decision in [-1, 1], so with ten classes
    # every probability sits near 0.1. Undoing it restores the additive model's
    # own scale, which separates confident rows from doubtful ones.
    decision = np.asarray(teacher.decision_function(X), dtype=np.float64)
    decision = decision * float(np.sum(teacher.estimator_weights_))
    n_classes = len(teacher.classes_)
    if n_classes == 2:
        return np.column_stack([-decision, decision]) / 2
    return decision / (n_classes - 1)


def _hard_voting_logits(teacher, X):
    votes = np.asarray(teacher.transform(X))
    n_classes = len(teacher.classes_)
    members = [est for _, est in teacher.estimators if est != "drop"]
    if teacher.weights is None:
        weights = np.ones(len(members))
    else:
        weights = np.asarray(
            [
                w
                for (_, est), w in zip(teacher.estimators, teacher.weights, strict=True)
                if est != "drop"
            ],
            dtype=np.float64,
        )
    # The members were fitted on labels encoded as 0..K-1, so their votes index
    # teacher.classes_ directly.
    fractions = np.zeros((votes.shape[0], n_classes))
    for j, weight in enumerate(weights):
        fractions[np.arange(votes.shape[0]), votes[:, j]] += weight
    fractions /= weights.sum()
    return smoothed_vote_logits(fractions, len(members))


def bagging_member_votes(member, X, n_classes):
    """Return one bagging member's class probabilities, or its one-hot vote.

    Bagging fits its members on labels encoded as 0..K-1, and a member whose
    bootstrap sample missed a class has fewer columns, indexed by its ``classes_``.
    """
    out = np.zeros((_num_samples(X), n_classes))
    member_classes = np.asarray(member.classes_)
    if hasattr(member, "predict_proba"):
        out[:, member_classes] = member.predict_proba(X)
    else:
        out[np.arange(len(out)), np.asarray(member.predict(X), dtype=np.intp)] = 1.0
    return out


def _bagging_vote_logits(teacher, X):
    X = check_array(X, accept_sparse="csr", dtype=None)
    n_classes = len(teacher.classes_)
    fractions = np.zeros((X.shape[0], n_classes))
    for member, features in zip(
        teacher.estimators_, teacher.estimators_features_, strict=True
    ):
        fractions += bagging_member_votes(member, X[:, features], n_classes)
    fractions /= len(teacher.estimators_)
    return smoothed_vote_logits(fractions, len(teacher.estimators_))


def _raw_margin_logits(teacher, X):
    arguments = _RAW_MARGIN_ARGUMENTS[boosting_library(teacher)]
    return binary_to_two_columns(teacher.predict(X, **arguments))


def _bagging_without_proba(teacher):
    member = teacher.estimators_[0] if teacher.estimators_ else None
    return member is not None and not hasattr(member, "predict_proba")


def raw_teacher_logits(teacher, X):
    """Return logits of a fitted teacher for ``X``, with their class order.

    The columns follow the ``classes_`` of the estimator that produced them, which
    is returned as the second value.
    """
    classes = np.asarray(teacher.classes_)
    estimator, X = unwrap_teacher(teacher, X)
    if hasattr(estimator, "_skdistill_logits"):
        return estimator._skdistill_logits(X), classes
    if isinstance(estimator, AdaBoostClassifier):
        return _adaboost_logits(estimator, X), classes
    if isinstance(estimator, VotingClassifier) and estimator.voting == "hard":
        return _hard_voting_logits(estimator, X), classes
    if isinstance(estimator, BaggingClassifier) and _bagging_without_proba(estimator):
        return _bagging_vote_logits(estimator, X), classes
    if boosting_library(estimator) is not None:
        return _raw_margin_logits(estimator, X), np.asarray(estimator.classes_)
    if hasattr(estimator, "decision_function"):
        decision = np.asarray(estimator.decision_function(X))
        # One column per class, or one column for two classes. Other shapes, such
        # as SVC's one-versus-one scores, are not logits of the classes.
        one_versus_one = getattr(estimator, "decision_function_shape", None) == "ovo"
        if decision.ndim == 1 or (
            decision.shape[1] == len(classes) and not one_versus_one
        ):
            return binary_to_two_columns(decision), classes
        if not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"The teacher {type(teacher).__name__} returns one-versus-one "
                f"decision_function scores ({decision.shape[1]} columns for "
                f"{len(classes)} classes), which are not per-class logits. Use "
                "decision_function_shape='ovr' or a teacher with predict_proba."
            )
    if hasattr(estimator, "predict_proba"):
        return probability_logits(estimator.predict_proba(X)), classes
    raise TypeError(
        f"The teacher {type(teacher).__name__} has neither predict_proba nor "
        "decision_function, so it gives no soft targets. Use a classifier with one "
        "of them."
    )


def align_columns(logits, teacher_classes, classes, teacher_name="teacher"):
    """Reorder logit columns into ``classes`` order, filling absent classes low.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, len(teacher_classes))
    teacher_classes : ndarray
        Class of each column of ``logits``.
    classes : ndarray
        Requested class order. A class absent from ``teacher_classes`` gets a logit
        ``log(PROBABILITY_FLOOR)`` below the row's lowest, as if its probability were
        about ``PROBABILITY_FLOOR``.
    teacher_name : str, default="teacher"
        Name of the teacher in the error message.

    Raises
    ------
    ValueError
        If ``teacher_classes`` contains a class outside ``classes``.
    """
    teacher_classes = np.asarray(teacher_classes)
    classes = np.asarray(classes)
    if len(teacher_classes) == len(classes) and np.array_equal(
        teacher_classes, classes
    ):
        return logits
    position = {label: j for j, label in enumerate(classes.tolist())}
    unknown = [label for label in teacher_classes.tolist() if label not in position]
    if unknown:
        raise ValueError(
            f"The teacher {teacher_name} predicts classes {unknown} that are not "
            f"among the classes {classes.tolist()} of the training labels. Pass a "
            "teacher whose classes_ are among them, or fit it on these labels."
        )
    floor = logits.min(axis=1, keepdims=True) + np.log(PROBABILITY_FLOOR)
    aligned = np.repeat(floor, len(classes), axis=1)
    for j, label in enumerate(teacher_classes.tolist()):
        aligned[:, position[label]] = logits[:, j]
    return aligned


def check_finite_logits(logits, teacher):
    """Raise if ``logits`` contains NaN or infinity."""
    if not np.all(np.isfinite(logits)):
        raise ValueError(
            f"The teacher {type(teacher).__name__} returned NaN or infinite "
            "outputs, which cannot serve as soft targets. Check the teacher on "
            "these rows, or impute the inputs it cannot handle."
        )


def teacher_logits(
    teacher, X, classes=None, *, chunk_size=DEFAULT_CHUNK_SIZE, verbose=0
):
    """Compute the soft-target logits of a fitted classifier.

    Parameters
    ----------
    teacher : fitted classifier
        Any fitted scikit-learn classifier or ``Pipeline`` ending in one, with
        ``classes_`` and ``decision_function`` or ``predict_proba``; a hard-voting
        ``VotingClassifier``; an XGBoost, LightGBM or CatBoost classifier; or a
        fitted :class:`AveragingClassifier` of several models.
    X : array-like of shape (n_samples, n_features)
        Rows to score, in the form the teacher was fitted on (a DataFrame stays one).
    classes : array-like of shape (n_classes,), default=None
        Class order of the returned columns. It must contain every class of the
        teacher; a class the teacher does not know gets a very low logit. None keeps
        the teacher's ``classes_``.
    chunk_size : int, default=65536
        Rows per call to the teacher.
    verbose : int, default=0
        From 1 on, shows a progress bar over the chunks on standard error when there
        is more than one chunk.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes), float64
        One row of logits per row of ``X``; see Notes for what each kind of teacher
        gives.

    Raises
    ------
    TypeError
        If the teacher has neither ``decision_function`` nor ``predict_proba`` and is
        not a hard-voting ensemble.
    ValueError
        If the teacher predicts a class outside ``classes``, or returns NaN or
        infinite values.

    See Also
    --------
    training_logits : Logits for the teacher's own training rows, out of bag or
        out of fold.

    Notes
    -----
    The logits of each kind of teacher:

    - ``GradientBoostingClassifier``, ``HistGradientBoostingClassifier`` and any
      classifier with ``decision_function``: the decision values. Binary decision
      values :math:`d` become the two columns :math:`(0, d)`.
    - ``AdaBoostClassifier``: the decision values multiplied by the sum of the
      estimator weights, then scaled as scikit-learn's ``predict_proba`` scales them
      (by :math:`1/(K-1)`, or :math:`\\pm 1/2` for two classes). scikit-learn's own
      probabilities come from the decision divided by that sum, which squashes them
      towards uniform.
    - XGBoost, LightGBM and CatBoost: the raw margins (``output_margin=True``,
      ``raw_score=True``, ``prediction_type="RawFormulaVal"``).
    - ``VotingClassifier(voting="hard")``: the weighted fraction :math:`f_k` of
      members that vote for class :math:`k`, smoothed by one uniform pseudo-voter,
      :math:`\\log((m f_k + 1/K) / (m + 1))` for :math:`m` members.
    - ``BaggingClassifier`` whose members lack ``predict_proba``: the members' vote
      fractions, smoothed in the same way.
    - Everything else (forests, bagging, soft voting, stacking with a final estimator
      without ``decision_function``): :math:`\\log p` with ``predict_proba`` clipped
      below at 1e-6.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill.ensemble import teacher_logits
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    >>> teacher_logits(forest, X[:2]).shape
    (2, 3)
    """
    teacher_classes = np.asarray(teacher.classes_)
    classes = teacher_classes if classes is None else np.asarray(classes)
    n_rows = _num_samples(X)
    out = np.empty((n_rows, len(classes)), dtype=np.float64)
    starts = range(0, n_rows, chunk_size)
    for start in progress(starts, desc="soft targets", unit="chunk", verbose=verbose):
        rows = np.arange(start, min(start + chunk_size, n_rows))
        logits, raw_classes = raw_teacher_logits(teacher, _safe_indexing(X, rows))
        check_finite_logits(logits, teacher)
        out[rows] = align_columns(logits, raw_classes, classes, type(teacher).__name__)
    return out
