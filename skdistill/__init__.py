"""Distil scikit-learn ensembles into small PyTorch MLP students."""

from ._classifier import DistilledClassifier, StudentClassifier
from ._regressor import DistilledRegressor, StudentRegressor

__version__ = "0.1.0"

__all__ = [
    "DistilledClassifier",
    "DistilledRegressor",
    "StudentClassifier",
    "StudentRegressor",
    "__version__",
]
