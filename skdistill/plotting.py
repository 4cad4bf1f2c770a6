"""Plots of a distilled estimator: its training and its agreement with the teacher.

The Display classes follow scikit-learn's visualization API: ``from_estimator`` (and
``from_predictions``) compute what to draw and call ``plot``, ``plot`` draws on the
given Axes or on a new figure, and the matplotlib artists are stored in attributes
ending in ``_``. Every ``from_estimator`` also accepts a fitted
:class:`~sklearn.pipeline.Pipeline` whose last step is the distilled estimator; ``X``
then passes through the steps before it.

matplotlib is an optional dependency, imported only when a plot is drawn. Install it
with ``pip install "skdistill[plot]"``.
"""

import numbers

import numpy as np
from scipy.special import softmax
from sklearn.base import is_classifier
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
from sklearn.pipeline import Pipeline
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from .ensemble import teacher_logits
from .metrics import fidelity_score

__all__ = [
    "AgreementDisplay",
    "ReliabilityDisplay",
    "TrainingHistoryDisplay",
    "top_label_reliability",
]

# Readable legend labels of the loss terms the estimators record in ``loss_terms_``.
LOSS_TERM_LABELS = {
    "kd": "soft-target term (KD)",
    "ce": "hard-target term (CE)",
}

RELIABILITY_STRATEGIES = ("uniform", "quantile")
CONFUSION_NORMALIZATIONS = ("true", "pred", "all")


def _import_pyplot(caller):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, which is not installed. Install it with "
            'pip install "skdistill[plot]" or pip install matplotlib.'
        ) from exc
    return plt


def _unwrap_pipeline(estimator, X=None):
    """Return the last step of a fitted Pipeline and ``X`` transformed by the rest."""
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        if X is not None:
            X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    return estimator, X


def _check_distilled(estimator, caller, attribute):
    check_is_fitted(estimator)
    if not hasattr(estimator, attribute):
        raise TypeError(
            f"{caller} needs a fitted DistilledClassifier or a Pipeline ending in one, "
            f"but {type(estimator).__name__} has no {attribute} attribute. A "
            "StudentClassifier keeps neither the teacher nor the training history; "
            "pass the DistilledClassifier it came from."
        )


def _align_proba(proba, teacher_classes, classes):
    """Reorder probability columns into ``classes`` order; absent classes get 0."""
    teacher_classes = np.asarray(teacher_classes)
    if len(teacher_classes) == len(classes) and np.array_equal(
        teacher_classes, classes
    ):
        return proba
    aligned = np.zeros((len(proba), len(classes)))
    position = {label: j for j, label in enumerate(classes)}
    for j, label in enumerate(teacher_classes):
        aligned[:, position[label]] = proba[:, j]
    return aligned


def _teacher_proba(estimator, X):
    """Return the teacher's class probabilities in the order of ``classes_``.

    A teacher without ``predict_proba`` gives the softmax of its soft-target logits,
    which are exactly the targets the student learned from at temperature 1.
    """
    teacher = estimator.teacher_
    classes = estimator.classes_
    if hasattr(teacher, "predict_proba"):
        proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
        return _align_proba(proba, teacher.classes_, classes)
    return softmax(teacher_logits(teacher, X, classes), axis=1)


def _teacher_predict(estimator, X):
    teacher = estimator.teacher_
    if hasattr(teacher, "predict"):
        return np.asarray(teacher.predict(X))
    return estimator.classes_[np.argmax(_teacher_proba(estimator, X), axis=1)]


class TrainingHistoryDisplay:
    """Training history of a distilled estimator: losses and validation score.

    The left panel shows the training loss of each epoch, its soft-target (KD) and
    hard-target (CE) terms, and the loss on the validation rows. The right panel
    shows the validation score. A dotted vertical line marks the epoch whose weights
    the estimator kept. Create it with :meth:`from_estimator`.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss of each epoch.
    loss_terms : dict of str to array-like of shape (n_epochs,), default=None
        Each loss term per epoch, before the blend weight ``alpha`` is applied.
    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Loss on the validation rows after each epoch.
    validation_scores : array-like of shape (n_epochs,), default=None
        Score on the validation rows after each epoch.
    kept_epoch : int, default=None
        One-based epoch whose weights the estimator kept.
    score_name : str, default="validation score"
        Axis label of the validation score.
    estimator_name : str, default=None
        Title of the plot.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the loss curves.
    score_ax_ : matplotlib Axes or None
        Axes with the validation score; None when there is no score to show.
    figure_ : matplotlib Figure
        Figure containing the axes.
    lines_ : dict of str to matplotlib Line2D
        The plotted curves by legend label.
    kept_epoch_lines_ : list of matplotlib Line2D
        The vertical lines at ``kept_epoch``, one per axes.

    See Also
    --------
    AgreementDisplay : Teacher against student predictions.
    ReliabilityDisplay : Calibration of the teacher and the student.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.plotting import TrainingHistoryDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> model = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=20), max_iter=30, random_state=0
    ... ).fit(X, y)
    >>> display = TrainingHistoryDisplay.from_estimator(model)
    >>> print(*sorted(display.lines_), sep="\\n")
    hard-target term (CE)
    soft-target term (KD)
    training loss
    validation accuracy
    validation loss
    >>> plt.close("all")
    """

    def __init__(
        self,
        *,
        loss_curve,
        loss_terms=None,
        validation_loss_curve=None,
        validation_scores=None,
        kept_epoch=None,
        score_name="validation score",
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.loss_terms = loss_terms
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.kept_epoch = kept_epoch
        self.score_name = score_name
        self.estimator_name = estimator_name

    def _has_scores(self):
        scores = self.validation_scores
        return scores is not None and len(scores) > 0 and not np.all(np.isnan(scores))

    def _resolve_axes(self, plt, ax):
        has_scores = self._has_scores()
        if ax is None:
            n_panels = 2 if has_scores else 1
            figure, axes = plt.subplots(
                1, n_panels, figsize=(5.5 * n_panels, 4), layout="constrained"
            )
            axes = np.atleast_1d(axes)
            return axes[0], (axes[1] if has_scores else None), False
        if isinstance(ax, list | tuple | np.ndarray):
            axes = np.ravel(ax)
            if len(axes) != 2:
                raise ValueError(
                    "ax must be one matplotlib Axes or a sequence of two (losses, "
                    f"validation score), got a sequence of {len(axes)}."
                )
            return axes[0], (axes[1] if has_scores else None), False
        # One Axes: the score, on its own scale, goes on a twin y-axis.
        return ax, (ax.twinx() if has_scores else None), has_scores

    def plot(self, ax=None, *, show_terms=True):
        """Draw the history.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of two Axes, default=None
            Where to draw. Two Axes receive the losses and the validation score;
            one Axes receives the losses and shows the score on a twin y-axis. None
            creates a figure with one panel for each.
        show_terms : bool, default=True
            Whether to draw the soft-target and hard-target terms of the loss.

        Returns
        -------
        display : TrainingHistoryDisplay
            This display, with the artists stored in its attributes.
        """
        plt = _import_pyplot("TrainingHistoryDisplay.plot")
        loss_ax, score_ax, twin = self._resolve_axes(plt, ax)
        loss_curve = np.asarray(self.loss_curve, dtype=float)
        epochs = np.arange(1, len(loss_curve) + 1)

        lines = {}
        (lines["training loss"],) = loss_ax.plot(
            epochs, loss_curve, label="training loss"
        )
        if show_terms and self.loss_terms:
            for name, values in self.loss_terms.items():
                label = LOSS_TERM_LABELS.get(name, f"{name} term")
                (lines[label],) = loss_ax.plot(
                    epochs[: len(values)], values, linestyle="--", label=label
                )
        if self.validation_loss_curve is not None and len(self.validation_loss_curve):
            values = np.asarray(self.validation_loss_curve, dtype=float)
            (lines["validation loss"],) = loss_ax.plot(
                epochs[: len(values)], values, label="validation loss"
            )
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("loss")

        if score_ax is not None:
            values = np.asarray(self.validation_scores, dtype=float)
            (lines[self.score_name],) = score_ax.plot(
                epochs[: len(values)],
                values,
                color="tab:green",
                label=self.score_name,
            )
            score_ax.set_ylabel(self.score_name)
            if not twin:
                score_ax.set_xlabel("epoch")

        kept_lines = []
        if self.kept_epoch is not None:
            label = f"kept weights (epoch {self.kept_epoch})"
            for axes in (loss_ax, score_ax):
                if axes is not None:
                    kept_lines.append(
                        axes.axvline(
                            self.kept_epoch, color="0.3", linestyle=":", label=label
                        )
                    )

        self._draw_legends(loss_ax, score_ax, twin)
        if self.estimator_name:
            loss_ax.figure.suptitle(self.estimator_name)

        self.ax_ = loss_ax
        self.score_ax_ = score_ax
        self.figure_ = loss_ax.figure
        self.lines_ = lines
        self.kept_epoch_lines_ = kept_lines
        return self

    @staticmethod
    def _draw_legends(loss_ax, score_ax, twin):
        if twin:
            # Twin axes overlap, so one legend lists the curves of both.
            handles, labels = loss_ax.get_legend_handles_labels()
            more_handles, more_labels = score_ax.get_legend_handles_labels()
            seen = set(labels)
            for handle, label in zip(more_handles, more_labels, strict=True):
                if label not in seen:
                    handles.append(handle)
                    labels.append(label)
            score_ax.legend(handles, labels, fontsize="small")
            return
        loss_ax.legend(fontsize="small")
        if score_ax is not None:
            score_ax.legend(fontsize="small")

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, show_terms=True, name=None):
        """Plot the training history of a fitted distilled estimator.

        Parameters
        ----------
        estimator : DistilledClassifier or Pipeline
            A fitted distilled estimator, or a fitted Pipeline ending in one.
        ax : matplotlib Axes or sequence of two Axes, default=None
            Where to draw; see :meth:`plot`.
        show_terms : bool, default=True
            Whether to draw the soft-target and hard-target terms of the loss.
        name : str, default=None
            Title of the plot. None uses the class name of the estimator and its
            teacher.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with the plot drawn.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the estimator has no training history, as for a
            :class:`~skdistill.StudentClassifier`.
        """
        estimator, _ = _unwrap_pipeline(estimator)
        _check_distilled(estimator, "TrainingHistoryDisplay", "loss_curve_")
        kept_epoch = estimator.best_epoch_
        if kept_epoch is None:
            # Without early stopping the weights of the last epoch are kept.
            kept_epoch = len(estimator.loss_curve_)
        score_name = "validation score"
        if is_classifier(estimator):
            score_name = "validation accuracy"
        if name is None:
            name = type(estimator).__name__
            if hasattr(estimator, "teacher_"):
                name = f"{name} of {type(estimator.teacher_).__name__}"
        display = cls(
            loss_curve=estimator.loss_curve_,
            loss_terms=getattr(estimator, "loss_terms_", None),
            validation_loss_curve=estimator.validation_loss_curve_,
            validation_scores=estimator.validation_scores_,
            kept_epoch=kept_epoch,
            score_name=score_name,
            estimator_name=name,
        )
        return display.plot(ax=ax, show_terms=show_terms)


class AgreementDisplay:
    """Confusion matrix of the teacher's predictions against the student's.

    Row ``i``, column ``j`` counts the rows the teacher labels ``i`` and the student
    labels ``j``, so the diagonal holds the rows they agree on, and the title gives
    the fidelity (the share of rows on the diagonal). Create it with
    :meth:`from_estimator` or :meth:`from_predictions`.

    Parameters
    ----------
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        Teacher labels in rows, student labels in columns.
    display_labels : array-like of shape (n_classes,), default=None
        Class labels for the ticks. None numbers the classes from 0.
    fidelity : float, default=None
        Share of rows on which the student predicts the teacher's label, shown in
        the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the matrix.
    figure_ : matplotlib Figure
        Figure containing the matrix.
    im_ : matplotlib AxesImage
        Image of the matrix.
    text_ : ndarray of shape (n_classes, n_classes) of matplotlib Text, or None
        Values written in the cells; None when ``include_values`` is False.

    See Also
    --------
    skdistill.metrics.fidelity_score : The share of agreeing rows.
    sklearn.metrics.ConfusionMatrixDisplay : The same plot against true labels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.plotting import AgreementDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> model = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=20), max_iter=30, random_state=0
    ... ).fit(X, y)
    >>> display = AgreementDisplay.from_estimator(model, X)
    >>> int(display.confusion_matrix.sum())
    150
    >>> plt.close("all")
    """

    def __init__(self, confusion_matrix, *, display_labels=None, fidelity=None):
        self.confusion_matrix = confusion_matrix
        self.display_labels = display_labels
        self.fidelity = fidelity

    def plot(
        self,
        *,
        ax=None,
        cmap="Blues",
        include_values=True,
        values_format=None,
        colorbar=True,
        xticks_rotation="horizontal",
    ):
        """Draw the matrix.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw. None creates a new figure.
        cmap : str or matplotlib Colormap, default="Blues"
            Colormap of the cells.
        include_values : bool, default=True
            Whether to write the value in each cell.
        values_format : str, default=None
            Format of the cell values; None picks ``"d"`` or ``".2g"``.
        colorbar : bool, default=True
            Whether to add a colorbar.
        xticks_rotation : {"vertical", "horizontal"} or float, default="horizontal"
            Rotation of the student's tick labels.

        Returns
        -------
        display : AgreementDisplay
            This display, with the artists stored in its attributes.
        """
        _import_pyplot("AgreementDisplay.plot")
        matrix_display = ConfusionMatrixDisplay(
            np.asarray(self.confusion_matrix), display_labels=self.display_labels
        ).plot(
            ax=ax,
            cmap=cmap,
            include_values=include_values,
            values_format=values_format,
            colorbar=colorbar,
            xticks_rotation=xticks_rotation,
        )
        axes = matrix_display.ax_
        axes.set_xlabel("student prediction")
        axes.set_ylabel("teacher prediction")
        if self.fidelity is not None:
            axes.set_title(f"fidelity to the teacher: {self.fidelity:.3f}")

        self.ax_ = axes
        self.figure_ = matrix_display.figure_
        self.im_ = matrix_display.im_
        self.text_ = matrix_display.text_
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        labels=None,
        sample_weight=None,
        normalize=None,
        ax=None,
        cmap="Blues",
        include_values=True,
        values_format=None,
        colorbar=True,
        xticks_rotation="horizontal",
    ):
        """Plot the teacher's predictions on ``X`` against the student's.

        Parameters
        ----------
        estimator : DistilledClassifier or Pipeline
            A fitted distilled classifier, or a fitted Pipeline ending in one.
        X : array-like of shape (n_samples, n_features)
            Rows to predict, in the form the estimator takes in ``predict``.
        labels : array-like of shape (n_classes,), default=None
            Classes to show, in order. None shows ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        normalize : {"true", "pred", "all"}, default=None
            Divide the counts by the row sums (each teacher class), the column sums
            (each student class) or the total. None shows counts.
        ax, cmap, include_values, values_format, colorbar, xticks_rotation
            As in :meth:`plot`.

        Returns
        -------
        display : AgreementDisplay
            The display, with the plot drawn.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the estimator keeps no teacher, as a
            :class:`~skdistill.StudentClassifier` does.
        """
        estimator, X = _unwrap_pipeline(estimator, X)
        _check_distilled(estimator, "AgreementDisplay", "teacher_")
        teacher_pred = _teacher_predict(estimator, X)
        student_pred = estimator.predict(X)
        if labels is None:
            labels = estimator.classes_
        return cls.from_predictions(
            teacher_pred,
            student_pred,
            labels=labels,
            sample_weight=sample_weight,
            normalize=normalize,
            ax=ax,
            cmap=cmap,
            include_values=include_values,
            values_format=values_format,
            colorbar=colorbar,
            xticks_rotation=xticks_rotation,
        )

    @classmethod
    def from_predictions(
        cls,
        teacher_pred,
        student_pred,
        *,
        labels=None,
        sample_weight=None,
        normalize=None,
        ax=None,
        cmap="Blues",
        include_values=True,
        values_format=None,
        colorbar=True,
        xticks_rotation="horizontal",
    ):
        """Plot given teacher predictions against given student predictions.

        Parameters
        ----------
        teacher_pred : array-like of shape (n_samples,)
            Labels predicted by the teacher.
        student_pred : array-like of shape (n_samples,)
            Labels predicted by the student.
        labels, sample_weight, normalize
            As in :meth:`from_estimator`; None for ``labels`` shows every label
            that occurs in either prediction, sorted.
        ax, cmap, include_values, values_format, colorbar, xticks_rotation
            As in :meth:`plot`.

        Returns
        -------
        display : AgreementDisplay
            The display, with the plot drawn.

        Raises
        ------
        ValueError
            If the predictions differ in length or ``normalize`` is not one of the
            allowed values.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from skdistill.plotting import AgreementDisplay
        >>> display = AgreementDisplay.from_predictions(
        ...     ["cat", "dog", "dog", "cat"], ["cat", "dog", "cat", "cat"]
        ... )
        >>> display.fidelity
        0.75
        >>> display.confusion_matrix
        array([[2, 0],
               [1, 1]])
        >>> plt.close("all")
        """
        if normalize is not None and normalize not in CONFUSION_NORMALIZATIONS:
            raise ValueError(
                f"normalize must be one of {CONFUSION_NORMALIZATIONS} or None, got "
                f"{normalize!r}."
            )
        teacher_pred = column_or_1d(teacher_pred)
        student_pred = column_or_1d(student_pred)
        check_consistent_length(teacher_pred, student_pred, sample_weight)
        if labels is None:
            labels = unique_labels(teacher_pred, student_pred)
        matrix = confusion_matrix(
            teacher_pred,
            student_pred,
            labels=labels,
            sample_weight=sample_weight,
            normalize=normalize,
        )
        fidelity = fidelity_score(
            teacher_pred, student_pred, sample_weight=sample_weight
        )
        display = cls(matrix, display_labels=labels, fidelity=fidelity)
        return display.plot(
            ax=ax,
            cmap=cmap,
            include_values=include_values,
            values_format=values_format,
            colorbar=colorbar,
            xticks_rotation=xticks_rotation,
        )


def top_label_reliability(y_true, proba, classes, *, n_bins=10, strategy="uniform"):
    """Bin rows by their top predicted probability and measure accuracy per bin.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in the order of ``classes``. A 1-D array
        is the probability of ``classes[1]`` in a binary problem.
    classes : array-like of shape (n_classes,)
        Labels of the columns of ``proba``.
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"`` splits [0, 1] into equal widths; ``"quantile"`` puts about as
        many rows in each bin. Empty bins are left out.

    Returns
    -------
    mean_confidence : ndarray of shape (n_nonempty_bins,)
        Mean top probability of the rows in each bin.
    accuracy : ndarray of shape (n_nonempty_bins,)
        Share of rows in each bin whose top class is the true label.
    bin_counts : ndarray of shape (n_nonempty_bins,)
        Rows in each bin.
    calibration_error : float
        Expected calibration error: the mean over rows of the gap between accuracy
        and mean confidence of the row's bin.

    Raises
    ------
    ValueError
        If ``n_bins`` or ``strategy`` is invalid, or the shapes do not match.

    Notes
    -----
    With bins :math:`B_b` of the :math:`n` rows,

    .. math::

        \\mathrm{ECE} = \\sum_b \\frac{|B_b|}{n}
            \\left| \\mathrm{acc}(B_b) - \\mathrm{conf}(B_b) \\right|.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural
    Networks", ICML 2017. https://arxiv.org/abs/1706.04599

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.plotting import top_label_reliability
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> confidence, accuracy, counts, ece = top_label_reliability(
    ...     [0, 1, 1, 1], proba, [0, 1], n_bins=4
    ... )
    >>> confidence.round(3), accuracy, counts
    (array([0.65, 0.85]), array([1. , 0.5]), array([2, 2]))
    >>> round(ece, 3)
    0.35
    """
    if not isinstance(n_bins, numbers.Integral) or isinstance(n_bins, bool):
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}.")
    if n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}.")
    if strategy not in RELIABILITY_STRATEGIES:
        raise ValueError(
            f"strategy must be one of {RELIABILITY_STRATEGIES}, got {strategy!r}."
        )
    y_true = column_or_1d(y_true)
    classes = np.asarray(classes)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:
        proba = np.column_stack([1 - proba, proba])
    check_consistent_length(y_true, proba)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ValueError(
            f"proba has shape {proba.shape}, but {len(classes)} classes need one "
            "column each."
        )

    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == y_true
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.unique(np.quantile(confidence, np.linspace(0.0, 1.0, n_bins + 1)))
    bins = np.searchsorted(edges[1:-1], confidence, side="right")
    n_slots = max(len(edges) - 1, 1)
    counts = np.bincount(bins, minlength=n_slots)
    confidence_sums = np.bincount(bins, weights=confidence, minlength=n_slots)
    correct_sums = np.bincount(bins, weights=correct, minlength=n_slots)

    filled = counts > 0
    mean_confidence = confidence_sums[filled] / counts[filled]
    accuracy = correct_sums[filled] / counts[filled]
    bin_counts = counts[filled]
    gaps = np.abs(accuracy - mean_confidence)
    calibration_error = float(np.sum(bin_counts * gaps) / len(y_true))
    return mean_confidence, accuracy, bin_counts, calibration_error


class ReliabilityDisplay:
    """Reliability curves of the teacher and the student.

    For each model, rows are binned by the probability of their predicted class (the
    confidence), and the curve plots the accuracy in each bin against the mean
    confidence there. A calibrated model lies on the diagonal. The legend gives each
    model's expected calibration error (ECE); see :func:`top_label_reliability`.
    Create it with :meth:`from_estimator` or :meth:`from_predictions`.

    Parameters
    ----------
    mean_confidence : dict of str to ndarray
        Mean confidence of each non-empty bin, by model name.
    accuracy : dict of str to ndarray
        Accuracy in each non-empty bin, by model name.
    calibration_error : dict of str to float, default=None
        Expected calibration error by model name, shown in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the curves.
    figure_ : matplotlib Figure
        Figure containing the curves.
    lines_ : dict of str to matplotlib Line2D
        The curve of each model, by model name.

    See Also
    --------
    sklearn.calibration.CalibrationDisplay : The positive-class calibration curve of
        one binary classifier.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.plotting import ReliabilityDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> model = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=20), max_iter=30, random_state=0
    ... ).fit(X, y)
    >>> display = ReliabilityDisplay.from_estimator(model, X, y, n_bins=5)
    >>> sorted(display.lines_)
    ['student', 'teacher']
    >>> plt.close("all")
    """

    def __init__(self, *, mean_confidence, accuracy, calibration_error=None):
        self.mean_confidence = mean_confidence
        self.accuracy = accuracy
        self.calibration_error = calibration_error

    def plot(self, ax=None, *, reference_line=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw. None creates a new figure.
        reference_line : bool, default=True
            Whether to draw the diagonal of perfect calibration.

        Returns
        -------
        display : ReliabilityDisplay
            This display, with the artists stored in its attributes.
        """
        plt = _import_pyplot("ReliabilityDisplay.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
        if reference_line:
            ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", label="calibrated")
        lines = {}
        for name, confidence in self.mean_confidence.items():
            label = name
            if self.calibration_error is not None and name in self.calibration_error:
                label = f"{name} (ECE {self.calibration_error[name]:.3f})"
            (lines[name],) = ax.plot(
                confidence, self.accuracy[name], marker="o", label=label
            )
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("confidence (probability of the predicted class)")
        ax.set_ylabel("accuracy")
        ax.legend(loc="best", fontsize="small")

        self.ax_ = ax
        self.figure_ = ax.figure
        self.lines_ = lines
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, n_bins=10, strategy="uniform", ax=None):
        """Plot the reliability of the teacher and the student on ``(X, y)``.

        Parameters
        ----------
        estimator : DistilledClassifier or Pipeline
            A fitted distilled classifier, or a fitted Pipeline ending in one.
        X : array-like of shape (n_samples, n_features)
            Rows to predict, in the form the estimator takes in ``predict``.
        y : array-like of shape (n_samples,)
            True labels.
        n_bins, strategy
            As in :func:`top_label_reliability`.
        ax : matplotlib Axes, default=None
            Where to draw. None creates a new figure.

        Returns
        -------
        display : ReliabilityDisplay
            The display, with the curves named ``"teacher"`` and ``"student"``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the estimator keeps no teacher, as a
            :class:`~skdistill.StudentClassifier` does.
        """
        estimator, X = _unwrap_pipeline(estimator, X)
        _check_distilled(estimator, "ReliabilityDisplay", "teacher_")
        probas = {
            "teacher": _teacher_proba(estimator, X),
            "student": estimator.predict_proba(X),
        }
        return cls.from_predictions(
            y,
            probas,
            classes=estimator.classes_,
            n_bins=n_bins,
            strategy=strategy,
            ax=ax,
        )

    @classmethod
    def from_predictions(
        cls, y_true, probas, *, classes=None, n_bins=10, strategy="uniform", ax=None
    ):
        """Plot the reliability of given predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        probas : dict of str to array-like of shape (n_samples, n_classes)
            Predicted probabilities by model name, columns in the order of
            ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Labels of the probability columns. None uses the sorted labels of
            ``y_true``.
        n_bins, strategy
            As in :func:`top_label_reliability`.
        ax : matplotlib Axes, default=None
            Where to draw. None creates a new figure.

        Returns
        -------
        display : ReliabilityDisplay
            The display, with the plot drawn.

        Raises
        ------
        ValueError
            If ``probas`` is empty, or as :func:`top_label_reliability` raises.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from skdistill.plotting import ReliabilityDisplay
        >>> display = ReliabilityDisplay.from_predictions(
        ...     [0, 1, 1], {"model": [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]}
        ... )
        >>> round(display.calibration_error["model"], 3)
        0.367
        >>> plt.close("all")
        """
        if not probas:
            raise ValueError(
                "probas must map at least one model name to its predicted "
                "probabilities, got an empty mapping."
            )
        if classes is None:
            classes = unique_labels(y_true)
        mean_confidence, accuracy, calibration_error = {}, {}, {}
        for name, proba in probas.items():
            confidence, hits, _, error = top_label_reliability(
                y_true, proba, classes, n_bins=n_bins, strategy=strategy
            )
            mean_confidence[name] = confidence
            accuracy[name] = hits
            calibration_error[name] = error
        display = cls(
            mean_confidence=mean_confidence,
            accuracy=accuracy,
            calibration_error=calibration_error,
        )
        return display.plot(ax=ax)
