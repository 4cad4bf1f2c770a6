"""Feature distillation in ``fit``: the teacher's representation and the extra loss.

Besides the teacher's outputs, the student can imitate an intermediate
representation of the teacher: the outputs of an ensemble's members or the hidden
activations of a neural teacher (see :class:`TeacherRepresentation`). The
representation of every training row is computed once, before training, and one of
the losses of :mod:`skdistill._feature_losses` compares it with a hidden layer of the
student, weighted by ``feature_weight``.
"""

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._feature_losses import (
    FEATURE_LOSS_NAMES,
    check_feature_loss_teacher,
    feature_loss_class,
    make_feature_loss,
)
from .ensemble._representations import (
    NEURAL,
    TeacherRepresentation,
    representation_kind,
)

FEATURE_CONSTRAINTS = {
    "feature_loss": [StrOptions(set(FEATURE_LOSS_NAMES)), None],
    "feature_weight": [Interval(numbers.Real, 0, None, closed="left")],
    "feature_layer": [Interval(numbers.Integral, None, None, closed="neither")],
    "feature_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "feature_loss_params": [dict, None],
    "teacher_layer": [
        Interval(numbers.Integral, None, None, closed="neither"),
        str,
        None,
    ],
}


def feature_distillation_enabled(estimator):
    """Return whether the estimator's parameters add a feature term to the loss."""
    return estimator.feature_loss is not None and estimator.feature_weight > 0


def check_feature_distillation(estimator, teacher, hidden_layer_sizes):
    """Raise before any fitting if the feature loss cannot pair the student and teacher.

    Parameters
    ----------
    estimator : BaseDistilled
        Reads ``feature_loss``, ``feature_layer``, ``teacher_layer`` and
        ``feature_loss_params``.
    teacher : object
        The teacher, fitted or not.
    hidden_layer_sizes : tuple of int
        The widths of the student's hidden layers.
    """
    if not feature_distillation_enabled(estimator):
        return
    name = estimator.feature_loss
    n_hidden = len(hidden_layer_sizes)
    if n_hidden == 0:
        raise ValueError(
            f"feature_loss={name!r} compares a hidden layer of the student with the "
            "teacher, but hidden_layer_sizes=() gives the student no hidden layer. "
            "Give the student a hidden layer or set feature_loss=None."
        )
    layer = estimator.feature_layer
    if not -n_hidden <= layer < n_hidden:
        raise ValueError(
            f"feature_layer={layer} selects no hidden layer of the student: with "
            f"hidden_layer_sizes={tuple(hidden_layer_sizes)} it must be an int in "
            f"[{-n_hidden}, {n_hidden - 1}]."
        )

    try:
        kind = representation_kind(teacher)
    except TypeError as exc:
        raise TypeError(
            f"feature_loss={name!r} needs an intermediate representation of the "
            f"teacher, but the teacher {type(teacher).__name__} has none that "
            "skdistill can read: it must be a random forest, extra trees, bagging, "
            "gradient boosting, hist gradient boosting, AdaBoost, voting or stacking "
            "ensemble, a scikit-learn MLP, a torch module, a skorch net, or a "
            "Pipeline ending in one of these. Set feature_loss=None for this teacher."
        ) from exc
    check_feature_loss_teacher(name, teacher, kind)
    if estimator.teacher_layer is not None and kind != NEURAL:
        raise ValueError(
            f"teacher_layer={estimator.teacher_layer!r} selects a hidden layer of a "
            f"neural teacher, but the teacher {type(teacher).__name__} is an "
            f"{kind}. Leave teacher_layer=None for this teacher."
        )
    # Building a throwaway loss checks the names and values of feature_loss_params
    # now rather than after the teacher has been fitted.
    make_feature_loss(name, 2, 2, **(estimator.feature_loss_params or {}))


class FeatureTargets:
    """The teacher's representation, fitted once on the training rows.

    The representation is standardised per column with the training rows' mean and
    standard deviation, so that member outputs on different scales (probabilities,
    raw boosting scores) weigh alike in the hint and relational losses. Attention
    transfer and neuron selectivity transfer read the raw activations, because they
    normalise each row or neuron themselves and standardising would flip the sign of
    ReLU activations whose magnitudes they compare.

    Parameters
    ----------
    estimator : BaseDistilled
        Reads ``feature_loss``, ``feature_components`` and ``teacher_layer``.
    teacher : object
        The fitted teacher.
    X_fit : array-like of shape (n_samples, n_features)
        Training rows in the form the teacher reads.
    random_state : int
        Seeds the row subsample and PCA of the compression.
    """

    def __init__(self, estimator, teacher, X_fit, random_state):
        self.representation = TeacherRepresentation(
            teacher,
            n_components=estimator.feature_components,
            layer=estimator.teacher_layer,
            random_state=random_state,
        ).fit(X_fit)
        raw = self.representation.transform(X_fit).astype(np.float64)
        self.mean = np.zeros(raw.shape[1])
        self.scale = np.ones(raw.shape[1])
        if not feature_loss_class(estimator.feature_loss).requires_neural_teacher:
            self.mean = raw.mean(axis=0)
            scale = raw.std(axis=0)
            # A column that is constant on the training rows carries nothing to copy.
            self.scale = np.where(scale > 1e-12, scale, 1.0)
        self.width = raw.shape[1]

    def transform(self, X_teacher_rows):
        """Return the standardised representation of rows as float32."""
        raw = self.representation.transform(X_teacher_rows).astype(np.float64)
        return ((raw - self.mean) / self.scale).astype(np.float32)


def make_loss_module(estimator, student_width, teacher_width, device):
    """Build the feature loss on ``device``; its parameters train with the student."""
    loss = make_feature_loss(
        estimator.feature_loss,
        student_width,
        teacher_width,
        **(estimator.feature_loss_params or {}),
    )
    return loss.to(device)


def with_feature_term(output_loss, student, loss_module, weight, layer):
    """Add the weighted feature term to a batch loss.

    Parameters
    ----------
    output_loss : callable
        ``output_loss(output, batch) -> (loss, terms)`` on the student's outputs.
    student : MLPStudent
        The student, whose hidden activations the feature term reads.
    loss_module : torch.nn.Module
        The feature loss.
    weight : float
        Weight of the feature term.
    layer : int
        Index of the student's hidden layer.

    Returns
    -------
    batch_loss : callable
        ``batch_loss(net, batch) -> (loss, terms)``. A batch without a
        ``"feature"`` column (the validation rows) gets the output loss alone, so
        early stopping monitors how well the student copies the teacher's outputs.
    """

    def batch_loss(net, batch):
        if "feature" not in batch:
            return output_loss(net(batch["X"]), batch)
        hidden, output = student.hidden_and_output(batch["X"])
        total, terms = output_loss(output, batch)
        # The relational, contrastive and NST losses compare rows of a batch with
        # each other, so a last batch of one row contributes no feature term.
        if len(batch["X"]) >= 2:
            feature = loss_module(hidden[layer], batch["feature"])
        else:
            feature = torch.zeros((), device=output.device)
        return total + weight * feature, {**terms, "feature": feature}

    return batch_loss
