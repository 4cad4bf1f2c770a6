"""The teacher nested inside a distilled estimator's HTML representation.

scikit-learn draws a meta-estimator (``GridSearchCV``, ``TransformedTargetRegressor``)
as a box around the estimators it wraps, using the private ``_VisualBlock`` class and
the ``_sk_visual_block_`` hook. The hook here draws the teacher the same way.
"""

try:  # scikit-learn >= 1.7
    from sklearn.utils._repr_html.estimator import _VisualBlock
except ImportError:  # scikit-learn 1.6
    from sklearn.utils._estimator_html_repr import _VisualBlock


def teacher_visual_block(estimator):
    """Return the ``_VisualBlock`` that shows ``estimator``'s teacher inside it.

    A fitted estimator shows the teacher it used (``teacher_``), an unfitted one the
    ``teacher`` parameter, or the default teacher when that is None. The label starts
    with ``teacher`` so that the parameter names the HTML view copies carry the
    ``teacher__`` prefix that ``set_params`` expects.
    """
    if hasattr(estimator, "teacher_"):
        teacher, suffix = estimator.teacher_, ""
    elif estimator.teacher is None:
        teacher, suffix = estimator._default_teacher(), " (default)"
    else:
        teacher, suffix = estimator.teacher, ""

    if isinstance(teacher, list | tuple):
        # A list of fitted models whose averaged outputs are the soft targets.
        return _VisualBlock(
            "parallel",
            list(teacher),
            names=[
                f"teacher[{i}]: {type(model).__name__}"
                for i, model in enumerate(teacher)
            ],
            name_details=[str(model) for model in teacher],
        )
    return _VisualBlock(
        "parallel",
        [teacher],
        names=[f"teacher: {type(teacher).__name__}{suffix}"],
        name_details=[str(teacher)],
    )
