"""Soft-target logits from any fitted scikit-learn classifier."""

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from .._progress import progress

# Probabilities are clipped to this floor before the logarithm, so a class that the
# teacher gives probability 0 gets a finite logit of about -13.8 instead of -inf.
PROBABILITY_FLOOR = 1e-6

# Rows per call to the teacher, which bounds the memory of its intermediate results.
DEFAULT_CHUNK_SIZE = 65_536


def _raw_teacher_logits(teacher, X):
    """Return logits in the teacher's own class order, with that order."""
    classes = np.asarray(teacher.classes_)
    if hasattr(teacher, "decision_function"):
        scores = np.asarray(teacher.decision_function(X), dtype=np.float64)
        if scores.ndim == 1:
            # Binary decision values are the log-odds of classes_[1] up to scale, and
            # softmax([0, d]) == sigmoid(d).
            scores = np.column_stack([np.zeros_like(scores), scores])
        return scores, classes
    if hasattr(teacher, "predict_proba"):
        proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
        return np.log(np.clip(proba, PROBABILITY_FLOOR, None)), classes
    raise TypeError(
        f"The teacher {type(teacher).__name__} has neither predict_proba nor "
        "decision_function, so it gives no soft targets. A hard-voting "
        "VotingClassifier can be used with voting='soft' instead."
    )


def _align_columns(logits, teacher_classes, classes, teacher_name):
    """Reorder teacher columns into ``classes`` order, filling absent classes low."""
    if len(teacher_classes) == len(classes) and np.array_equal(
        teacher_classes, classes
    ):
        return logits
    position = {label: j for j, label in enumerate(classes)}
    unknown = [label for label in teacher_classes if label not in position]
    if unknown:
        unknown = np.asarray(unknown).tolist()
        raise ValueError(
            f"The teacher {teacher_name} predicts classes {unknown} that are not "
            f"among the classes {np.asarray(classes).tolist()} of the training "
            "labels. Pass a teacher whose classes_ are among them, or fit it on "
            "these labels."
        )
    # A class the teacher never saw gets a logit far below every other in its row,
    # which is the same as a probability of about PROBABILITY_FLOOR.
    floor = logits.min(axis=1, keepdims=True) + np.log(PROBABILITY_FLOOR)
    aligned = np.repeat(floor, len(classes), axis=1)
    for j, label in enumerate(teacher_classes):
        aligned[:, position[label]] = logits[:, j]
    return aligned


def teacher_logits(
    teacher, X, classes=None, *, chunk_size=DEFAULT_CHUNK_SIZE, verbose=0
):
    """Compute the soft-target logits of a fitted classifier.

    Parameters
    ----------
    teacher : fitted classifier
        Any fitted scikit-learn classifier or ``Pipeline`` ending in one, with
        ``classes_`` and ``decision_function`` or ``predict_proba``.
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
        Decision values when the teacher has ``decision_function`` (boosting, linear
        models, stacking with a linear final estimator); otherwise the logarithm of
        ``predict_proba`` clipped below at 1e-6 (forests, soft voting).

    Raises
    ------
    TypeError
        If the teacher has neither ``decision_function`` nor ``predict_proba``.
    ValueError
        If the teacher predicts a class outside ``classes``, or returns NaN or
        infinite values.

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
        logits, raw_classes = _raw_teacher_logits(teacher, _safe_indexing(X, rows))
        if not np.all(np.isfinite(logits)):
            raise ValueError(
                f"The teacher {type(teacher).__name__} returned NaN or infinite "
                "outputs, which cannot serve as soft targets. Check the teacher on "
                "these rows, or impute the inputs it cannot handle."
            )
        out[rows] = _align_columns(logits, raw_classes, classes, type(teacher).__name__)
    return out
