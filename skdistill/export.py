"""Safe loading with skops and export of fitted students to ONNX.

A fitted estimator of this library saves as numpy arrays only, because its torch
module is rebuilt from the arrays on loading. So :func:`skops.io.load` can read it
after trusting nothing but this library's own estimator types. :func:`load` does that.

:func:`to_onnx` turns a fitted distilled estimator or student, alone or as the last
step of a scikit-learn ``Pipeline``, into one ONNX graph with skl2onnx. The graph
computes the student's standardisation and layers. A classifier's graph adds a
softmax and outputs labels and probabilities the way skl2onnx's own classifiers do.
A regressor's graph outputs the predictions in the units of ``y``. The teacher is
not part of the graph, because prediction never uses it.

Both need the ``export`` extra: ``pip install "skdistill[export]"``.
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._classifier import DistilledClassifier, StudentClassifier
from ._regressor import DistilledRegressor, StudentRegressor

__all__ = ["load", "register_onnx_converters", "to_onnx", "trusted_types"]

_CLASSIFIER_TYPES = (DistilledClassifier, StudentClassifier)
_REGRESSOR_TYPES = (DistilledRegressor, StudentRegressor)

# Classes whose instances a skops file of this library may contain. Their saved state
# is numpy arrays, numbers and strings, and prediction indexes those arrays only
# through numpy, which checks every index.
_ESTIMATOR_TYPES = _CLASSIFIER_TYPES + _REGRESSOR_TYPES

# skops 0.16 does not trust numpy dtypes by default, yet fitted scikit-learn
# transformers such as SimpleImputer store one. skops rebuilds a dtype from an empty
# array that numpy.load reads with allow_pickle=False, so loading one runs no code.
_NUMPY_TYPES = ("numpy.dtype",)

_ONNX_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [False, True],
    "output_class_labels": [False, True],
}


def _type_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_extra(name):
    try:
        return __import__(name, fromlist=["_"])
    except ImportError as exc:
        raise ImportError(
            f"{name} is not installed, but saving and exporting skdistill models "
            'needs it. Install the export extra: pip install "skdistill[export]".'
        ) from exc


def trusted_types():
    """List the type names that :func:`load` trusts beyond skops' defaults.

    These are the estimator classes of this library and ``numpy.dtype``. A file
    saved from a :class:`~skdistill.StudentClassifier` or
    :class:`~skdistill.StudentRegressor`, or from a ``Pipeline`` of scikit-learn
    preprocessing ending in one, contains no other untrusted type.

    Returns
    -------
    type_names : list of str
        Fully qualified type names in the form :func:`skops.io.get_untrusted_types`
        reports them.

    Examples
    --------
    >>> from skdistill.export import trusted_types
    >>> "skdistill._classifier.StudentClassifier" in trusted_types()
    True
    """
    return [_type_name(cls) for cls in _ESTIMATOR_TYPES] + list(_NUMPY_TYPES)


def load(file, *, trusted=()):
    """Load a skops file, trusting only this library's types and ``trusted``.

    Loading runs no code from the file: skops builds every object from its stored
    state and raises before building anything if the file contains a type that is
    neither trusted by skops by default, nor in :func:`trusted_types`, nor in
    ``trusted``.

    Parameters
    ----------
    file : str, path-like or file object
        A file written by :func:`skops.io.dump`.
    trusted : sequence of str, default=()
        Further type names to trust, as :func:`skops.io.get_untrusted_types` lists
        them. Add only types you have checked. A ``DistilledClassifier`` saved with a
        tree-ensemble teacher needs ``"sklearn.tree._tree.Tree"`` here, because skops
        does not trust tree nodes by default. To share a model that needs no extra
        trust, save ``model.to_student()`` instead.

    Returns
    -------
    model : object
        The loaded object.

    Raises
    ------
    skops.io.exceptions.UntrustedTypesFoundException
        If the file contains a type that is not trusted. The message lists them.

    Examples
    --------
    >>> import io
    >>> import skops.io
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.export import load
    >>> X, y = load_iris(return_X_y=True)
    >>> model = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=10), max_iter=20, random_state=0
    ... ).fit(X, y)
    >>> file = io.BytesIO(skops.io.dumps(model.to_student()))
    >>> student = load(file)
    >>> bool((student.predict_proba(X) == model.predict_proba(X)).all())
    True
    """
    sio = _import_extra("skops.io")
    if isinstance(trusted, str):
        trusted = [trusted]
    return sio.load(file, trusted=[*trusted_types(), *trusted])


# --- ONNX -----------------------------------------------------------------------------


def _add_node(scope, container, op_type, inputs, **attributes):
    """Add one node with a fresh output name and return that name."""
    output = scope.get_unique_variable_name(op_type.lower())
    container.add_node(
        op_type,
        inputs,
        [output],
        name=scope.get_unique_operator_name(op_type),
        **attributes,
    )
    return output


def _add_scalar(scope, container, name, value):
    scalar = scope.get_unique_variable_name(name)
    container.add_initializer(scalar, _onnx_proto().FLOAT, [], [value])
    return scalar


def _onnx_activation(scope, container, activation, z):
    """Add the nodes of a hidden-layer activation on float32 ``z``; return its name."""
    if activation == "relu":
        return _add_node(scope, container, "Relu", [z])
    if activation == "tanh":
        return _add_node(scope, container, "Tanh", [z])
    if activation == "logistic":
        return _add_node(scope, container, "Sigmoid", [z])
    if activation == "silu":
        sigmoid = _add_node(scope, container, "Sigmoid", [z])
        return _add_node(scope, container, "Mul", [z, sigmoid])
    if activation == "gelu":
        # The exact GELU, 0.5 * z * (1 + erf(z / sqrt(2))), as the numpy path and
        # torch's default compute it. The Erf operator exists from opset 9 on, the
        # Gelu operator only from opset 20.
        sqrt2 = _add_scalar(scope, container, "sqrt2", np.sqrt(2.0))
        one = _add_scalar(scope, container, "one", 1.0)
        half = _add_scalar(scope, container, "half", 0.5)
        scaled = _add_node(scope, container, "Div", [z, sqrt2])
        erf = _add_node(scope, container, "Erf", [scaled])
        gate = _add_node(scope, container, "Add", [erf, one])
        gated = _add_node(scope, container, "Mul", [z, gate])
        return _add_node(scope, container, "Mul", [gated, half])
    raise ValueError(
        f"The student's activation {activation!r} has no ONNX conversion. "
        "Supported activations are 'relu', 'gelu', 'silu', 'tanh' and 'logistic'."
    )


def _onnx_proto():
    return _import_extra("onnx").TensorProto


def _is_double(variable_type):
    from skl2onnx.common.data_types import guess_proto_type

    return guess_proto_type(variable_type) == _onnx_proto().DOUBLE


def _onnx_student_output(scope, container, model, input_variable):
    """Add the student's standardisation and layers; return the float32 logits."""
    proto = _onnx_proto()
    # Standardisation runs in float64 for a double input and float32 otherwise; the
    # layers always run in float32. For float64 input this is what the numpy path
    # does.
    if _is_double(input_variable.type):
        standardise_type, standardise_dtype = proto.DOUBLE, np.float64
    else:
        standardise_type, standardise_dtype = proto.FLOAT, np.float32
    n_features = len(model.input_mean_)
    mean = scope.get_unique_variable_name("input_mean")
    scale = scope.get_unique_variable_name("input_scale")
    for name, values in ((mean, model.input_mean_), (scale, model.input_scale_)):
        container.add_initializer(
            name, standardise_type, [n_features], values.astype(standardise_dtype)
        )
    z = _add_node(
        scope, container, "Cast", [input_variable.full_name], to=standardise_type
    )
    z = _add_node(scope, container, "Sub", [z, mean])
    z = _add_node(scope, container, "Div", [z, scale])
    z = _add_node(scope, container, "Cast", [z], to=proto.FLOAT)

    last = len(model.coefs_) - 1
    for i, (coef, intercept) in enumerate(
        zip(model.coefs_, model.intercepts_, strict=True)
    ):
        coef_name = scope.get_unique_variable_name(f"coef_{i}")
        intercept_name = scope.get_unique_variable_name(f"intercept_{i}")
        container.add_initializer(
            coef_name,
            proto.FLOAT,
            list(coef.shape),
            np.asarray(coef, dtype=np.float32).ravel(),
        )
        container.add_initializer(
            intercept_name,
            proto.FLOAT,
            [len(intercept)],
            np.asarray(intercept, dtype=np.float32),
        )
        z = _add_node(scope, container, "MatMul", [z, coef_name])
        z = _add_node(scope, container, "Add", [z, intercept_name])
        if i < last:
            z = _onnx_activation(scope, container, model.activation_, z)
    return z


def _onnx_label_classes(classes):
    """Return the classes as an ONNX initializer's type and values."""
    proto = _onnx_proto()
    classes = np.asarray(classes)
    if classes.dtype == np.bool_ or np.issubdtype(classes.dtype, np.integer):
        return proto.INT64, classes.astype(np.int64)
    if np.issubdtype(classes.dtype, np.floating):
        as_integers = classes.astype(np.int64)
        if not np.array_equal(as_integers, classes):
            raise ValueError(
                f"ONNX labels must be integers or strings, but the classes "
                f"{classes.tolist()} include non-integer floats. Fit on integer or "
                "string labels to export the model."
            )
        return proto.INT64, as_integers
    if all(isinstance(label, str) for label in classes.tolist()):
        return proto.STRING, np.array([c.encode("utf-8") for c in classes])
    raise ValueError(
        f"ONNX labels must be integers or strings, but the classes have dtype "
        f"{classes.dtype}. Fit on integer or string labels to export the model."
    )


def _convert_classifier(scope, operator, container):
    """Write a fitted student classifier as ONNX nodes (a skl2onnx converter)."""
    from skl2onnx.common.utils_classifier import get_label_classes

    proto = _onnx_proto()
    model = operator.raw_operator
    label_output, probability_output = operator.outputs[:2]
    logits = _onnx_student_output(scope, container, model, operator.inputs[0])

    # Probabilities come out in the float type of the input, like skl2onnx's own
    # classifiers. The numpy path also takes the softmax of float32 logits in
    # float64.
    output_type = proto.DOUBLE if _is_double(operator.inputs[0].type) else proto.FLOAT
    cast_logits = _add_node(scope, container, "Cast", [logits], to=output_type)
    container.add_node(
        "Softmax",
        [cast_logits],
        [probability_output.full_name],
        axis=1,
        name=scope.get_unique_operator_name("Softmax"),
    )

    label_type, classes = _onnx_label_classes(get_label_classes(scope, model))
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(classes_name, label_type, [len(classes)], classes)
    index = _add_node(scope, container, "ArgMax", [logits], axis=1, keepdims=0)
    labels = _add_node(
        scope,
        container,
        "ArrayFeatureExtractor",
        [classes_name, index],
        op_domain="ai.onnx.ml",
    )
    shape = scope.get_unique_variable_name("label_shape")
    container.add_initializer(shape, proto.INT64, [1], [-1])
    container.add_node(
        "Reshape",
        [labels, shape],
        [label_output.full_name],
        name=scope.get_unique_operator_name("Reshape"),
    )


def _regressor_output_shapes(operator):
    """Set the output of a student regressor: one column per target."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils import check_input_and_output_numbers

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    tensor_type = (
        DoubleTensorType if _is_double(operator.inputs[0].type) else FloatTensorType
    )
    n_rows = operator.inputs[0].get_first_dimension()
    n_outputs = int(operator.raw_operator.n_outputs_)
    operator.outputs[0].set_type(tensor_type([n_rows, n_outputs]))


def _convert_regressor(scope, operator, container):
    """Write a fitted student regressor as ONNX nodes (a skl2onnx converter)."""
    proto = _onnx_proto()
    model = operator.raw_operator
    outputs = _onnx_student_output(scope, container, model, operator.inputs[0])

    # The student predicts standardised targets. Undoing the standardisation runs in
    # the input's float type, as the numpy path does in float64.
    if _is_double(operator.inputs[0].type):
        output_type, output_dtype = proto.DOUBLE, np.float64
    else:
        output_type, output_dtype = proto.FLOAT, np.float32
    n_outputs = len(model.target_mean_)
    mean = scope.get_unique_variable_name("target_mean")
    scale = scope.get_unique_variable_name("target_scale")
    for name, values in ((mean, model.target_mean_), (scale, model.target_scale_)):
        container.add_initializer(
            name, output_type, [n_outputs], np.asarray(values, dtype=output_dtype)
        )
    outputs = _add_node(scope, container, "Cast", [outputs], to=output_type)
    outputs = _add_node(scope, container, "Mul", [outputs, scale])
    container.add_node(
        "Add",
        [outputs, mean],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Add"),
    )


def register_onnx_converters():
    """Register skl2onnx converters for this library's estimators.

    After this call, :func:`skl2onnx.to_onnx` and :func:`skl2onnx.convert_sklearn`
    convert the fitted estimators and students of this library anywhere in a
    ``Pipeline``.
    :func:`to_onnx` calls it for you. Calling it again replaces the registration
    with an identical one.

    The classifier converters accept skl2onnx's classifier options ``zipmap`` (True,
    False or ``"columns"``), ``nocl`` and ``output_class_labels``.

    Examples
    --------
    >>> from skdistill.export import register_onnx_converters
    >>> register_onnx_converters()
    """
    skl2onnx = _import_extra("skl2onnx")
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )

    for cls in _CLASSIFIER_TYPES:
        skl2onnx.update_registered_converter(
            cls,
            f"Skdistill{cls.__name__}",
            calculate_linear_classifier_output_shapes,
            _convert_classifier,
            options=_ONNX_OPTIONS,
        )
    for cls in _REGRESSOR_TYPES:
        skl2onnx.update_registered_converter(
            cls,
            f"Skdistill{cls.__name__}",
            _regressor_output_shapes,
            _convert_regressor,
        )


def _default_initial_types(model):
    n_features = getattr(model, "n_features_in_", None)
    if not isinstance(n_features, numbers.Integral):
        raise ValueError(
            f"Cannot tell the input width of {type(model).__name__}: it has no "
            "n_features_in_. Fit it first, or pass X or initial_types to to_onnx."
        )
    from skl2onnx.common.data_types import FloatTensorType

    return [("X", FloatTensorType([None, int(n_features)]))]


def to_onnx(model, X=None, *, initial_types=None, options=None, target_opset=None):
    """Convert a fitted student, or a Pipeline ending in one, to an ONNX model.

    The graph reads raw features and runs the student's standardisation and layers.
    A classifier's graph adds a softmax and, like skl2onnx's classifiers, has two
    outputs: ``label``, the predicted class, and ``probabilities``, the class
    probabilities in the order of ``classes_`` (a list of dicts named
    ``output_probability`` unless the option ``zipmap`` is False). In ONNX Runtime
    the probabilities match ``predict_proba`` to about 1e-6 in float32. A
    regressor's graph has one output, ``variable``, of shape
    ``(n_samples, n_outputs_)`` in the units of ``y``.

    Parameters
    ----------
    model : DistilledClassifier, StudentClassifier, DistilledRegressor, \
            StudentRegressor or Pipeline
        A fitted estimator of this library, or a fitted ``Pipeline`` of scikit-learn
        steps that skl2onnx converts (scalers, one-hot encoders, imputers,
        ``ColumnTransformer``) ending in one.
    X : array-like or DataFrame, default=None
        A few input rows, used only to infer the ONNX input names and types. A float64
        array gives a double-precision input; a DataFrame gives one input per column,
        named after it, as a ``ColumnTransformer`` on named columns needs.
    initial_types : list of (str, skl2onnx type), default=None
        Explicit input names and types, such as
        ``[("X", FloatTensorType([None, 30]))]``. None, with X also None, gives one
        float32 input ``"X"`` of width ``model.n_features_in_``.
    options : dict, default=None
        skl2onnx conversion options, for example ``{"zipmap": False}`` for a plain
        probability tensor, or ``{id(step): {"zipmap": False}}`` for one step.
        Regressors take no options.
    target_opset : int or dict, default=None
        ONNX opset to target; None uses the newest one skl2onnx supports.

    Returns
    -------
    onnx_model : onnx.ModelProto
        Save it with ``onnx_model.SerializeToString()``.

    Raises
    ------
    ImportError
        If skl2onnx or onnx is not installed.
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    ValueError
        If the input width cannot be inferred, or if the classes are neither
        integers nor strings.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier, to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> model = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=10), max_iter=20, random_state=0
    ... ).fit(X, y)
    >>> onnx_model = to_onnx(model, options={"zipmap": False})
    >>> session = onnxruntime.InferenceSession(
    ...     onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> labels, proba = session.run(None, {"X": X.astype(np.float32)})
    >>> bool((labels == model.predict(X)).all())
    True
    >>> bool(np.allclose(proba, model.predict_proba(X), atol=1e-5))
    True
    """
    skl2onnx = _import_extra("skl2onnx")
    check_is_fitted(model)
    register_onnx_converters()
    if X is None and initial_types is None:
        initial_types = _default_initial_types(model)
    if X is not None and not hasattr(X, "columns"):
        X = np.asarray(X)
    return skl2onnx.to_onnx(
        model,
        X,
        initial_types=initial_types,
        options=options,
        target_opset=target_opset,
    )
