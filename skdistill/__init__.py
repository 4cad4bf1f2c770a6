"""Distil scikit-learn ensembles into small PyTorch MLP students."""

from ._classifier import DistilledClassifier, StudentClassifier
from ._regressor import DistilledRegressor, StudentRegressor
from ._teacher_cache import (
    clear_teacher_cache,
    set_teacher_cache_max_bytes,
    teacher_cache_info,
)
from .export import to_onnx

__version__ = "0.1.0"

__all__ = [
    "DistilledClassifier",
    "DistilledRegressor",
    "StudentClassifier",
    "StudentRegressor",
    "clear_teacher_cache",
    "set_teacher_cache_max_bytes",
    "teacher_cache_info",
    "to_onnx",
    "__version__",
]
