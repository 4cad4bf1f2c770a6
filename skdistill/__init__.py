"""Distil scikit-learn ensembles into small PyTorch MLP students."""

__version__ = "0.1.0"
