"""Rows the teacher labels beyond the training rows: unlabelled and transfer rows.

Two kinds of rows reach the student with the teacher's soft targets and no label.
The first are unlabelled rows passed to ``fit`` as ``X_unlabeled``. The second are
synthetic transfer rows that MUNGE or gaussian noise make from the training rows
(Bucilua, Caruana and Niculescu-Mizil, "Model Compression", KDD 2006). The loss
functions read a label of -1 (classes) or NaN (regression targets) as "no label", so
only the soft-target term and the feature term see these rows.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from ._augment import iter_transfer_chunks
from ._validation import standardised_float32

TRANSFER_CONSTRAINTS = {
    "augment": [StrOptions({"munge", "gaussian"}), None],
    "augment_factor": [Interval(numbers.Real, 0, None, closed="neither")],
    "munge_swap_probability": [Interval(numbers.Real, 0, 1, closed="both")],
    "munge_local_variance": [Interval(numbers.Real, 0, None, closed="neither")],
    "gaussian_scale": [Interval(numbers.Real, 0, None, closed="left")],
    "categorical_features": ["array-like", None],
}

# Rows generated and labelled by the teacher at once. It bounds the float64
# temporaries of the generator and the teacher's intermediate results; only the
# float32 copies the student trains on are kept.
LABEL_CHUNK_SIZE = 10_000


def as_teacher_input(rows, X_like):
    """Give generated rows the form of the data the teacher was fitted on.

    A teacher fitted on a pandas DataFrame gets a DataFrame with the same column
    names, so that it neither warns about missing feature names nor reorders columns.
    """
    if type(X_like).__module__.split(".")[0] == "pandas" and hasattr(X_like, "columns"):
        # NOTE: the columns are float64 whatever their dtype in X, so a teacher
        # pipeline that encodes integer or categorical columns sees float values.
        return type(X_like)(rows, columns=X_like.columns)
    return rows


def validate_unlabeled(estimator, X_unlabeled, X):
    """Check ``X_unlabeled`` against ``X``.

    Returns
    -------
    X_student : ndarray or sparse matrix of shape (n_unlabeled, n_features) or None
        The rows as float64, for the student.
    X_teacher : array-like or None
        The rows in the form the teacher reads: a DataFrame when ``X`` is one.
    """
    if X_unlabeled is None:
        return None, None
    X_student = check_array(
        X_unlabeled,
        accept_sparse="csr",
        dtype=np.float64,
        ensure_all_finite=True,
        input_name="X_unlabeled",
        estimator=estimator,
    )
    n_features = estimator.n_features_in_
    if X_student.shape[1] != n_features:
        raise ValueError(
            f"X_unlabeled has {X_student.shape[1]} features, but X has {n_features}. "
            "Pass unlabelled rows with the same columns as X."
        )
    if not hasattr(X, "columns"):
        return X_student, X_student
    if hasattr(X_unlabeled, "columns"):
        if list(X_unlabeled.columns) != list(X.columns):
            raise ValueError(
                f"X_unlabeled has the columns {list(X_unlabeled.columns)}, but X has "
                f"{list(X.columns)}. Pass unlabelled rows with the columns of X, in "
                "the same order."
            )
        return X_student, X_unlabeled
    return X_student, as_teacher_input(X_student, X)


def check_augment_input(estimator, X, X_unlabeled):
    """Raise before any fitting if transfer rows cannot be made from the rows."""
    if estimator.augment is None:
        return
    for name, rows in (("X", X), ("X_unlabeled", X_unlabeled)):
        if sp.issparse(rows):
            raise ValueError(
                f"augment={estimator.augment!r} makes transfer rows from dense data, "
                f"but {name} is a sparse matrix. Pass {name}.toarray(), or set "
                "augment=None."
            )


def transfer_chunks(estimator, X_source, random_state):
    """Yield the estimator's synthetic transfer rows in chunks; none without augment."""
    if estimator.augment is None:
        return iter(())
    if estimator.augment == "munge":
        method_params = {
            "swap_probability": estimator.munge_swap_probability,
            "local_variance": estimator.munge_local_variance,
        }
    else:
        method_params = {"scale": estimator.gaussian_scale}
    return iter_transfer_chunks(
        X_source,
        estimator.augment,
        size_factor=estimator.augment_factor,
        categorical_features=estimator.categorical_features,
        random_state=random_state,
        chunk_size=LABEL_CHUNK_SIZE,
        **method_params,
    )


class TeacherLabelledRows:
    """Extra training rows, standardised for the student and labelled by the teacher.

    Parameters
    ----------
    label : callable
        ``label(X_teacher_rows) -> ndarray`` of the teacher's soft targets.
    input_mean, input_scale : ndarray of shape (n_features,)
        The student's input standardisation.
    X_like : array-like
        The training data, whose form (array or DataFrame) generated rows take
        before they reach the teacher.
    features : callable, default=None
        ``features(X_teacher_rows) -> ndarray`` of the teacher's representation, for
        feature distillation.
    """

    def __init__(self, label, input_mean, input_scale, X_like, features=None):
        self.label = label
        self.input_mean = input_mean
        self.input_scale = input_scale
        self.X_like = X_like
        self.features = features
        self.columns = {"X": [], "target": [], "feature": []}

    def add(self, X_rows, X_teacher_rows=None):
        """Label rows given as float64 student input, in chunks."""
        for batch in gen_batches(X_rows.shape[0], LABEL_CHUNK_SIZE):
            chunk = X_rows[batch]
            if X_teacher_rows is None:
                teacher_chunk = as_teacher_input(chunk, self.X_like)
            else:
                teacher_chunk = _safe_indexing(X_teacher_rows, batch)
            self.columns["X"].append(
                standardised_float32(chunk, self.input_mean, self.input_scale)
            )
            self.columns["target"].append(
                np.asarray(self.label(teacher_chunk), dtype=np.float32)
            )
            if self.features is not None:
                self.columns["feature"].append(self.features(teacher_chunk))

    def __len__(self):
        return sum(len(chunk) for chunk in self.columns["X"])

    def arrays(self):
        """Return the stacked columns; ``"feature"`` only with a representation."""
        arrays = {
            name: np.concatenate(chunks)
            for name, chunks in self.columns.items()
            if chunks
        }
        return arrays
