"""A classifier wrapper that fits its estimator on labels encoded as 0..K-1."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, has_fit_parameter

from ._logits import raw_teacher_logits


def fit_with_weights(estimator, X, y, sample_weight=None, **fit_params):
    """Fit ``estimator``, passing ``sample_weight`` only if its ``fit`` accepts it.

    An estimator without the parameter is fitted unweighted with a ``UserWarning``.
    """
    if sample_weight is None:
        return estimator.fit(X, y, **fit_params)
    if has_fit_parameter(estimator, "sample_weight"):
        return estimator.fit(X, y, sample_weight=sample_weight, **fit_params)
    warnings.warn(
        f"{type(estimator).__name__} does not accept sample_weight in fit, so it was "
        "fitted without the weights.",
        UserWarning,
        stacklevel=3,
    )
    return estimator.fit(X, y, **fit_params)


def _estimator_has(name):
    def check(self):
        estimator = getattr(self, "estimator_", self.estimator)
        return hasattr(estimator, name)

    return check


class LabelEncodedClassifier(ClassifierMixin, BaseEstimator):
    """Fit a classifier on labels encoded as 0..K-1 and map its outputs back.

    XGBoost's ``XGBClassifier`` only accepts the labels ``0, 1, ..., K-1``. This
    wrapper encodes any labels (strings, gapped integers, booleans) in sorted order,
    fits a clone of ``estimator`` on the codes, and returns the original labels from
    ``predict``. :class:`~skdistill.DistilledClassifier` wraps an unfitted
    XGBoost teacher in it by itself. To use an XGBoost model that you fit yourself
    as a prefit teacher with labels other than 0..K-1, fit it inside this wrapper.

    Parameters
    ----------
    estimator : classifier
        The classifier to fit on the encoded labels. It is cloned; the object passed
        in is never changed.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``, whose ``classes_`` are ``0..K-1``.
    classes_ : ndarray of shape (n_classes,)
        The original labels; code ``k`` stands for ``classes_[k]``.
    n_features_in_ : int
        Number of features of ``X`` in fit, when the estimator records it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from skdistill.ensemble import LabelEncodedClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
    >>> model = LabelEncodedClassifier(HistGradientBoostingClassifier(max_iter=5))
    >>> model.fit(X, names).classes_.tolist()
    ['setosa', 'versicolor', 'virginica']
    >>> model.estimator_.classes_.tolist()
    [0, 1, 2]
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit a clone of the estimator on the encoded labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, passed to the estimator unchanged.
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts for classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the estimator's ``fit`` when given and accepted; an estimator
            without the parameter is fitted unweighted with a ``UserWarning``.
        **fit_params : dict
            Further arguments of the estimator's ``fit``.

        Returns
        -------
        self : LabelEncodedClassifier
            The fitted wrapper.
        """
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        estimator = clone(self.estimator)
        fit_with_weights(
            estimator, X, encoder.transform(y), sample_weight, **fit_params
        )
        self.estimator_ = estimator
        self.classes_ = encoder.classes_
        if hasattr(estimator, "n_features_in_"):
            self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        return self

    def predict(self, X):
        """Predict the original class labels of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        codes = np.asarray(self.estimator_.predict(X)).reshape(-1).astype(np.intp)
        return self.classes_[codes]

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Return the estimator's class probabilities, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        # The estimator saw every code, so its columns are in code order, which is
        # the order of classes_.
        return self.estimator_.predict_proba(X)

    def _skdistill_logits(self, X):
        check_is_fitted(self, "estimator_")
        logits, _ = raw_teacher_logits(self.estimator_, X)
        return logits
