"""Soft targets from fitted scikit-learn ensembles and other classifiers.

The ensembles come from scikit-learn (and optionally XGBoost, LightGBM and CatBoost).
This package reads each kind's outputs as logits (:func:`teacher_logits`), makes
honest targets for the rows a teacher was fitted on (:func:`training_logits`,
:func:`oob_logits`, :func:`oof_logits`), and wraps what scikit-learn lacks for
distillation: an average of separately fitted models (:class:`AveragingClassifier`)
and label encoding for XGBoost (:class:`LabelEncodedClassifier`).
"""

from ._averaging import AveragingClassifier
from ._encoding import LabelEncodedClassifier
from ._logits import gives_soft_targets, teacher_logits
from ._predictions import teacher_predictions
from ._targets import (
    TARGET_METHODS,
    TrainingLogits,
    oob_logits,
    oof_logits,
    resolve_target_method,
    supports_oob,
    training_logits,
)

__all__ = [
    "TARGET_METHODS",
    "AveragingClassifier",
    "LabelEncodedClassifier",
    "TrainingLogits",
    "gives_soft_targets",
    "oob_logits",
    "oof_logits",
    "resolve_target_method",
    "supports_oob",
    "teacher_logits",
    "teacher_predictions",
    "training_logits",
]
