"""The checks and state that let ``warm_start=True`` continue a previous student."""

import numpy as np


def previous_student_state(estimator):
    """Return what a warm start continues from, or None for a fresh student.

    The state is read from the fitted numpy arrays rather than from ``student_``, so
    it is the same whatever form the torch module was saved in. It is taken before the
    new ``fit`` validates its data, which resets ``n_features_in_``.
    """
    if not estimator.warm_start or not hasattr(estimator, "coefs_"):
        return None
    return {
        "coefs": estimator.coefs_,
        "intercepts": estimator.intercepts_,
        "mean": estimator.input_mean_,
        "scale": estimator.input_scale_,
        "activation": estimator.activation_,
        "n_features": estimator.n_features_in_,
        "classes": getattr(estimator, "classes_", None),
    }


def check_warm_start(estimator, previous, classes):
    """Raise if the previous student cannot continue on this fit's data and parameters.

    Parameters
    ----------
    estimator : BaseDistilled
        The estimator being fitted, with ``n_features_in_`` already set for the new
        data.
    previous : dict
        As returned by :func:`previous_student_state`.
    classes : ndarray or None
        The classes of the new fit; None for a regressor.

    Raises
    ------
    ValueError
        Listing every difference: the number of features, the classes,
        ``hidden_layer_sizes`` or ``activation``.
    """
    widths = tuple(coef.shape[1] for coef in previous["coefs"][:-1])
    changes = []
    if previous["n_features"] != estimator.n_features_in_:
        changes.append(
            f"X has {estimator.n_features_in_} features instead of "
            f"{previous['n_features']}"
        )
    if classes is not None and not np.array_equal(previous["classes"], classes):
        changes.append(
            f"the classes are {np.asarray(classes).tolist()} instead of "
            f"{np.asarray(previous['classes']).tolist()}"
        )
    if widths != estimator._hidden_layer_sizes():
        changes.append(
            f"hidden_layer_sizes is {estimator.hidden_layer_sizes!r} instead of "
            f"{widths}"
        )
    if previous["activation"] != estimator.activation:
        changes.append(
            f"activation is {estimator.activation!r} instead of "
            f"{previous['activation']!r}"
        )
    if changes:
        raise ValueError(
            f"{type(estimator).__name__} with warm_start=True continues training the "
            f"previous student, but {'; '.join(changes)}. Keep them as in the "
            "previous fit, or set warm_start=False to train a new student."
        )
