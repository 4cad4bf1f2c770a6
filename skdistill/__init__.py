"""Distil scikit-learn ensembles into small PyTorch MLP students."""

from ._classifier import DistilledClassifier, StudentClassifier

__version__ = "0.1.0"

__all__ = ["DistilledClassifier", "StudentClassifier", "__version__"]
