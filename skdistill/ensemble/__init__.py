"""Soft targets from fitted scikit-learn ensembles and other classifiers."""

from ._logits import teacher_logits

__all__ = ["teacher_logits"]
