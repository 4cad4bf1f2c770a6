"""Scores that compare a student with its teacher."""

import numpy as np
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.validation import _check_sample_weight


def fidelity_score(teacher_pred, student_pred, *, sample_weight=None):
    """Compute the fraction of rows on which the student predicts the teacher's label.

    Fidelity measures imitation rather than correctness: a student can have high
    accuracy and low fidelity when it corrects the teacher's mistakes, or the reverse.

    Parameters
    ----------
    teacher_pred : array-like of shape (n_samples,)
        Labels predicted by the teacher.
    student_pred : array-like of shape (n_samples,)
        Labels predicted by the student.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    fidelity : float
        Weighted share of agreeing rows, in [0, 1].

    Examples
    --------
    >>> from skdistill.metrics import fidelity_score
    >>> fidelity_score(["a", "b", "b", "c"], ["a", "b", "c", "c"])
    0.75
    """
    teacher_pred = column_or_1d(teacher_pred)
    student_pred = column_or_1d(student_pred)
    check_consistent_length(teacher_pred, student_pred, sample_weight)
    if len(teacher_pred) == 0:
        raise ValueError("fidelity_score needs at least one prediction; got none.")
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, teacher_pred, ensure_non_negative=True
        )
    return float(np.average(teacher_pred == student_pred, weights=sample_weight))
