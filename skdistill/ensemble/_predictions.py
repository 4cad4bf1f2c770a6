"""Soft targets of a fitted regressor: its predictions, in row chunks."""

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from ._logits import DEFAULT_CHUNK_SIZE


def teacher_predictions(teacher, X, n_outputs=None, *, chunk_size=DEFAULT_CHUNK_SIZE):
    """Compute a fitted regressor's predictions as a 2-D float array.

    Parameters
    ----------
    teacher : fitted regressor
        Any fitted scikit-learn regressor, or a ``Pipeline`` ending in one.
    X : array-like of shape (n_samples, n_features)
        Rows to predict, in the form the teacher was fitted on (a DataFrame stays
        one).
    n_outputs : int, default=None
        Number of outputs the caller expects. None accepts whatever the teacher
        returns.
    chunk_size : int, default=65536
        Rows per call to ``teacher.predict``.

    Returns
    -------
    predictions : ndarray of shape (n_samples, n_outputs), float64
        One column per output, also for a single output.

    Raises
    ------
    ValueError
        If the teacher returns NaN or infinite values, a number of rows other than
        the rows of ``X``, or a number of outputs other than ``n_outputs``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skdistill.ensemble import teacher_predictions
    >>> X, y = load_diabetes(return_X_y=True)
    >>> forest = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    >>> teacher_predictions(forest, X[:3]).shape
    (3, 1)
    """
    name = type(teacher).__name__
    n_rows = _num_samples(X)
    chunks = []
    for start in range(0, n_rows, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n_rows))
        predicted = np.asarray(
            teacher.predict(_safe_indexing(X, rows)), dtype=np.float64
        )
        if predicted.shape[0] != len(rows) or predicted.ndim > 2:
            raise ValueError(
                f"The teacher {name} returned predictions of shape "
                f"{predicted.shape} for {len(rows)} rows; a regressor must return "
                "one value or one row of outputs per input row."
            )
        predicted = predicted.reshape(len(rows), -1)
        if n_outputs is not None and predicted.shape[1] != n_outputs:
            raise ValueError(
                f"The teacher {name} predicts {predicted.shape[1]} outputs, but y "
                f"has {n_outputs}. Fit the teacher on targets with the same outputs "
                "as y, or pass an unfitted teacher."
            )
        if not np.all(np.isfinite(predicted)):
            raise ValueError(
                f"The teacher {name} returned NaN or infinite predictions, which "
                "cannot serve as soft targets. Check the teacher on these rows, or "
                "impute the inputs it cannot handle."
            )
        chunks.append(predicted)
    if not chunks:
        return np.empty((0, n_outputs or 1))
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
