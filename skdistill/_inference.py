"""Prediction with the student's numpy weights, shared by every fitted estimator.

The methods here read only the fitted arrays (``coefs_``, ``intercepts_``,
``input_mean_``, ``input_scale_``, ``activation_``, ``classes_``), never the teacher
or the torch module, so a student-only estimator can carry them alone.
"""

import copy

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax
from sklearn.utils.validation import check_is_fitted, validate_data

from ._student import forward_numpy
from ._validation import check_numeric_columns, sparse_chunk_rows

# Rows per numpy forward pass. It bounds the hidden activations held at once to
# chunk size * layer width float32 values, 2 MB per 256-wide layer. On one thread of
# an AMD EPYC, 2,048-row chunks predicted as fast as 65,536-row ones.
PREDICT_CHUNK_SIZE = 2048


def _softmax_in_place(z):
    """Turn each row of the float64 array ``z`` into its softmax, in place."""
    # Four ufunc calls on the caller's fresh array, instead of scipy's softmax, which
    # copies and validates its input: on one row that overhead was a third of the
    # latency of predict_proba.
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


# Standardised inputs are clipped to this many standard deviations before the float32
# forward pass. Training rows lie far inside it, and an extreme but finite input would
# otherwise overflow float32 to infinity and give NaN probabilities.
STANDARDISED_LIMIT = 1e6


class StudentPredictionMixin:
    """Compute the student's raw outputs from its fitted numpy arrays.

    Prediction reads the fitted arrays and writes only to arrays it creates, so one
    fitted model can predict from several threads at once.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Sparse rows are densified a chunk at a time, as the standardisation needs.
        tags.input_tags.sparse = True
        return tags

    def _validate_prediction_data(self, X):
        # A plain float array skips validate_data, whose fixed cost dominates the
        # latency of predicting one row; anything else gets the full checks.
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float64, np.float32)
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X).all()
        ):
            return X
        check_numeric_columns(X)
        return validate_data(
            self,
            X,
            reset=False,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            ensure_all_finite=True,
        )

    def _student_output(self, X):
        """Return the student's raw outputs for ``X`` as float32."""
        # check_is_fitted inspects the estimator's tags and attributes, which costs
        # several microseconds; a fitted student only needs the attribute lookup.
        if not hasattr(self, "coefs_"):
            check_is_fitted(self, "coefs_")
        X = self._validate_prediction_data(X)
        outputs = []
        n_rows = X.shape[0]
        step = PREDICT_CHUNK_SIZE
        if sp.issparse(X):
            step = min(step, sparse_chunk_rows(X.shape[1]))
        for start in range(0, max(n_rows, 1), step):
            chunk = X[start : start + step]
            if sp.issparse(chunk):
                chunk = chunk.toarray()
            standardised = (chunk - self.input_mean_) / self.input_scale_
            # Two ufuncs instead of np.clip, whose Python wrapper costs a few
            # microseconds on one row; the inputs are finite, so the result is equal.
            np.minimum(standardised, STANDARDISED_LIMIT, out=standardised)
            np.maximum(standardised, -STANDARDISED_LIMIT, out=standardised)
            outputs.append(
                forward_numpy(
                    standardised.astype(np.float32),
                    self.coefs_,
                    self.intercepts_,
                    self.activation_,
                )
            )
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)


class ClassifierPredictionMixin(StudentPredictionMixin):
    """``predict``, ``predict_proba`` and ``predict_log_proba`` of a student."""

    def predict(self, X):
        """Predict class labels with the student.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric, finite input.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        output = self._student_output(X)
        return self.classes_[np.argmax(output, axis=1)]

    def predict_proba(self, X):
        """Predict class probabilities with the student.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric, finite input.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax of the student's logits at temperature 1, with columns in the
            order of ``classes_``.
        """
        return _softmax_in_place(self._student_output(X).astype(np.float64))

    def predict_log_proba(self, X):
        """Predict the logarithm of class probabilities with the student.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric, finite input.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-softmax of the student's logits, with columns in the order of
            ``classes_``.
        """
        return log_softmax(self._student_output(X).astype(np.float64), axis=1)


class RegressorPredictionMixin(StudentPredictionMixin):
    """``predict`` of a regression student, on the scale of the original targets."""

    def predict(self, X):
        """Predict targets with the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric, finite input.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions in the units of ``y``; one dimension for a single output.
        """
        output = self._student_output(X).astype(np.float64)
        output *= self.target_scale_
        output += self.target_mean_
        if self.n_outputs_ == 1:
            return output.ravel()
        return output


class StudentOnlyMixin:
    """A student that keeps only fitted arrays and is made by ``to_student``.

    Subclasses name the estimator that trains them in ``_trainer_name`` and list the
    attributes they carry in ``_fitted_attributes``.
    """

    _trainer_name = None
    _fitted_attributes = ()

    @classmethod
    def _from_fitted(cls, estimator):
        check_is_fitted(estimator, "coefs_")
        student = cls()
        for name in cls._fitted_attributes:
            if hasattr(estimator, name):
                # A deep copy, so that changing one model's arrays leaves the other's.
                setattr(student, name, copy.deepcopy(getattr(estimator, name)))
        return student

    def fit(self, X, y=None):
        """Raise, because a student is trained by its distilled estimator.

        Raises
        ------
        TypeError
            Always.
        """
        raise TypeError(
            f"{type(self).__name__} cannot be fitted; fit a {self._trainer_name} and "
            "call its to_student() method."
        )
