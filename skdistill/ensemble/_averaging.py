"""A teacher made of several separately fitted classifiers."""

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._encoding import fit_with_weights
from ._logits import probability_logits, teacher_logits


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


def check_teacher_list(estimators):
    """Check a list of teacher classifiers and return whether they are fitted.

    Raises unless ``estimators`` is a non-empty list of classifiers that are either
    all fitted or all unfitted.
    """
    if len(estimators) == 0:
        raise ValueError(
            "The teacher is an empty list. Pass at least one classifier, or None for "
            "the default teacher."
        )
    for index, estimator in enumerate(estimators):
        if not hasattr(estimator, "fit") or not (
            hasattr(estimator, "predict_proba")
            or hasattr(estimator, "decision_function")
        ):
            raise TypeError(
                f"Item {index} of the teacher list, {estimator!r}, is not a classifier "
                "with fit and predict_proba or decision_function. Every item of a "
                "teacher list must be one."
            )
    fitted = [_is_fitted(estimator) for estimator in estimators]
    if any(fitted) and not all(fitted):
        unfitted = [i for i, done in enumerate(fitted) if not done]
        raise ValueError(
            f"The teacher list mixes fitted and unfitted classifiers (items {unfitted} "
            "are unfitted). Pass only fitted classifiers, which are used as they are, "
            "or only unfitted ones, which are fitted on the training data."
        )
    return all(fitted)


class AveragingClassifier(ClassifierMixin, BaseEstimator):
    """Average the class probabilities of several classifiers.

    The teacher for models that were never assembled into one ensemble object: a
    list passed as the teacher of :class:`~skdistill.DistilledClassifier` becomes an
    ``AveragingClassifier``. Unlike ``VotingClassifier``, it can be built from
    classifiers that are already fitted (:meth:`from_fitted`), which it then never
    refits.

    Parameters
    ----------
    estimators : list of classifiers
        The members. :meth:`fit` fits a clone of each on the same data.
    weights : array-like of shape (n_estimators,), default=None
        Weight of each member's probabilities in the average; None weighs them
        equally.

    Attributes
    ----------
    estimators_ : list of classifiers
        The fitted members: clones fitted by :meth:`fit`, or the objects given to
        :meth:`from_fitted`.
    weights_ : ndarray of shape (n_estimators,)
        The member weights, normalised to sum to one.
    classes_ : ndarray of shape (n_classes,)
        The sorted union of the members' classes. A member that lacks a class gives
        it the probability 1e-6 before the average.

    Notes
    -----
    Each member's probabilities are the softmax of its soft-target logits (see
    :func:`teacher_logits`), so an AdaBoost member contributes its unsquashed
    probabilities and a hard-voting member its smoothed vote fractions. The average
    is taken over probabilities, as soft voting does, and the teacher's logits are
    its logarithm.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill.ensemble import AveragingClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> members = [
    ...     LogisticRegression(max_iter=500).fit(X, y),
    ...     HistGradientBoostingClassifier(max_iter=10).fit(X, y),
    ... ]
    >>> average = AveragingClassifier.from_fitted(members)
    >>> average.predict_proba(X[:2]).shape
    (2, 3)
    """

    def __init__(self, estimators, *, weights=None):
        self.estimators = estimators
        self.weights = weights

    @classmethod
    def from_fitted(cls, estimators, *, weights=None):
        """Build a fitted average of already fitted classifiers, without refitting.

        Parameters
        ----------
        estimators : list of fitted classifiers
        weights : array-like of shape (n_estimators,), default=None

        Returns
        -------
        average : AveragingClassifier
            A fitted instance whose ``estimators_`` are the objects passed in.
        """
        estimators = list(estimators)
        if not check_teacher_list(estimators):
            raise ValueError(
                "AveragingClassifier.from_fitted needs fitted classifiers; use fit "
                "for unfitted ones."
            )
        average = cls(estimators, weights=weights)
        average._set_members(estimators)
        return average

    def fit(self, X, y, sample_weight=None):
        """Fit a clone of every member on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to each member's ``fit`` that accepts it; a member without the
            parameter is fitted unweighted with a ``UserWarning``.

        Returns
        -------
        self : AveragingClassifier
        """
        estimators = list(self.estimators)
        check_teacher_list(estimators)
        fitted = []
        for estimator in estimators:
            fitted.append(fit_with_weights(clone(estimator), X, y, sample_weight))
        self._set_members(fitted)
        return self

    def _set_members(self, fitted):
        weights = self._member_weights(len(fitted))
        self.estimators_ = fitted
        self.classes_ = np.unique(
            np.concatenate([np.asarray(member.classes_) for member in fitted])
        )
        n_features = {getattr(m, "n_features_in_", None) for m in fitted} - {None}
        if len(n_features) > 1:
            raise ValueError(
                f"The members of the teacher list were fitted on different numbers of "
                f"features ({sorted(n_features)}). Every member must read the same "
                "columns."
            )
        if n_features:
            self.n_features_in_ = n_features.pop()
        self.weights_ = weights

    def _member_weights(self, n_members):
        if self.weights is None:
            return np.full(n_members, 1.0 / n_members)
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.shape != (n_members,) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(
                f"weights must contain one non-negative weight per member "
                f"({n_members}) with a positive sum, got {self.weights!r}."
            )
        return weights / weights.sum()

    def predict_proba(self, X):
        """Return the weighted mean of the members' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in ``classes_`` order.
        """
        check_is_fitted(self, "estimators_")
        total = 0.0
        for member, weight in zip(self.estimators_, self.weights_, strict=True):
            total = total + weight * softmax(
                teacher_logits(member, X, self.classes_), axis=1
            )
        return total

    def predict(self, X):
        """Return the class of highest mean probability for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _skdistill_logits(self, X):
        return probability_logits(self.predict_proba(X))
