"""Input checks that give a specific error where scikit-learn's would be generic.

scikit-learn's ``validate_data`` rejects a string column with "could not convert string
to float" and a two-column ``y`` with its shape, without naming the column or the fix.
These checks run first and name both.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier

# Values densified at once when a sparse X is standardised or predicted in row chunks:
# 2**24 float64 values are 128 MiB, whatever the number of columns.
SPARSE_CHUNK_VALUES = 2**24

_ENCODER_HINT = (
    "The student reads numbers only, so encode such columns before distilling, for "
    "example with make_pipeline(ColumnTransformer([('encode', OneHotEncoder(), "
    "columns)], remainder='passthrough'), model); OrdinalEncoder suits tree teachers."
)


def _format_columns(names_and_dtypes, limit=5):
    shown = [f"{name!r} ({dtype})" for name, dtype in names_and_dtypes[:limit]]
    more = len(names_and_dtypes) - limit
    if more > 0:
        shown.append(f"and {more} more")
    return ", ".join(shown)


def check_numeric_columns(X):
    """Raise if a DataFrame ``X`` has columns that cannot be read as float64.

    Bool, integer and float columns pass, nullable ones (``Int64``, ``boolean``,
    ``Float64``) included; their missing values are rejected later as NaN. Date, time
    and duration columns are rejected. A column of another dtype passes only if all
    its values convert to float64, as numbers stored in an object column do.

    Raises
    ------
    ValueError
        Naming every column that cannot be converted, with its dtype.
    """
    if not hasattr(X, "dtypes") or not hasattr(X, "columns"):
        return
    rejected = []
    for name, dtype in X.dtypes.items():
        kind = getattr(dtype, "kind", "O")
        if kind in "biuf":
            continue
        if kind in "mM":
            # pandas would convert times to nanoseconds, a scale no feature should have.
            rejected.append((name, dtype))
            continue
        try:
            np.asarray(X[name], dtype=np.float64)
        except (TypeError, ValueError):
            rejected.append((name, dtype))
    if rejected:
        raise ValueError(
            f"X has columns that are not numeric: {_format_columns(rejected)}. "
            f"{_ENCODER_HINT}"
        )


def check_numeric_array(X, error):
    """Re-raise a failed float conversion of an array ``X`` naming its first bad column.

    ``error`` is the exception that converting the whole array raised. It is raised
    unchanged when ``X`` is not a 2-D array or every column converts alone.
    """
    if not isinstance(X, np.ndarray | list) or sp.issparse(X):
        raise error
    try:
        array = np.asarray(X, dtype=object)
    except (TypeError, ValueError):
        raise error from None
    if array.ndim != 2:
        raise error
    for j in range(array.shape[1]):
        try:
            array[:, j].astype(np.float64)
        except (TypeError, ValueError) as column_error:
            raise type(error)(
                f"Column {j} of X cannot be converted to float64: {column_error}. "
                f"{_ENCODER_HINT}"
            ) from error
    raise error


def check_single_output(y, estimator):
    """Raise if ``y`` has more than one column.

    A column vector passes: ``validate_data`` ravels it with a
    ``DataConversionWarning``.
    """
    shape = getattr(y, "shape", None)
    if shape is None:
        try:
            shape = np.asarray(y).shape
        except (TypeError, ValueError):
            # A ragged y; validate_data rejects it with its own message.
            return
    name = type(estimator).__name__
    wrapper = (
        "MultiOutputClassifier" if is_classifier(estimator) else "MultiOutputRegressor"
    )
    if len(shape) == 2 and shape[1] > 1:
        raise ValueError(
            f"{name} predicts one target, but y has shape {tuple(shape)}. Fit one "
            f"model per column, for example with sklearn.multioutput.{wrapper}."
        )
    if len(shape) > 2:
        raise ValueError(
            f"y must be 1-D or a column vector, but it has shape {tuple(shape)}."
        )


def sparse_chunk_rows(n_features):
    """Return how many rows of a sparse matrix to densify at once."""
    return max(1, SPARSE_CHUNK_VALUES // max(n_features, 1))


def standardised_float32(X, mean, scale):
    """Return ``(X - mean) / scale`` as a dense float32 array.

    A sparse ``X`` is densified a chunk of rows at a time, so the peak memory beyond
    the float32 result is one float64 chunk of about ``SPARSE_CHUNK_VALUES`` values.
    """
    if not sp.issparse(X):
        return ((X - mean) / scale).astype(np.float32)
    X = X.tocsr()
    out = np.empty(X.shape, dtype=np.float32)
    step = sparse_chunk_rows(X.shape[1])
    for start in range(0, X.shape[0], step):
        chunk = X[start : start + step].toarray()
        out[start : start + step] = (chunk - mean) / scale
    return out
