"""The student network and its numpy inference path.

The torch module trains the student. Prediction runs through plain numpy on the same
weights and never calls torch, which avoids torch's per-call overhead: for one row,
numpy's per-call cost is a few microseconds against tens of microseconds for a torch
forward pass. torch is still a dependency, because this module imports it and so does
``import skdistill``. Loading a saved estimator therefore needs torch installed.
"""

import numpy as np
import torch
from scipy.special import erf
from torch import nn

from ._dropout import NumpyMaskDropout

ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "logistic")

_TORCH_ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
}


def _gelu(z):
    return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)).astype(z.dtype))


def _silu(z):
    return z / (1.0 + np.exp(-z))


def _logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


_NUMPY_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0, out=z),
    "gelu": _gelu,
    "silu": _silu,
    "tanh": np.tanh,
    "logistic": _logistic,
}


class Standardize(nn.Module):
    """Input standardisation with fixed mean and scale, stored as buffers."""

    def __init__(self, mean, scale):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.scale


class MLPStudent(nn.Module):
    """A multi-layer perceptron that reads raw features and returns raw outputs.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_outputs : int
        Width of the output: the number of classes, or of regression targets.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer.
    activation : {"relu", "gelu", "silu", "tanh", "logistic"}
        Non-linearity after each hidden layer.
    dropout : float
        Dropout probability after each hidden activation, during training only.
    input_mean, input_scale : array-like of shape (n_features,)
        Standardisation applied to raw inputs by :attr:`scaler`.

    Attributes
    ----------
    scaler : Standardize
        Maps raw features to standardised ones.
    net : torch.nn.Sequential
        The layers that read standardised features. Training feeds it features that
        were standardised once in float64, which keeps precision for features with
        large offsets.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes,
        activation="relu",
        dropout=0.0,
        input_mean=None,
        input_scale=None,
    ):
        super().__init__()
        if input_mean is None:
            input_mean = np.zeros(n_features)
        if input_scale is None:
            input_scale = np.ones(n_features)
        self.activation = activation
        self.scaler = Standardize(input_mean, input_scale)
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(width, size))
            layers.append(_TORCH_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(NumpyMaskDropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(self.scaler(x))

    def hidden_and_output(self, x_standardised):
        """Run standardised features through the net, keeping each hidden activation.

        Returns
        -------
        hidden : list of torch.Tensor
            The activation of each hidden layer, after the non-linearity.
        output : torch.Tensor
        """
        hidden = []
        for layer in self.net:
            x_standardised = layer(x_standardised)
            if isinstance(layer, tuple(_TORCH_ACTIVATIONS.values())):
                hidden.append(x_standardised)
        return hidden, x_standardised

    def linear_layers(self):
        return [layer for layer in self.net if isinstance(layer, nn.Linear)]


def extract_weights(module):
    """Copy the linear layers of an :class:`MLPStudent` into float32 numpy arrays.

    Returns
    -------
    coefs : list of ndarray of shape (n_in, n_out)
        Weight matrices, transposed to the ``X @ W`` layout of scikit-learn's MLP.
    intercepts : list of ndarray of shape (n_out,)
    """
    coefs, intercepts = [], []
    for layer in module.linear_layers():
        coefs.append(layer.weight.detach().cpu().numpy().T.copy())
        intercepts.append(layer.bias.detach().cpu().numpy().copy())
    return coefs, intercepts


def load_weights(module, coefs, intercepts):
    """Copy weights from :func:`extract_weights` into the linear layers of ``module``.

    Raises
    ------
    ValueError
        If the number or the shapes of the layers differ.
    """
    layers = module.linear_layers()
    if len(layers) != len(coefs):
        raise ValueError(
            f"The student has {len(layers)} linear layers, but {len(coefs)} weight "
            "matrices were given."
        )
    with torch.no_grad():
        for layer, coef, intercept in zip(layers, coefs, intercepts, strict=True):
            weight = torch.as_tensor(np.asarray(coef).T, dtype=layer.weight.dtype)
            if weight.shape != layer.weight.shape:
                raise ValueError(
                    f"A weight matrix of shape {tuple(np.shape(coef))} does not fit "
                    f"a layer of {layer.in_features} inputs and {layer.out_features} "
                    "outputs."
                )
            layer.weight.copy_(weight)
            layer.bias.copy_(torch.as_tensor(intercept, dtype=layer.bias.dtype))


def student_from_weights(
    coefs, intercepts, activation, input_mean, input_scale, *, dropout=0.0
):
    """Rebuild an :class:`MLPStudent` in eval mode on the CPU from numpy weights.

    The inverse of :func:`extract_weights`: the module's parameters equal the arrays
    bit for bit. The random initialisation of the layers, overwritten at once, runs
    on a forked generator, so torch's global random state ends as it was. Callers
    in threads must hold the lock that training holds, because another thread's
    draws in between would be undone.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray
        As returned by :func:`extract_weights`.
    activation : str
    input_mean, input_scale : ndarray of shape (n_features,)
    dropout : float, default=0.0
        Dropout probability of the rebuilt layers; it has no effect in eval mode.

    Returns
    -------
    student : MLPStudent

    Raises
    ------
    ValueError
        If the shapes of the weight matrices do not chain into a network.
    """
    hidden_layer_sizes = [np.shape(coef)[1] for coef in coefs[:-1]]
    with torch.random.fork_rng(devices=[]):
        student = MLPStudent(
            np.shape(coefs[0])[0],
            np.shape(coefs[-1])[1],
            hidden_layer_sizes,
            activation,
            dropout,
            input_mean,
            input_scale,
        )
    load_weights(student, coefs, intercepts)
    return student.eval()


def forward_numpy(X_standardised, coefs, intercepts, activation):
    """Compute the student's raw outputs with numpy.

    Parameters
    ----------
    X_standardised : ndarray of shape (n_samples, n_features), float32
    coefs, intercepts : lists of ndarray
        As returned by :func:`extract_weights`.
    activation : str

    Returns
    -------
    output : ndarray of shape (n_samples, n_outputs), float32
    """
    activate = _NUMPY_ACTIVATIONS[activation]
    z = X_standardised
    last = len(coefs) - 1
    for i, (coef, intercept) in enumerate(zip(coefs, intercepts, strict=True)):
        z = z @ coef
        z += intercept
        if i < last:
            z = activate(z)
    return z
