"""The distilled regressor: a PyTorch MLP student trained to imitate a regressor."""

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, is_classifier
from sklearn.ensemble import RandomForestRegressor
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods

from ._base import _SHARED_CONSTRAINTS, BaseDistilled, _standardisation
from ._inference import RegressorPredictionMixin, StudentOnlyMixin
from ._losses import regression_distillation_loss
from .ensemble import teacher_predictions


class DistilledRegressor(RegressorPredictionMixin, RegressorMixin, BaseDistilled):
    """A small MLP regressor trained to imitate a teacher regressor.

    The teacher, typically an ensemble such as a random forest or gradient boosting,
    predicts every training row. A PyTorch multi-layer perceptron, the student, then
    learns from a blend of those predictions and the true targets, both standardised.
    The student alone makes every prediction, so prediction is as cheap as a few
    matrix products and the fitted student is far smaller than the ensemble.

    Parameters
    ----------
    teacher : regressor, default=None
        The model to imitate. An unfitted teacher is cloned and the clone is fitted on
        ``(X, y)``; the object passed in is never changed. A fitted teacher is used as
        it is, never refitted. ``clone`` (and so ``GridSearchCV`` and
        ``cross_val_score``) drops the fitted state of a teacher; wrap a prefit teacher
        in :class:`sklearn.frozen.FrozenEstimator` to keep it fitted through them.
        None uses ``RandomForestRegressor(n_estimators=100)``. For several outputs
        the teacher must support multi-output ``y`` (forests and extra trees do;
        wrap others in :class:`sklearn.multioutput.MultiOutputRegressor`).

    alpha : float, default=0.5
        Weight of the teacher term in [0, 1]. ``alpha=1`` is pure distillation;
        ``alpha=0`` trains the same network on the targets alone.

    hidden_layer_sizes : int or tuple of int, default=(256, 256)
        Width of each hidden layer of the student, each a positive int. Floats are
        rejected with a ValueError, integral ones such as 8.0 included, and so are
        booleans.

    activation : {"relu", "gelu", "silu", "tanh", "logistic"}, default="relu"
        Non-linearity after each hidden layer.

    dropout : float, default=0.1
        Dropout probability after each hidden activation during training, in [0, 1).

    batch_size : int, default=256
        Rows per mini-batch; capped at the number of training rows.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training rows), as in
        :class:`~sklearn.neural_network.MLPRegressor`.

    learning_rate_init : float, default=1e-3
        Learning rate of the AdamW optimiser.

    weight_decay : float, default=1e-4
        Decoupled weight decay of AdamW.

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, stop when their loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the weights of
        the best epoch. When False, training stops on the same rule applied to the
        training loss and keeps the last weights.

    validation_fraction : float, default=0.1
        Fraction of the rows held out for early stopping, in (0, 1).

    n_iter_no_change : int, default=20
        Epochs without improvement before training stops.

    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as an improvement.

    augment : {"munge", "gaussian"} or None, default=None
        Synthetic transfer rows for the teacher to label, made from the training
        rows (never from the validation rows) and added to them with the teacher's
        soft targets and no label. "munge" mixes each row with its nearest neighbour
        (MUNGE, Bucilua, Caruana and Niculescu-Mizil, 2006); "gaussian" adds
        noise to copies of the rows. None adds no rows.

    augment_factor : float, default=1.0
        Transfer rows per training row, > 0. Used when ``augment`` is set.

    munge_swap_probability : float, default=0.5
        Probability in [0, 1] that MUNGE takes an attribute from the neighbour.
        With 0 the transfer rows are copies of the training rows.

    munge_local_variance : float, default=1.0
        Divisor > 0 of the standard deviation ``|a - b| / s`` with which MUNGE
        draws a continuous attribute around the neighbour's value ``b``.

    gaussian_scale : float, default=0.1
        Standard deviation of the "gaussian" noise, as a multiple of each column's
        standard deviation, >= 0.

    categorical_features : array-like, default=None
        Categorical columns of ``X``, which transfer rows only fill with categories
        observed in ``X``: a boolean mask of ordinal-encoded columns, or a list of
        column indices (ordinal-encoded columns) and lists of column indices
        (one-hot groups, swapped as a whole). None treats every column as
        continuous.

    feature_loss : {"hint", "attention", "relational", "contrastive", "nst"} or \
None, default=None
        Loss between a hidden layer of the student and the teacher's intermediate
        representation: the outputs of its members for an ensemble, the hidden
        activations for a neural teacher. "hint" is FitNets' regression, "attention"
        attention transfer, "relational" relational knowledge distillation,
        "contrastive" contrastive representation distillation, "nst" neuron
        selectivity transfer. "attention" and "nst" need a neural teacher. None
        adds no feature term.

    feature_weight : float, default=0.1
        Weight >= 0 of the feature term added to the loss once ``feature_loss`` is
        set. 0 disables it. On the benchmark data sets, 0.1 did as well as or
        better than 1 for "hint" and "contrastive", and "relational" at 1 lowered
        accuracy.

    feature_layer : int, default=-1
        The student's hidden layer that the feature loss reads, as an index into
        ``hidden_layer_sizes``; -1 is the last hidden layer.

    feature_components : int or None, default=64
        Width to which PCA compresses an ensemble's member outputs when there are
        more. None keeps them all.

    feature_loss_params : dict, default=None
        Further keyword arguments of the feature loss, for example
        ``{"memory_size": 4096}`` for "contrastive" or ``{"angle_weight": 0.0}`` for
        "relational".

    teacher_layer : int, str or None, default=None
        The hidden layer of a neural teacher that the feature loss reads: an index
        into the hidden layers of a scikit-learn MLP, or a submodule name of a
        torch module or skorch net. None reads the last hidden layer.

    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, transfer rows, weight initialisation, batch
        order and dropout, and every ``random_state`` parameter of an unfitted
        teacher that is left at None. With an int, a refit gives identical
        predictions, and fitting changes neither numpy's nor torch's global random
        state. None draws the seeds from numpy's global random state, as
        scikit-learn estimators do.

    device : str or torch.device, default="auto"
        Where the student trains. ``"auto"`` uses CUDA when torch finds a GPU and the
        CPU otherwise. Prediction always runs with numpy on the CPU.

    n_threads : int or None, default=1
        Number of CPU threads torch uses while the student trains; the previous
        setting is restored afterwards. None keeps torch's current setting. One
        thread is the default for the reason given in
        :class:`DistilledClassifier`: threads whose cores are busy with other work
        slow the small operations of a training step many times over.

    teacher_cache : bool, str, os.PathLike or joblib.Memory, default=True
        Where to keep fitted teachers for reuse by later fits with the same teacher
        parameters on the same rows, targets and sample weights, such as the
        candidates of a ``GridSearchCV`` over the student's parameters. True keeps
        them in this process, False fits every teacher, and a path or a
        :class:`joblib.Memory` keeps them on disk, shared by processes. Only an
        unfitted teacher whose ``random_state`` parameters are all set takes part.
        As in :class:`DistilledClassifier`.

    verbose : int, default=0
        0 prints nothing; 1 shows a progress bar over epochs on standard error; 2 also
        prints the losses of each epoch.

    warm_start : bool, default=False
        When True and the estimator is already fitted, ``fit`` continues training the
        previous student from its weights, with the input and target
        standardisation of the previous fit, for up to ``max_iter`` more epochs.
        ``X`` must have the same columns, ``y`` the same number of outputs, and
        ``hidden_layer_sizes`` and ``activation`` must be unchanged; otherwise
        ``fit`` raises. An unfitted teacher is fitted again on this call's data, so
        pass a fitted teacher to reuse one. When False, every ``fit`` trains a new
        student from random weights.

    Attributes
    ----------
    teacher_ : regressor
        The fitted teacher: the prefit one passed in, or a fitted clone.

    student_ : MLPStudent
        The trained student as a :class:`torch.nn.Module` on the CPU. It maps raw
        features to standardised targets, input standardisation included; multiply
        by ``target_scale_`` and add ``target_mean_`` for the units of ``y``.

    n_outputs_ : int
        Number of targets.

    target_mean_, target_scale_ : ndarray of shape (`n_outputs_`,)
        Standardisation of the targets learned from ``y``.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when X has string column names.

    coefs_, intercepts_ : list of ndarray
        The student's weights in float32, used for prediction.

    activation_ : str
        The student's activation, fixed at fit time.

    input_mean_, input_scale_ : ndarray of shape (`n_features_in_`,)
        Standardisation of the inputs learned from the training rows: the mean and
        standard deviation of each column, weighted by ``sample_weight`` when given.

    loss_curve_ : list of float
        Training loss of each epoch.

    loss_terms_ : dict of str to list of float
        The teacher term ``"kd"`` and the target term ``"mse"`` of each epoch, and
        the feature term ``"feature"`` when ``feature_loss`` is set.

    validation_loss_curve_ : list of float
        Loss on the validation rows after each epoch; empty without early stopping.

    validation_scores_ : list of float
        Coefficient of determination (R2, averaged over outputs) on the validation
        rows after each epoch; empty without early stopping.

    best_epoch_ : int or None
        Epoch whose weights were kept under early stopping.

    n_iter_ : int
        Number of epochs run.

    device_ : str
        Device the student trained on.

    See Also
    --------
    DistilledClassifier : The same for classification.
    sklearn.neural_network.MLPRegressor : An MLP trained on the targets alone.

    Notes
    -----
    With student outputs :math:`s_i`, teacher predictions :math:`t_i` and targets
    :math:`y_i`, all standardised with the mean and standard deviation of ``y``, and
    sample weights :math:`w_i` normalised to a mean of one, the loss minimised is

    .. math::

        L = \\alpha \\frac{1}{n} \\sum_i w_i \\frac{1}{k} \\lVert s_i - t_i \\rVert^2
            + (1 - \\alpha) \\frac{1}{n} \\sum_i w_i \\frac{1}{k}
              \\lVert s_i - y_i \\rVert^2

    over :math:`k` outputs. Standardising the targets keeps the loss, the learning
    rate and ``tol`` meaningful whatever the units of ``y``, and weighs the outputs
    of a multi-output ``y`` alike. Rows without a target (transfer and unlabelled
    rows) add nothing to the second term.

    The student is trained on the teacher's predictions for the training rows,
    which a forest fits closely; ``alpha`` below one keeps the true targets in the
    loss. Distillation for regression follows the output-matching loss of
    Hinton, Vinyals and Dean (2015) with the squared error in place of the KL
    divergence, as in model compression (Bucilua, Caruana and Niculescu-Mizil, 2006).

    References
    ----------
    C. Bucilua, R. Caruana and A. Niculescu-Mizil, "Model Compression", KDD 2006.

    G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural
    Network", NIPS Deep Learning Workshop, 2015. https://arxiv.org/abs/1503.02531

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.model_selection import train_test_split
    >>> from skdistill import DistilledRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = DistilledRegressor(
    ...     RandomForestRegressor(n_estimators=50), random_state=0
    ... ).fit(X_train, y_train)
    >>> model.predict(X_test[:2]).shape
    (2,)
    >>> bool(model.score(X_test, y_test) > 0.2)
    True
    """

    _parameter_constraints = {
        # An unfitted StackingRegressor hides predict until it is fitted, so only
        # fit is required here and _check_teacher looks for predict more closely.
        "teacher": [None, HasMethods(["fit"])],
        **_SHARED_CONSTRAINTS,
    }

    _y_numeric = True
    _multi_output = True

    def __init__(
        self,
        teacher=None,
        *,
        alpha=0.5,
        hidden_layer_sizes=(256, 256),
        activation="relu",
        dropout=0.1,
        batch_size=256,
        max_iter=200,
        learning_rate_init=1e-3,
        weight_decay=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        augment=None,
        augment_factor=1.0,
        munge_swap_probability=0.5,
        munge_local_variance=1.0,
        gaussian_scale=0.1,
        categorical_features=None,
        feature_loss=None,
        feature_weight=0.1,
        feature_layer=-1,
        feature_components=64,
        feature_loss_params=None,
        teacher_layer=None,
        random_state=None,
        device="auto",
        n_threads=1,
        teacher_cache=True,
        verbose=0,
        warm_start=False,
    ):
        self.teacher = teacher
        self.alpha = alpha
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.augment = augment
        self.augment_factor = augment_factor
        self.munge_swap_probability = munge_swap_probability
        self.munge_local_variance = munge_local_variance
        self.gaussian_scale = gaussian_scale
        self.categorical_features = categorical_features
        self.feature_loss = feature_loss
        self.feature_weight = feature_weight
        self.feature_layer = feature_layer
        self.feature_components = feature_components
        self.feature_loss_params = feature_loss_params
        self.teacher_layer = teacher_layer
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.teacher_cache = teacher_cache
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, X_unlabeled=None):
        """Fit the teacher if needed, then train the student to imitate it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data with numeric, finite values. A DataFrame is passed to the
            teacher as it is, so a teacher fitted on named columns keeps its names.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric, finite targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, applied to both loss terms and passed to the
            teacher's ``fit`` when it accepts them. Transfer and unlabelled rows weigh
            one each, the mean of the normalised weights.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), default=None
            Rows without targets, in the form of ``X``. The teacher predicts them,
            and the student trains on them with the teacher term alone; they never
            enter the validation rows. With metadata routing enabled, request it
            with ``set_fit_request(X_unlabeled=True)``. In a ``Pipeline``, also list
            it in ``transform_input``, so that the earlier steps transform it as they
            transform ``X``.

        Returns
        -------
        self : DistilledRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, X_unlabeled)

    # --- hooks of BaseDistilled -----------------------------------------------------

    def _default_teacher(self):
        return RandomForestRegressor(n_estimators=100)

    def _validate_training_data(self, X, y):
        X, y = super()._validate_training_data(X, y)
        y = np.asarray(y, dtype=np.float64)
        # A single target given as a column is the same problem as a 1-D y, and the
        # teachers take it as one without a DataConversionWarning.
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        return X, y

    def _encode_targets(self, y, prefit_teacher):
        y_columns = y.reshape(len(y), -1)
        mean, scale = _standardisation(y_columns, target_ndim=y.ndim)
        if self.warm_start and hasattr(self, "target_mean_"):
            if self.n_outputs_ != y_columns.shape[1]:
                raise ValueError(
                    f"DistilledRegressor with warm_start=True continues training the "
                    f"previous student, but y has {y_columns.shape[1]} outputs instead "
                    f"of {self.n_outputs_}. Keep them as in the previous fit, or set "
                    "warm_start=False to train a new student."
                )
            # The previous weights predict on the previous target standardisation.
            mean, scale = self.target_mean_, self.target_scale_
        y_standardised = ((y_columns - mean) / scale).astype(np.float32)
        fitted = {
            "n_outputs_": y_columns.shape[1],
            "target_mean_": mean,
            "target_scale_": scale,
        }
        return y_standardised, fitted

    def _check_teacher(self, teacher):
        # The class attribute finds predict on an unfitted StackingRegressor, the
        # instance attribute a wrapper such as FrozenEstimator that delegates it.
        has_predict = hasattr(teacher, "predict") or callable(
            getattr(type(teacher), "predict", None)
        )
        if not has_predict:
            raise TypeError(
                f"The teacher {type(teacher).__name__} has no predict method, so it "
                "gives no predictions to imitate. Use a regressor."
            )
        if is_classifier(teacher):
            raise TypeError(
                f"The teacher {type(teacher).__name__} is a classifier, but "
                "DistilledRegressor needs a regressor. Use DistilledClassifier to "
                "distil a classifier."
            )

    def _fit_teacher(self, teacher, X, y, sample_weight, rng):
        try:
            return super()._fit_teacher(teacher, X, y, sample_weight, rng)
        except ValueError as exc:
            if y.ndim == 2 and not get_tags(teacher).target_tags.multi_output:
                raise ValueError(
                    f"y has {y.shape[1]} outputs, but the teacher "
                    f"{type(teacher).__name__} supports a single output. Wrap it in "
                    "sklearn.multioutput.MultiOutputRegressor, or use a teacher that "
                    "supports several outputs, such as RandomForestRegressor."
                ) from exc
            raise

    def _soft_targets(self, teacher, X, fitted):
        predictions = teacher_predictions(teacher, X, fitted["n_outputs_"])
        return (predictions - fitted["target_mean_"]) / fitted["target_scale_"]

    def _output_loss(self, fitted):
        alpha = float(self.alpha)

        def output_loss(output, batch):
            total, kd, mse = regression_distillation_loss(
                output, batch["target"], batch["y"], batch["weight"], alpha=alpha
            )
            return total, {"kd": kd, "mse": mse}

        return output_loss

    def _validation_score(self):
        return _weighted_r2

    def to_student(self):
        """Return a student-only regressor that predicts exactly like this one.

        The returned :class:`StudentRegressor` contains the student's numpy weights and
        the target standardisation but neither the teacher nor the torch module, so
        it is the object to save and ship for deployment: its pickle is a small
        fraction of the teacher's. Its prediction runs through numpy and never calls
        torch, which avoids torch's per-call overhead. torch must still be installed
        to load it, because ``import skdistill`` imports torch.

        Returns
        -------
        student : StudentRegressor
            A fitted estimator with the same ``predict`` and ``score``.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.ensemble import RandomForestRegressor
        >>> from skdistill import DistilledRegressor
        >>> X, y = load_diabetes(return_X_y=True)
        >>> model = DistilledRegressor(
        ...     RandomForestRegressor(n_estimators=20), max_iter=20, random_state=0
        ... ).fit(X, y)
        >>> student = model.to_student()
        >>> bool((student.predict(X) == model.predict(X)).all())
        True
        """
        return StudentRegressor._from_fitted(self)


def _weighted_r2(net, tensors):
    """Return the weighted R2 of ``net`` on standardised targets, averaged over outputs.

    An output that is constant on the validation rows scores 1 when predicted
    exactly and 0 otherwise, as :func:`sklearn.metrics.r2_score` does.
    """
    with torch.no_grad():
        predicted = net(tensors["X"])
    y = tensors["y"]
    weight = tensors["weight"][:, None]
    total_weight = weight.sum().clamp(min=1e-12)
    mean = (weight * y).sum(dim=0) / total_weight
    residual = (weight * (y - predicted) ** 2).sum(dim=0)
    spread = (weight * (y - mean) ** 2).sum(dim=0)
    constant = spread <= 1e-12
    r2 = 1.0 - residual / torch.where(constant, torch.ones_like(spread), spread)
    r2 = torch.where(constant, (residual <= 1e-12).to(r2.dtype), r2)
    return float(r2.mean())


class StudentRegressor(
    StudentOnlyMixin, RegressorPredictionMixin, RegressorMixin, BaseEstimator
):
    """The student of a fitted :class:`DistilledRegressor`, without its teacher.

    Made by :meth:`DistilledRegressor.to_student`; it cannot be fitted itself. It
    keeps only numpy arrays, so pickling it stores a few hundred kilobytes whatever
    the size of the teacher.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
    target_mean_, target_scale_ : ndarray of shape (`n_outputs_`,)
        Standardisation of the targets.
    n_features_in_ : int
        Number of features the student reads.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when the student was fitted on a DataFrame with string column
        names.
    coefs_, intercepts_ : list of ndarray
        The student's float32 weights.
    input_mean_, input_scale_ : ndarray of shape (`n_features_in_`,)
        Standardisation of the inputs.
    activation_ : str
        Non-linearity of the hidden layers.

    See Also
    --------
    DistilledRegressor : Trains the student.

    Examples
    --------
    >>> import pickle
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skdistill import DistilledRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = DistilledRegressor(
    ...     RandomForestRegressor(n_estimators=20), max_iter=20, random_state=0
    ... ).fit(X, y)
    >>> student = model.to_student()
    >>> len(pickle.dumps(student)) < len(pickle.dumps(model))
    True
    >>> student.predict(X[:3]).shape
    (3,)
    """

    _trainer_name = "DistilledRegressor"
    _fitted_attributes = (
        "n_outputs_",
        "target_mean_",
        "target_scale_",
        "n_features_in_",
        "feature_names_in_",
        "coefs_",
        "intercepts_",
        "input_mean_",
        "input_scale_",
        "activation_",
    )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
