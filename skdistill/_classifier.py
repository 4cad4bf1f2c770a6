"""The distilled classifier: a PyTorch MLP student trained to imitate a classifier."""

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.ensemble import RandomForestClassifier, StackingClassifier
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from ._base import _SHARED_CONSTRAINTS, BaseDistilled, is_fitted
from ._inference import ClassifierPredictionMixin, StudentOnlyMixin
from ._losses import classification_distillation_loss
from .ensemble import (
    TARGET_METHODS,
    AveragingClassifier,
    LabelEncodedClassifier,
    gives_soft_targets,
    teacher_logits,
    training_logits,
)
from .ensemble._averaging import check_teacher_list
from .ensemble._logits import boosting_library
from .ensemble._targets import for_encoded_labels

# Validation rows per forward pass when scoring accuracy after each epoch.
_SCORE_BATCH_ROWS = 1024


class DistilledClassifier(ClassifierPredictionMixin, ClassifierMixin, BaseDistilled):
    """A small MLP classifier trained to imitate a teacher classifier.

    The teacher, typically an ensemble such as a random forest or gradient boosting,
    labels the training rows with soft targets. A PyTorch multi-layer perceptron, the
    student, then learns from a blend of those soft targets and the true labels. The
    student alone makes every prediction, so prediction is as cheap as a few matrix
    products and the fitted student is far smaller than the ensemble.

    Parameters
    ----------
    teacher : classifier or list of classifiers, default=None
        The model to imitate. An unfitted teacher is cloned and the clone is fitted on
        ``(X, y)``; the object passed in is never changed. A fitted teacher is used as
        it is, never refitted. ``clone`` (and so ``GridSearchCV`` and
        ``cross_val_score``) drops the fitted state of a teacher; wrap a prefit teacher
        in :class:`sklearn.frozen.FrozenEstimator` to keep it fitted through them.
        None uses ``RandomForestClassifier(n_estimators=100)``.

        Any classifier with ``predict_proba`` or ``decision_function`` serves, and so
        does a hard-voting ``VotingClassifier`` (smoothed vote fractions) and an
        XGBoost, LightGBM or CatBoost classifier (raw margins). An unfitted XGBoost
        teacher is wrapped in :class:`~skdistill.ensemble.LabelEncodedClassifier`, so
        that any labels work. A list of classifiers, all fitted or all unfitted,
        becomes an :class:`~skdistill.ensemble.AveragingClassifier` whose averaged
        probabilities are the targets. See :func:`skdistill.ensemble.teacher_logits`
        for the logits of each kind.

    teacher_targets : {"auto", "in-sample", "oob", "oof"}, default="auto"
        How the soft targets of the training rows are made. ``"in-sample"``: the
        teacher's outputs on the rows it was fitted on, which are overconfident for
        forests (near one-hot) and boosting. ``"oob"``: out-of-bag outputs of a
        forest or bagging ensemble with bootstrap sampling, read from the fitted
        members without refitting. ``"oof"``: out-of-fold outputs of clones of the
        teacher fitted on ``cv`` folds; the teacher itself is still fitted on all
        rows, and a prefit teacher is left untouched. ``"auto"`` picks ``"oof"`` for
        a forest without bootstrap that the estimator fits (``ExtraTreesClassifier``
        by default), whose in-sample outputs are the labels themselves, and
        ``"in-sample"`` for every other teacher, which measured best or equal per
        kind in ``docs/teachers.md``. It never fits clones of a prefit teacher. The
        choice made is stored in ``teacher_targets_``.

    cv : int, cross-validation splitter or iterable, default=5
        Folds for ``teacher_targets="oof"``. An int k gives a shuffled, stratified
        k-fold split seeded from ``random_state``; other values go to
        :func:`sklearn.model_selection.check_cv`, and every row must be in exactly one
        test fold.

    temperature : float, default=2.0
        Softening temperature T of the soft targets, > 0. Higher values spread the
        teacher's probability over more classes and so carry more of how it ranks the
        wrong classes. It only affects training: ``predict_proba`` is the student's
        plain softmax.

    alpha : float, default=0.5
        Weight of the soft-target term in [0, 1]. ``alpha=1`` is pure distillation;
        ``alpha=0`` trains the same network on the labels alone.

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
        :class:`~sklearn.neural_network.MLPClassifier`.

    learning_rate_init : float, default=1e-3
        Learning rate of the AdamW optimiser.

    weight_decay : float, default=1e-4
        Decoupled weight decay of AdamW.

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, stratified by class, stop when
        their loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep
        the weights of the best epoch. When False, training stops on the same rule
        applied to the training loss and keeps the last weights.

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
        Seeds the validation split, weight initialisation, batch order and dropout,
        and every ``random_state`` parameter of an unfitted teacher that is left at
        None. With an int, a refit gives identical predictions, and fitting changes
        neither numpy's nor torch's global random state. None draws the seeds from
        numpy's global random state, as scikit-learn estimators do.

    device : str or torch.device, default="auto"
        Where the student trains. ``"auto"`` uses CUDA when torch finds a GPU and the
        CPU otherwise. Prediction always runs with numpy on the CPU.

    n_threads : int or None, default=1
        Number of CPU threads torch uses while the student trains; the previous
        setting is restored afterwards. None keeps torch's current setting, which is
        what the process or joblib worker was given. The default is one thread
        because a training step is a long chain of small operations, and each of
        them waits for its slowest thread: with other processes sharing the two
        cores of the benchmark machine (load averages of 2 to 10), two threads made
        an epoch of the default network on ``letter`` 7 to 80 times slower than
        one. On cores that nothing else uses, more threads can be faster for wide
        networks or large batches.

    teacher_cache : bool, str, os.PathLike or joblib.Memory, default=True
        Where to keep fitted teachers for reuse by later fits with the same teacher
        parameters on the same rows, targets and sample weights, such as the
        candidates of a ``GridSearchCV`` over the student's parameters, which then
        fit one teacher per fold. True keeps them in this process, in a cache shared
        by all estimators and bounded by :func:`set_teacher_cache_max_bytes`. A path
        or a :class:`joblib.Memory` keeps them on disk, where process-based workers
        (``n_jobs > 1``) and later sessions find them. False fits every teacher. Only
        an unfitted teacher whose ``random_state`` parameters are all set, directly or
        through ``random_state`` here, takes part; a reused teacher gives the same
        model as a new fit. See the grid search guide in the documentation.

    verbose : int, default=0
        0 prints nothing; 1 shows a progress bar over epochs on standard error; 2 also
        prints the losses of each epoch.

    warm_start : bool, default=False
        When True and the estimator is already fitted, ``fit`` continues training the
        previous student from its weights, with the input standardisation of the
        previous fit, for up to ``max_iter`` more epochs. ``X`` must have the same
        columns, ``y`` the same classes, and ``hidden_layer_sizes`` and ``activation``
        must be unchanged; otherwise ``fit`` raises. The teacher is handled as on any
        fit: an unfitted teacher is fitted again on this call's data, so pass a fitted
        teacher to reuse one. When False, every ``fit`` trains a new student from
        random weights.

    Attributes
    ----------
    teacher_ : classifier
        The fitted teacher: the prefit one passed in, or a fitted clone. A list
        teacher becomes an :class:`~skdistill.ensemble.AveragingClassifier`.

    teacher_targets_ : {"in-sample", "oob", "oof"}
        How the soft targets of the training rows were made.

    student_ : MLPStudent
        The trained student as a :class:`torch.nn.Module` on the CPU. It maps raw
        features to logits, standardisation included.

    classes_ : ndarray of shape (n_classes,)
        Class labels. With a prefit teacher, its ``classes_``, which may contain more
        classes than ``y``.

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
        The soft-target term ``"kd"`` and hard-target term ``"ce"`` of each epoch,
        and the feature term ``"feature"`` when ``feature_loss`` is set.

    validation_loss_curve_ : list of float
        Loss on the validation rows after each epoch; empty without early stopping.

    validation_scores_ : list of float
        Accuracy on the validation rows after each epoch; empty without early stopping.

    best_epoch_ : int or None
        Epoch whose weights were kept under early stopping.

    n_iter_ : int
        Number of epochs run.

    device_ : str
        Device the student trained on.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : An MLP trained on the labels alone.
    sklearn.frozen.FrozenEstimator : Keeps a prefit teacher fitted through ``clone``.

    Notes
    -----
    With student logits :math:`s`, teacher logits :math:`t`, temperature :math:`T`,
    labels :math:`y` and sample weights :math:`w_i` normalised to a mean of one, the
    loss minimised is

    .. math::

        L = \\alpha T^2 \\frac{1}{n} \\sum_i w_i \\mathrm{KL}(
                \\mathrm{softmax}(t_i / T) \\,\\|\\, \\mathrm{softmax}(s_i / T))
            + (1 - \\alpha) \\frac{1}{n} \\sum_i w_i \\mathrm{CE}(s_i, y_i),

    with the KL divergence summed over classes. The gradient of the softened term
    shrinks as :math:`1 / T^2`, and the factor :math:`T^2` restores its size relative to
    the cross-entropy.

    The teacher's logits depend on its kind (:func:`skdistill.ensemble.teacher_logits`):
    its ``decision_function`` when it has one (gradient boosting, stacking with a
    linear final estimator), AdaBoost's decision values before their division by the
    total estimator weight, the raw margins of XGBoost, LightGBM and CatBoost, the
    smoothed vote fractions of a hard-voting ensemble, and otherwise the logarithm of
    ``predict_proba``, clipped below at 1e-6 (forests, soft voting).

    The defaults were chosen for tabular data of a few thousand to a million rows: two
    hidden layers of 256 units are large enough to follow a forest's decision surface
    yet cost microseconds per row; a little dropout and weight decay and early
    stopping on held-out rows keep the student from overfitting small data sets.
    ``temperature=2`` with ``alpha=0.5`` weighs the teacher's view of class similarity
    and the labels equally. A grid over ``temperature`` in {1, 2, 4} and ``alpha`` in
    {0.3, 0.5, 0.7, 0.9} with a 200-tree random forest teacher and out-of-bag targets
    on digits, satimage and spambase, three seeds each (``docs/teachers.md``), found
    no setting better on all three: on digits the best setting of every seed had
    ``temperature=1`` and ``alpha`` between 0.1 and 0.3, but the defaults had the
    highest mean accuracy on satimage and spambase, so they stayed. Temperature 4 and
    ``alpha=0.9`` were worse on all three.

    References
    ----------
    G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural
    Network", NIPS Deep Learning Workshop, 2015. https://arxiv.org/abs/1503.02531

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.model_selection import train_test_split
    >>> from skdistill import DistilledClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=50), random_state=0
    ... ).fit(X_train, y_train)
    >>> model.predict_proba(X_test[:2]).shape
    (2, 2)
    >>> bool(model.score(X_test, y_test) > 0.9)
    True
    """

    _parameter_constraints = {
        "teacher": [
            None,
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            HasMethods(["fit", "predict"]),
            list,
            # An unfitted StackingClassifier with final_estimator=None hides its
            # prediction methods until it is fitted, so it fails the checks above.
            Hidden(StackingClassifier),
        ],
        "teacher_targets": [StrOptions(set(TARGET_METHODS))],
        "cv": ["cv_object"],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        **_SHARED_CONSTRAINTS,
    }

    _y_numeric = False
    _multi_output = False

    def __init__(
        self,
        teacher=None,
        *,
        teacher_targets="auto",
        cv=5,
        temperature=2.0,
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
        self.teacher_targets = teacher_targets
        self.cv = cv
        self.temperature = temperature
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

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, X_unlabeled=None):
        """Fit the teacher if needed, then train the student to imitate it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data with numeric, finite values. A DataFrame is passed to the
            teacher as it is, so a teacher fitted on named columns keeps its names.
            A sparse matrix is passed to the teacher as CSR. The student
            standardises each column, which makes its copy dense: it holds
            ``n_samples * n_features`` float32 values while it trains.
        y : array-like of shape (n_samples,)
            Class labels: integers, strings or booleans.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, applied to both loss terms and passed to the
            teacher's ``fit`` when it accepts them. Rows of weight zero are left out
            of the student's training and validation rows. Transfer and unlabelled
            rows weigh one each, the mean of the normalised weights.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), default=None
            Rows without labels, in the form of ``X``. The teacher gives them soft
            targets, and the student trains on them with the soft-target term
            alone. They never enter the validation rows. With metadata routing
            enabled, request it with ``set_fit_request(X_unlabeled=True)``. In a
            ``Pipeline``, also list it in ``transform_input``, so that the earlier
            steps transform it as they transform ``X``.

        Returns
        -------
        self : DistilledClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, X_unlabeled)

    # --- hooks of BaseDistilled -----------------------------------------------------

    def _default_teacher(self):
        return RandomForestClassifier(n_estimators=100)

    def _encode_targets(self, y, prefit_teacher):
        check_classification_targets(y)
        classes = np.unique(y)
        if prefit_teacher is not None:
            classes = np.asarray(prefit_teacher.classes_)
        if len(classes) < 2:
            raise ValueError(
                f"y contains a single class ({classes.tolist()[0]!r}); "
                f"{type(self).__name__} "
                "needs samples of at least two classes."
            )
        y_encoded = np.searchsorted(classes, y)
        return y_encoded.astype(np.int64), {"classes_": classes}

    def _check_weighted_targets(self, y, sample_weight, prefit):
        # Fitting without the rows of zero weight gives the same model, and that fit
        # raises for a single class unless a fitted teacher supplies the classes.
        if prefit:
            return
        weighted_classes = np.unique(y[sample_weight > 0])
        if len(weighted_classes) >= 2:
            return
        zero_weight_classes = np.setdiff1d(np.unique(y), weighted_classes)
        raise ValueError(
            f"y contains a single class ({weighted_classes.tolist()[0]!r}) in the "
            f"rows of non-zero sample weight, because the classes "
            f"{zero_weight_classes.tolist()} have only zero weights. "
            f"{type(self).__name__} needs samples of at least two classes. Give "
            "some rows of another class a non-zero weight."
        )

    def _prepare_teacher(self, teacher):
        if isinstance(teacher, list):
            if check_teacher_list(teacher):
                return AveragingClassifier.from_fitted(teacher)
            return AveragingClassifier([for_encoded_labels(m) for m in teacher])
        if isinstance(teacher, LabelEncodedClassifier):
            return teacher
        # XGBoost accepts only the labels 0..K-1; a fitted one is used as it is.
        return teacher if is_fitted(teacher) else for_encoded_labels(teacher)

    def _check_teacher(self, teacher):
        if not gives_soft_targets(teacher):
            raise TypeError(
                f"The teacher {type(teacher).__name__} has neither predict_proba nor "
                "decision_function and is not a hard-voting ensemble, so it gives no "
                "soft targets. Use a classifier with one of them."
            )

    def _check_prefit_teacher(self, teacher, y):
        super()._check_prefit_teacher(teacher, y)
        teacher_classes = getattr(teacher, "classes_", None)
        name = type(teacher).__name__
        if teacher_classes is None:
            raise ValueError(
                f"The prefit teacher {name} has no classes_ attribute, so its outputs "
                "cannot be matched to labels. Pass a fitted classifier."
            )
        unseen = np.setdiff1d(np.unique(y), np.asarray(teacher_classes))
        hint = ""
        if boosting_library(teacher) == "xgboost":
            hint = (
                " An XGBoost model fitted on the codes 0..K-1 needs them as y; fit "
                "it as LabelEncodedClassifier(XGBClassifier()) to use other labels."
            )
        if len(unseen):
            raise ValueError(
                f"y contains classes {unseen.tolist()} that the prefit teacher {name} "
                f"was never fitted on (its classes_ are "
                f"{np.asarray(teacher_classes).tolist()}). Refit the teacher on data "
                f"with every class, or pass an unfitted teacher.{hint}"
            )

    def _soft_targets(self, teacher, X, fitted):
        return teacher_logits(teacher, X, fitted["classes_"], verbose=self.verbose)

    def _training_targets(self, teacher, X, y, sample_weight, prefit, rng, fitted):
        result = training_logits(
            teacher,
            X,
            y,
            classes=fitted["classes_"],
            sample_weight=sample_weight,
            method=self.teacher_targets,
            cv=self.cv,
            prefit=prefit,
            # Only out-of-fold targets draw from rng, so the other methods leave the
            # student's seeds as they were.
            random_state=rng,
            verbose=self.verbose,
        )
        fitted["teacher_targets_"] = result.method
        return result.logits

    def _stratify_labels(self, y_encoded):
        return y_encoded

    def _output_loss(self, fitted):
        temperature = float(self.temperature)
        alpha = float(self.alpha)

        def output_loss(logits, batch):
            total, kd, ce = classification_distillation_loss(
                logits,
                batch["target"],
                batch["y"],
                batch["weight"],
                temperature=temperature,
                alpha=alpha,
            )
            return total, {"kd": kd, "ce": ce}

        return output_loss

    def _validation_score(self):
        def accuracy(net, tensors):
            weight = tensors["weight"]
            correct = torch.zeros((), dtype=weight.dtype, device=weight.device)
            # Batches bound the hidden activations held at once, which for all the
            # validation rows of a large X would outgrow X itself.
            with torch.no_grad():
                for start in range(0, len(weight), _SCORE_BATCH_ROWS):
                    rows = slice(start, start + _SCORE_BATCH_ROWS)
                    predicted = net(tensors["X"][rows]).argmax(dim=1)
                    hits = (predicted == tensors["y"][rows]).to(weight.dtype)
                    correct += (weight[rows] * hits).sum()
            return float(correct / weight.sum().clamp(min=1e-12))

        return accuracy

    def to_student(self):
        """Return a student-only classifier that predicts exactly like this one.

        The returned :class:`StudentClassifier` holds the student's numpy weights and
        the class labels but neither the teacher nor the torch module, so it is the
        object to save and ship for deployment: its pickle is a small fraction of the
        teacher's. Its prediction runs through numpy and never calls torch, which
        avoids torch's per-call overhead. torch must still be installed to load it,
        because ``import skdistill`` imports torch.

        Returns
        -------
        student : StudentClassifier
            A fitted estimator with the same ``predict``, ``predict_proba`` and
            ``predict_log_proba``.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.ensemble import RandomForestClassifier, StackingClassifier
        >>> from skdistill import DistilledClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> model = DistilledClassifier(
        ...     RandomForestClassifier(n_estimators=20), max_iter=20, random_state=0
        ... ).fit(X, y)
        >>> student = model.to_student()
        >>> bool((student.predict_proba(X) == model.predict_proba(X)).all())
        True
        """
        return StudentClassifier._from_fitted(self)


class StudentClassifier(
    StudentOnlyMixin, ClassifierPredictionMixin, ClassifierMixin, BaseEstimator
):
    """The student of a fitted :class:`DistilledClassifier`, without its teacher.

    Made by :meth:`DistilledClassifier.to_student`; it cannot be fitted itself. It
    keeps only numpy arrays, so pickling it stores a few hundred kilobytes whatever
    the size of the teacher.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
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
    DistilledClassifier : Trains the student.

    Examples
    --------
    >>> import pickle
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier, StackingClassifier
    >>> from skdistill import DistilledClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=20), max_iter=20, random_state=0
    ... ).fit(X, y)
    >>> student = model.to_student()
    >>> len(pickle.dumps(student)) < len(pickle.dumps(model))
    True
    >>> student.predict(X[:3])
    array([0, 0, 0])
    """

    _trainer_name = "DistilledClassifier"
    _fitted_attributes = (
        "classes_",
        "n_features_in_",
        "feature_names_in_",
        "coefs_",
        "intercepts_",
        "input_mean_",
        "input_scale_",
        "activation_",
    )
