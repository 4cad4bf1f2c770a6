"""Soft targets from fitted scikit-learn ensembles and other classifiers."""

from ._logits import teacher_logits
from ._predictions import teacher_predictions

__all__ = ["teacher_logits", "teacher_predictions"]
