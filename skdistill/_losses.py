"""Output-matching losses of knowledge distillation.

Every function returns per-sample losses so that the caller can weight and average them,
and none of them knows anything of scikit-learn or of the teacher that produced the
targets.
"""

import torch
import torch.nn.functional as F


def soft_target_kl(student_logits, teacher_logits, temperature):
    """Compute the temperature-scaled KL divergence from teacher to student, per sample.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        Raw outputs of the student.
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
        Soft-target logits of the teacher, columns in the student's class order.
    temperature : float
        Softening temperature T > 0 applied to both sets of logits.

    Returns
    -------
    kl : torch.Tensor of shape (n_samples,)
        ``T**2 * KL(softmax(teacher / T) || softmax(student / T))``, summed over
        classes.

    Notes
    -----
    The gradient of the softened KL term shrinks as ``1 / T**2`` when T grows, so the
    factor ``T**2`` keeps its size comparable with the hard-label term across
    temperatures (Hinton, Vinyals and Dean, 2015).
    """
    student_log_p = F.log_softmax(student_logits / temperature, dim=1)
    teacher_log_p = F.log_softmax(teacher_logits / temperature, dim=1)
    kl = F.kl_div(student_log_p, teacher_log_p, reduction="none", log_target=True)
    return kl.sum(dim=1) * temperature**2


def hard_target_cross_entropy(student_logits, y):
    """Compute the cross-entropy on the true labels, per sample.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        Raw outputs of the student.
    y : torch.Tensor of shape (n_samples,), dtype int64
        Encoded labels. A negative label marks a row without a label (a transfer row
        labelled by the teacher alone), whose loss is zero.

    Returns
    -------
    ce : torch.Tensor of shape (n_samples,)
    """
    labelled = y >= 0
    ce = F.cross_entropy(student_logits, y.clamp(min=0), reduction="none")
    return torch.where(labelled, ce, torch.zeros_like(ce))


def classification_distillation_loss(
    student_logits, teacher_logits, y, sample_weight, *, temperature, alpha
):
    """Blend the soft-target and hard-target losses of a batch.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
    y : torch.Tensor of shape (n_samples,), dtype int64
        Encoded labels, negative for rows without a label.
    sample_weight : torch.Tensor of shape (n_samples,)
        Weights normalised to a mean of one over the training rows, so that the mean
        of a batch estimates the weighted mean over all rows.
    temperature : float
    alpha : float
        Weight of the soft-target term, in [0, 1].

    Returns
    -------
    total, kd, ce : torch.Tensor scalars
        ``total = alpha * kd + (1 - alpha) * ce``, each term a weighted batch mean.
    """
    kd = torch.zeros((), device=student_logits.device)
    ce = torch.zeros((), device=student_logits.device)
    if alpha > 0:
        kd = (
            sample_weight * soft_target_kl(student_logits, teacher_logits, temperature)
        ).mean()
    if alpha < 1:
        ce = (sample_weight * hard_target_cross_entropy(student_logits, y)).mean()
    return alpha * kd + (1 - alpha) * ce, kd, ce


def regression_distillation_loss(
    prediction, teacher_prediction, y, sample_weight, *, alpha
):
    """Blend the squared error to the teacher and to the true targets of a batch.

    Parameters
    ----------
    prediction : torch.Tensor of shape (n_samples, n_outputs)
        Student outputs on the standardised target scale.
    teacher_prediction : torch.Tensor of shape (n_samples, n_outputs)
        Teacher predictions on the same scale.
    y : torch.Tensor of shape (n_samples, n_outputs)
        True targets on the same scale; NaN marks a row without a label.
    sample_weight : torch.Tensor of shape (n_samples,)
    alpha : float
        Weight of the teacher term, in [0, 1].

    Returns
    -------
    total, teacher_term, label_term : torch.Tensor scalars
    """
    teacher_term = ((prediction - teacher_prediction) ** 2).mean(dim=1)
    labelled = ~torch.isnan(y)
    label_error = torch.where(labelled, prediction - y, torch.zeros_like(prediction))
    label_term = (label_error**2).mean(dim=1)
    teacher_term = (sample_weight * teacher_term).mean()
    label_term = (sample_weight * label_term).mean()
    return alpha * teacher_term + (1 - alpha) * label_term, teacher_term, label_term
