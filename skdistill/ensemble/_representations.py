"""Intermediate representations of a fitted teacher for feature distillation.

A feature-distillation loss compares a hidden layer of the student with an
intermediate representation of the teacher. This module defines that
representation for each kind of teacher and computes it in row chunks:

- for an ensemble, the outputs of its members (trees, boosting stages, voters,
  base estimators of a stack), optionally compressed to a fixed width;
- for a neural teacher (``MLPClassifier``, ``MLPRegressor``, a torch
  ``nn.Module`` or a skorch net), the activations of one hidden layer.

The module needs only NumPy and scikit-learn. torch is imported inside the
torch branch, and only when the teacher is a torch module, so importing this
module never imports torch.
"""

import numbers
import sys

import numpy as np
from scipy.special import expit
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin, is_classifier
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    BaggingClassifier,
    BaggingRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

# `_safe_indexing` is private but stable: present in scikit-learn 0.24 to 1.9.
from sklearn.utils import _safe_indexing, check_array, check_random_state, gen_batches
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

NEURAL = "neural"
ENSEMBLE = "ensemble"
CUSTOM = "custom"
REPRESENTATION_KINDS = (NEURAL, ENSEMBLE, CUSTOM)

_COMPRESSIONS = ("auto", "pca", "average", None)

# Bytes kept per row and per raw column while a chunk is processed: the member
# blocks, their concatenation and the compressed copy, all in float64.
_BYTES_PER_VALUE = 3 * 8


def _identity(z):
    return z


def _relu(z):
    return np.maximum(z, 0.0)


# The activation names of scikit-learn's MLP estimators.
_MLP_ACTIVATIONS = {
    "identity": _identity,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": _relu,
}


def _as_columns(values):
    """Reshape a member output to a 2-D float64 array with one row per sample."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return values.reshape(-1, 1)
    return values.reshape(values.shape[0], -1)


def _class_scores(proba):
    """Drop the first column of binary class probabilities.

    The two columns of a binary problem sum to one, so the second column alone
    carries all the information, as in scikit-learn's stacking.
    """
    proba = _as_columns(proba)
    if proba.shape[1] == 2:
        return proba[:, 1:]
    return proba


def _one_hot(codes, n_classes):
    votes = np.zeros((codes.shape[0], n_classes))
    votes[np.arange(codes.shape[0]), codes.astype(np.intp)] = 1.0
    return votes


def _forest_outputs(teacher, X):
    """Class probabilities or predictions of each tree of a forest."""
    # Each tree validates X again with its own rules on missing values.
    X = check_array(X, dtype=np.float32, accept_sparse="csr", ensure_all_finite=False)
    if is_classifier(teacher):
        return [_class_scores(tree.predict_proba(X)) for tree in teacher.estimators_]
    return [_as_columns(tree.predict(X)) for tree in teacher.estimators_]


def _bagging_member_proba(member, X, n_classes):
    """Class probabilities of a bagging member over all classes of the bag.

    A member fitted on a bootstrap sample may have seen only some classes, so
    its columns are placed by its `classes_`, which are integer codes because
    bagging encodes the targets before fitting the members. A member without
    `predict_proba` contributes a one-hot vote, as in bagging's own
    `predict_proba`.
    """
    if not hasattr(member, "predict_proba"):
        return _one_hot(member.predict(X), n_classes)
    proba = np.zeros((X.shape[0], n_classes))
    proba[:, member.classes_.astype(np.intp)] = member.predict_proba(X)
    return proba


def _bagging_outputs(teacher, X):
    """Outputs of each bagging member on the features it was fitted on."""
    X = check_array(
        X, accept_sparse=["csr", "csc"], dtype=None, ensure_all_finite=False
    )
    blocks = []
    for member, features in zip(
        teacher.estimators_, teacher.estimators_features_, strict=True
    ):
        X_member = X[:, features]
        if is_classifier(teacher):
            proba = _bagging_member_proba(member, X_member, teacher.n_classes_)
            blocks.append(_class_scores(proba))
        else:
            blocks.append(_as_columns(member.predict(X_member)))
    return blocks


def _gradient_boosting_outputs(teacher, X):
    """Additive raw-score contribution of each boosting stage.

    A stage contributes ``learning_rate * tree.predict(X)`` for each of its
    trees (one per class for multiclass problems, else one), so the blocks sum
    to the teacher's raw prediction minus the constant of its initial model.
    """
    X = check_array(X, dtype=np.float32, accept_sparse="csr")
    return [
        teacher.learning_rate * np.column_stack([tree.predict(X) for tree in stage])
        for stage in teacher.estimators_
    ]


def _hist_gradient_boosting_outputs(teacher, X):
    """Per-iteration raw-score contributions from the staged predictions.

    The trees of a histogram gradient boosting model are only reachable through
    private attributes, so the contribution of iteration ``i`` is taken as the
    difference of the public staged predictions at ``i`` and ``i - 1``. The
    first block is the staged prediction after one iteration, so it also holds
    the constant baseline. For classifiers the staged values are raw decision
    values. For regressors they come from `staged_predict`, which equals the raw
    scale only for losses with the identity link (not "poisson" or "gamma").
    """
    if is_classifier(teacher):
        staged = teacher.staged_decision_function(X)
    else:
        staged = teacher.staged_predict(X)
    blocks = []
    previous = None
    for raw in staged:
        raw = _as_columns(raw)
        blocks.append(raw if previous is None else raw - previous)
        previous = raw
    return blocks


def _adaboost_outputs(teacher, X):
    """Weighted vote of each AdaBoost member, or each regressor's prediction.

    For a classifier, member ``m`` with weight ``w_m`` contributes ``w_m`` to
    the class it predicts and ``-w_m / (K - 1)`` to the other classes, the terms
    that AdaBoost's (SAMME) `decision_function` sums. With two classes the
    block is one column, ``w_m`` or ``-w_m`` for the second or first class.
    """
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=None)
    if not is_classifier(teacher):
        return [_as_columns(member.predict(X)) for member in teacher.estimators_]

    classes = teacher.classes_
    n_classes = len(classes)
    blocks = []
    for member, weight in zip(
        teacher.estimators_, teacher.estimator_weights_, strict=False
    ):
        predicted = member.predict(X)
        if n_classes == 2:
            sign = np.where(predicted == classes[1], 1.0, -1.0)
            blocks.append(weight * sign.reshape(-1, 1))
        else:
            hits = predicted[:, np.newaxis] == classes[np.newaxis, :]
            blocks.append(np.where(hits, weight, -weight / (n_classes - 1)))
    return blocks


def _voting_outputs(teacher, X):
    """Output of each voter: probabilities for soft voting, one-hot votes for hard.

    The voters of a `VotingClassifier` are fitted on label-encoded targets, so
    their predictions are the codes ``0 .. K - 1`` used for the one-hot votes.
    The voting weights are not applied.
    """
    if not is_classifier(teacher):
        return [_as_columns(member.predict(X)) for member in teacher.estimators_]
    if teacher.voting == "soft":
        return [
            _class_scores(member.predict_proba(X)) for member in teacher.estimators_
        ]
    n_classes = len(teacher.classes_)
    return [
        _class_scores(_one_hot(member.predict(X), n_classes))
        for member in teacher.estimators_
    ]


def _stacking_outputs(teacher, X):
    """Outputs of each base estimator, as the final estimator receives them.

    This follows `StackingClassifier.transform` without its passthrough
    columns: the method in `stack_method_` for each base estimator, and only
    the second probability column for binary `predict_proba`.
    """
    blocks = []
    for member, method in zip(teacher.estimators_, teacher.stack_method_, strict=True):
        if isinstance(member, str) and member == "drop":
            continue
        output = getattr(member, method)(X)
        if method == "predict_proba" and len(teacher.classes_) == 2:
            blocks.append(_class_scores(output))
        else:
            blocks.append(_as_columns(output))
    return blocks


_ENSEMBLE_OUTPUTS = (
    (
        (
            RandomForestClassifier,
            RandomForestRegressor,
            ExtraTreesClassifier,
            ExtraTreesRegressor,
        ),
        _forest_outputs,
    ),
    ((BaggingClassifier, BaggingRegressor), _bagging_outputs),
    (
        (GradientBoostingClassifier, GradientBoostingRegressor),
        _gradient_boosting_outputs,
    ),
    (
        (HistGradientBoostingClassifier, HistGradientBoostingRegressor),
        _hist_gradient_boosting_outputs,
    ),
    ((AdaBoostClassifier, AdaBoostRegressor), _adaboost_outputs),
    ((VotingClassifier, VotingRegressor), _voting_outputs),
    ((StackingClassifier, StackingRegressor), _stacking_outputs),
)

_SUPPORTED_TEACHERS = (
    "RandomForest, ExtraTrees, Bagging, GradientBoosting, HistGradientBoosting, "
    "AdaBoost, Voting and Stacking classifiers and regressors, MLPClassifier, "
    "MLPRegressor, a torch nn.Module, a skorch net, or a Pipeline ending in one "
    "of these"
)


def _ensemble_output_function(estimator):
    for classes, output_function in _ENSEMBLE_OUTPUTS:
        if isinstance(estimator, classes):
            return output_function
    return None


def _mlp_hidden_layer_index(teacher, layer):
    n_hidden = teacher.n_layers_ - 2
    name = type(teacher).__name__
    if n_hidden < 1:
        raise ValueError(
            f"The teacher {name} has no hidden layer, so it has no hidden "
            "activations to distil. Fit it with a non-empty hidden_layer_sizes."
        )
    if layer is None:
        return n_hidden - 1
    if (
        isinstance(layer, bool)
        or not isinstance(layer, numbers.Integral)
        or not -n_hidden <= layer < n_hidden
    ):
        raise ValueError(
            f"layer must be an int in [{-n_hidden}, {n_hidden - 1}] selecting one "
            f"of the {n_hidden} hidden layers of {name}; got {layer!r}."
        )
    return int(layer) % n_hidden


def _mlp_activations(teacher, X, layer):
    """Activations of one hidden layer of a scikit-learn MLP, from its weights."""
    index = _mlp_hidden_layer_index(teacher, layer)
    activation = _MLP_ACTIVATIONS[teacher.activation]
    hidden = check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64)
    for weights, bias in zip(
        teacher.coefs_[: index + 1], teacher.intercepts_, strict=False
    ):
        hidden = activation(safe_sparse_dot(hidden, weights) + bias)
    return [hidden]


def _torch_module(estimator):
    """Return the torch module of a torch or skorch teacher, else None.

    An object can only be a torch module if torch is already imported, so
    looking in `sys.modules` keeps torch unimported for every other teacher.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if isinstance(estimator, torch.nn.Module):
        return estimator
    # skorch nets store the initialised module in `module_`.
    module = getattr(estimator, "module_", None)
    if isinstance(module, torch.nn.Module):
        return module
    return None


def _is_skorch_net(estimator):
    return type(estimator).__module__.split(".")[0] == "skorch"


def _torch_target_layer(module, layer):
    """Find the layer to read and whether to read its input or its output."""
    import torch

    if layer is None:
        linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise ValueError(
                f"The torch teacher {type(module).__name__} has no nn.Linear layer "
                "whose input could serve as its last hidden activation. Pass the "
                "name of a submodule as layer, or pass representation_fn."
            )
        return linears[-1], True

    named = dict(module.named_modules())
    if not isinstance(layer, str) or layer not in named or layer == "":
        names = ", ".join(repr(name) for name in named if name)
        raise ValueError(
            f"layer must name a submodule of the torch teacher "
            f"{type(module).__name__}; got {layer!r}. Submodules: {names}."
        )
    return named[layer], False


def _torch_activations(module, X, layer):
    """Run a torch module on X and capture one layer's output with a hook.

    With ``layer=None`` the hook captures the input of the last `nn.Linear`
    registered in the module, which for a `Sequential` MLP is the activation of
    its last hidden layer.
    """
    import torch

    target, read_input = _torch_target_layer(module, layer)
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = torch.float32
    if parameter is not None and parameter.is_floating_point():
        dtype = parameter.dtype

    captured = []
    if read_input:
        handle = target.register_forward_pre_hook(
            lambda _module, args: captured.append(args[0])
        )
    else:
        handle = target.register_forward_hook(
            lambda _module, _args, output: captured.append(output)
        )

    # Evaluation mode makes dropout and batch normalisation deterministic. The
    # module's previous mode is restored afterwards.
    inputs = torch.as_tensor(check_array(X, dtype=np.float32), dtype=dtype)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(inputs.to(device))
    finally:
        handle.remove()
        module.train(was_training)

    name = layer if layer is not None else "the last nn.Linear input"
    if len(captured) != 1 or not isinstance(captured[0], torch.Tensor):
        raise ValueError(
            f"The layer {name!r} of the torch teacher must be called exactly once "
            f"per forward pass and produce one tensor; it produced {len(captured)} "
            "values. Pass representation_fn for such modules."
        )
    activation = captured[0].detach().reshape(captured[0].shape[0], -1)
    return [activation.to(device="cpu", dtype=torch.float64).numpy()]


def _user_representation(representation_fn, X, n_rows):
    output = representation_fn(X)
    if hasattr(output, "detach"):
        output = output.detach().cpu().numpy()
    output = np.asarray(output, dtype=np.float64)
    if output.ndim == 0 or output.shape[0] != n_rows:
        raise ValueError(
            f"representation_fn must return one row per input row; it returned an "
            f"array of shape {output.shape} for {n_rows} rows."
        )
    return [_as_columns(output)]


def _split_pipeline(teacher):
    """Split a Pipeline into its preprocessing steps and its final estimator."""
    if not isinstance(teacher, Pipeline):
        return None, teacher
    final = teacher.steps[-1][1]
    head = teacher[:-1] if len(teacher.steps) > 1 else None
    return head, final


def _teacher_kind(teacher, representation_fn):
    _, final = _split_pipeline(teacher)
    if _torch_module(final) is not None or isinstance(
        final, (MLPClassifier, MLPRegressor)
    ):
        return NEURAL
    if _is_skorch_net(final):
        return NEURAL
    if _ensemble_output_function(final) is not None:
        return ENSEMBLE
    if representation_fn is not None:
        return CUSTOM
    raise TypeError(
        f"Unsupported teacher {type(teacher).__name__}: the teacher must be one of "
        f"{_SUPPORTED_TEACHERS}. For another teacher, pass representation_fn, a "
        "callable that returns the representation of a chunk of rows."
    )


def representation_kind(teacher, *, representation_fn=None):
    """Return whether a teacher's representation is neural or ensemble.

    Parameters
    ----------
    teacher : estimator, torch.nn.Module or skorch net
        The teacher, fitted or not.
    representation_fn : callable, default=None
        The callable that would compute the representation. It matters only for
        teachers that are neither neural nor a supported ensemble.

    Returns
    -------
    kind : {"neural", "ensemble", "custom"}
        "neural" for hidden-layer activations (`MLPClassifier`,
        `MLPRegressor`, torch modules, skorch nets), "ensemble" for the outputs
        of an ensemble's members, and "custom" for an unsupported teacher with a
        `representation_fn`. A `Pipeline` takes the kind of its final step.

    Raises
    ------
    TypeError
        If the teacher is not supported and `representation_fn` is None.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill.ensemble._representations import representation_kind
    >>> representation_kind(RandomForestClassifier())
    'ensemble'
    """
    return _teacher_kind(teacher, representation_fn)


class _Extractor:
    """Compute the raw representation blocks of a validated teacher."""

    def __init__(self, teacher, layer, representation_fn):
        if representation_fn is not None and not callable(representation_fn):
            raise ValueError(
                f"representation_fn must be None or a callable; got "
                f"{type(representation_fn).__name__}."
            )
        if representation_fn is not None and layer is not None:
            raise ValueError(
                "Pass either layer or representation_fn, not both: layer selects "
                "a hidden layer that representation_fn would ignore."
            )
        self.kind = _teacher_kind(teacher, representation_fn)
        if layer is not None and self.kind != NEURAL:
            raise ValueError(
                f"layer applies only to neural teachers; the teacher "
                f"{type(teacher).__name__} is not one, so pass layer=None."
            )

        self.teacher = teacher
        self.layer = layer
        self.representation_fn = representation_fn
        self.head, self.final = _split_pipeline(teacher)
        self.module = _torch_module(self.final)
        self._check_fitted()

    def _check_fitted(self):
        if self.module is None and _is_skorch_net(self.final):
            raise NotFittedError(
                f"This {type(self.final).__name__} instance is not initialized "
                "yet. Call 'fit' or 'initialize' before computing its "
                "representation."
            )
        # A torch module has no fitted state to check, and the teacher behind
        # a custom representation_fn may not be a scikit-learn estimator.
        if self.kind != CUSTOM and (self.module is None or self.head is not None):
            check_is_fitted(self.teacher)
        multi_output = getattr(self.final, "n_outputs_", 1) > 1
        if self.kind == ENSEMBLE and is_classifier(self.final) and multi_output:
            raise ValueError(
                f"Multi-output classification teachers are not supported; the "
                f"teacher {type(self.teacher).__name__} has "
                f"{self.final.n_outputs_} outputs."
            )

    def blocks(self, X):
        """Return the list of 2-D float64 blocks for the rows of X."""
        if self.representation_fn is not None:
            return _user_representation(self.representation_fn, X, X.shape[0])
        if self.head is not None:
            X = self.head.transform(X)
        if self.module is not None:
            return _torch_activations(self.module, X, self.layer)
        if isinstance(self.final, (MLPClassifier, MLPRegressor)):
            return _mlp_activations(self.final, X, self.layer)
        return _ensemble_output_function(self.final)(self.final, X)


def _check_rows(X):
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if len(X.shape) != 2:
        raise ValueError(
            f"X must be 2-D, of shape (n_samples, n_features); got an array of "
            f"shape {X.shape}. Reshape a single feature with X.reshape(-1, 1)."
        )
    if X.shape[0] < 1:
        raise ValueError("X has no rows; at least one row is required.")
    return X


def _check_n_features(teacher, X):
    expected = getattr(teacher, "n_features_in_", None)
    if expected is not None and X.shape[1] != expected:
        raise ValueError(
            f"X has {X.shape[1]} features, but the teacher "
            f"{type(teacher).__name__} was fitted with {expected} features."
        )


def _check_optional_int(name, value, minimum):
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise ValueError(f"{name} must be None or an int >= {minimum}; got {value!r}.")


def _chunk_rows(chunk_size, n_raw_features):
    """Return the rows per chunk, bounded by scikit-learn's working_memory."""
    if chunk_size is not None:
        return chunk_size
    budget = get_config()["working_memory"] * 2**20
    return max(1, int(budget // (_BYTES_PER_VALUE * max(n_raw_features, 1))))


class TeacherRepresentation(TransformerMixin, BaseEstimator):
    """Intermediate representation of a fitted teacher, at a fixed width.

    For an ensemble the representation is the outputs of its members, and for
    a neural teacher the activations of one hidden layer. When an ensemble has
    more member outputs than `n_components`, a compression fitted on the rows
    given to `fit` brings them to a fixed width, and `transform` applies the
    same compression to any other rows. Rows are processed in chunks, so the
    full raw representation of a large `X` is never held in memory at once.

    Member outputs, one block per member and concatenated in member order:

    - `RandomForest*`, `ExtraTrees*`: each tree's class probabilities
      (classifiers) or predictions (regressors).
    - `Bagging*`: each member's class probabilities over all classes, or a
      one-hot vote for members without `predict_proba`; predictions for
      regressors.
    - `GradientBoosting*`: each stage's additive raw score,
      ``learning_rate * tree.predict(X)`` for each tree of the stage.
    - `HistGradientBoosting*`: each iteration's change of the staged raw
      prediction (`staged_decision_function`, or `staged_predict` for
      regressors). The first block also holds the constant baseline.
    - `AdaBoost*`: each member's weighted SAMME vote for classifiers, each
      member's prediction for regressors.
    - `Voting*`: each voter's class probabilities for soft voting, one-hot
      votes for hard voting, predictions for regressors.
    - `Stacking*`: each base estimator's output as the final estimator receives it
      (the columns of `transform` without the passthrough features).

    For two classes only the second of two probability or vote columns is kept
    because the two sum to one.

    Parameters
    ----------
    teacher : estimator, torch.nn.Module or skorch net
        The fitted teacher. It is read, never refitted or modified. A
        `Pipeline` is supported when its final step is: the earlier steps
        transform `X` first.
    n_components : int or None, default=64
        Width of the compressed representation. Representations no wider than
        this are returned unchanged. None disables the compression.
    compression : {"auto", "pca", "average"} or None, default="auto"
        How a representation wider than `n_components` is compressed.

        - "pca": principal component analysis fitted on the (sub-sampled)
          training rows. The member outputs are centred but not scaled, so
          members that move the prediction more weigh more.
        - "average": the members are split into consecutive groups and each
          group's outputs are averaged, which keeps the meaning of each column
          (a class probability, a raw score). The width is
          ``n_groups * member_width`` with
          ``n_groups = max(1, n_components // member_width)``, which can be
          below `n_components`. Only for ensembles whose members all have the
          same width.
        - "auto": "pca" for ensembles, no compression for neural and custom
          representations, whose per-neuron structure the attention and
          neuron-selectivity losses rely on.
        - None: no compression.
    subsample : int or None, default=10_000
        Maximum number of rows, drawn at random without replacement, used to
        fit the PCA. None uses all rows.
    layer : int, str or None, default=None
        The hidden layer of a neural teacher. For `MLPClassifier` and
        `MLPRegressor`, an index into the hidden layers (negative indices count
        from the last); None selects the last hidden layer. For a torch module
        or skorch net, the name of a submodule (as in `named_modules`) whose
        output is read through a forward hook; None reads the input of the last
        `nn.Linear`. Must be None for other teachers.
    representation_fn : callable or None, default=None
        A callable that takes a chunk of rows of `X`, as given to `fit` or
        `transform`, and returns an array or tensor with one row per input row.
        It replaces the built-in representation and makes any teacher usable.
    chunk_size : int or None, default=None
        Rows per chunk. None derives it from scikit-learn's `working_memory`
        setting and the raw width.
    random_state : int, RandomState instance or None, default=None
        Seeds the row subsample and the randomized solver of the PCA.

    Attributes
    ----------
    kind_ : {"neural", "ensemble", "custom"}
        Whether the representation is hidden-layer activations, member outputs,
        or the output of `representation_fn` for another teacher.
    member_widths_ : ndarray of shape (n_members,)
        Width of each member's block of the raw representation. A neural or
        custom representation counts as one member.
    n_features_raw_ : int
        Width of the raw representation before compression.
    n_features_out_ : int
        Width of the arrays returned by `transform`.
    compression_ : {"pca", "average"} or None
        The compression applied, after resolving "auto" and skipping
        representations no wider than `n_components`.
    compressor_ : PCA or None
        The fitted PCA when `compression_` is "pca".
    member_groups_ : list of ndarray or None
        The member indices averaged together when `compression_` is "average".
    chunk_size_ : int
        Rows per chunk used by `transform`.
    n_features_in_ : int
        Number of features of `X` seen in `fit`.

    See Also
    --------
    teacher_representation : The raw representation, without compression.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill.ensemble._representations import TeacherRepresentation
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)
    >>> representation = TeacherRepresentation(forest, n_components=8, random_state=0)
    >>> Z = representation.fit(X).transform(X)
    >>> Z.shape, Z.dtype, representation.kind_, representation.n_features_raw_
    ((150, 8), dtype('float32'), 'ensemble', 150)
    """

    def __init__(
        self,
        teacher,
        *,
        n_components=64,
        compression="auto",
        subsample=10_000,
        layer=None,
        representation_fn=None,
        chunk_size=None,
        random_state=None,
    ):
        self.teacher = teacher
        self.n_components = n_components
        self.compression = compression
        self.subsample = subsample
        self.layer = layer
        self.representation_fn = representation_fn
        self.chunk_size = chunk_size
        self.random_state = random_state

    def _validate_params(self):
        _check_optional_int("n_components", self.n_components, 1)
        _check_optional_int("subsample", self.subsample, 2)
        _check_optional_int("chunk_size", self.chunk_size, 1)
        if self.compression not in _COMPRESSIONS:
            raise ValueError(
                "compression must be one of 'auto', 'pca', 'average' or None; "
                f"got {self.compression!r}."
            )

    def _resolve_compression(self, kind, member_widths):
        compression = self.compression
        if compression == "auto":
            compression = "pca" if kind == ENSEMBLE else None
        if compression == "average" and kind != ENSEMBLE:
            raise ValueError(
                f"compression='average' averages groups of ensemble members, but "
                f"the representation of the teacher {type(self.teacher).__name__} "
                f"is {kind}. Use compression='pca' or None."
            )
        if compression == "average" and len(set(member_widths)) > 1:
            raise ValueError(
                f"compression='average' needs members of equal width, but the "
                f"members of {type(self.teacher).__name__} have widths "
                f"{sorted(set(member_widths))}. Use compression='pca'."
            )
        if self.n_components is None or sum(member_widths) <= self.n_components:
            return None
        return compression

    def fit(self, X, y=None):
        """Measure the raw representation and fit its compression.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows, in the format the teacher accepts.
        y : None
            Ignored.

        Returns
        -------
        self : TeacherRepresentation
            The fitted representation.
        """
        self._validate_params()
        X = _check_rows(X)
        extractor = _Extractor(self.teacher, self.layer, self.representation_fn)
        _check_n_features(self.teacher, X)

        member_widths = [
            block.shape[1] for block in extractor.blocks(_safe_indexing(X, [0]))
        ]
        self.kind_ = extractor.kind
        self.member_widths_ = np.asarray(member_widths)
        self.n_features_raw_ = int(sum(member_widths))
        self.n_features_in_ = X.shape[1]
        self.chunk_size_ = _chunk_rows(self.chunk_size, self.n_features_raw_)
        self.compression_ = self._resolve_compression(self.kind_, member_widths)
        self.compressor_ = None
        self.member_groups_ = None

        if self.compression_ == "pca":
            self._fit_pca(extractor, X)
            self.n_features_out_ = int(self.compressor_.n_components_)
        elif self.compression_ == "average":
            member_width = member_widths[0]
            n_groups = min(
                len(member_widths), max(1, self.n_components // member_width)
            )
            self.member_groups_ = np.array_split(
                np.arange(len(member_widths)), n_groups
            )
            self.n_features_out_ = n_groups * member_width
        else:
            self.n_features_out_ = self.n_features_raw_
        return self

    def _fit_pca(self, extractor, X):
        n_rows = X.shape[0]
        if n_rows < 2:
            raise ValueError(
                "Fitting the PCA compression needs at least 2 rows; X has 1. "
                "Pass more rows or set compression=None."
            )
        rows = np.arange(n_rows)
        if self.subsample is not None and n_rows > self.subsample:
            random_state = check_random_state(self.random_state)
            rows = np.sort(random_state.choice(n_rows, self.subsample, replace=False))
        X_fit = _safe_indexing(X, rows)

        raw = np.empty((len(rows), self.n_features_raw_))
        for batch in gen_batches(len(rows), self.chunk_size_):
            raw[batch] = np.hstack(extractor.blocks(_safe_indexing(X_fit, batch)))
        n_components = min(self.n_components, *raw.shape)
        self.compressor_ = PCA(
            n_components=n_components, random_state=self.random_state
        )
        self.compressor_.fit(raw)

    def _compress(self, raw):
        if self.compression_ == "pca":
            return self.compressor_.transform(raw)
        if self.compression_ == "average":
            members = raw.reshape(raw.shape[0], len(self.member_widths_), -1)
            groups = [members[:, group].mean(axis=1) for group in self.member_groups_]
            return np.hstack(groups)
        return raw

    def transform(self, X):
        """Compute the (compressed) representation of rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows, in the format the teacher accepts.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out_), dtype float32
            The representation of each row.
        """
        check_is_fitted(self, "n_features_out_")
        X = _check_rows(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but TeacherRepresentation was "
                f"fitted with {self.n_features_in_} features."
            )
        extractor = _Extractor(self.teacher, self.layer, self.representation_fn)

        Z = np.empty((X.shape[0], self.n_features_out_), dtype=np.float32)
        for batch in gen_batches(X.shape[0], self.chunk_size_):
            raw = np.hstack(extractor.blocks(_safe_indexing(X, batch)))
            if raw.shape[1] != self.n_features_raw_:
                raise ValueError(
                    f"The teacher's raw representation has {raw.shape[1]} columns, "
                    f"but it had {self.n_features_raw_} in fit. Refit the "
                    "TeacherRepresentation after changing the teacher."
                )
            Z[batch] = self._compress(raw)
        return Z


def teacher_representation(
    teacher, X, *, layer=None, representation_fn=None, chunk_size=None
):
    """Compute a teacher's raw intermediate representation, without compression.

    Parameters
    ----------
    teacher : estimator, torch.nn.Module or skorch net
        The fitted teacher. See `TeacherRepresentation` for the supported
        teachers and what their representation is.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Rows, in the format the teacher accepts.
    layer : int, str or None, default=None
        The hidden layer of a neural teacher, as in `TeacherRepresentation`.
    representation_fn : callable or None, default=None
        A callable returning the representation of a chunk of rows, as in
        `TeacherRepresentation`.
    chunk_size : int or None, default=None
        Rows per chunk. None derives it from scikit-learn's `working_memory`.

    Returns
    -------
    Z : ndarray of shape (n_samples, n_features_raw), dtype float32
        The member outputs or hidden activations of each row.

    See Also
    --------
    TeacherRepresentation : The same representation compressed to a fixed
        width, reusable on other rows.
    representation_kind : Whether the representation is neural or ensemble.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from skdistill.ensemble._representations import teacher_representation
    >>> X, y = load_iris(return_X_y=True)
    >>> mlp = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=2000, random_state=0)
    >>> mlp = mlp.fit(X, y)
    >>> teacher_representation(mlp, X).shape
    (150, 8)
    """
    representation = TeacherRepresentation(
        teacher,
        n_components=None,
        compression=None,
        layer=layer,
        representation_fn=representation_fn,
        chunk_size=chunk_size,
    )
    return representation.fit(X).transform(X)
