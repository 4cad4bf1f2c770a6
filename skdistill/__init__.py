"""Distil scikit-learn ensembles into small PyTorch MLP students."""

from ._classifier import DistilledClassifier, StudentClassifier
from ._regressor import DistilledRegressor, StudentRegressor
from .export import to_onnx

__version__ = "0.1.0"

__all__ = [
    "DistilledClassifier",
    "DistilledRegressor",
    "StudentClassifier",
    "StudentRegressor",
    "to_onnx",
    "__version__",
]
