"""The phases of ``fit`` shared by the distilled classifier and regressor.

A fit runs, in order: validate the data, encode the targets, fit or reuse the teacher,
compute the teacher's soft targets, split off validation rows, label unlabelled and
synthetic transfer rows with the teacher, compute the teacher's representation for
feature distillation, train the student, and store the fitted attributes. The
subclasses supply the task-specific pieces: target encoding, soft targets, the loss on
the student's outputs and the validation score.
"""

import contextlib
import math
import numbers
import os
import threading
import warnings

import joblib
import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from ._feature_distillation import (
    FEATURE_CONSTRAINTS,
    FeatureTargets,
    check_feature_distillation,
    feature_distillation_enabled,
    make_loss_module,
    with_feature_term,
)
from ._html_repr import teacher_visual_block
from ._inference import StudentPredictionMixin
from ._progress import timed_step
from ._student import (
    ACTIVATIONS,
    MLPStudent,
    extract_weights,
    load_weights,
    student_from_weights,
)
from ._teacher_cache import fit_teacher
from ._training import train_network
from ._transfer import (
    TRANSFER_CONSTRAINTS,
    TeacherLabelledRows,
    check_augment_input,
    transfer_chunks,
    validate_unlabeled,
)
from ._validation import (
    check_numeric_array,
    check_numeric_columns,
    check_single_output,
    sparse_chunk_rows,
)
from ._warm_start import check_warm_start, previous_student_state

# torch's random generator and thread count are global to the process, so two fits in
# threads of one process that trained at the same time would draw each other's seeded
# random numbers. Training holds this lock, so such fits train one at a time.
_TRAINING_LOCK = threading.RLock()

_SHARED_CONSTRAINTS = {
    "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
    "hidden_layer_sizes": [
        "array-like",
        Interval(numbers.Integral, 1, None, closed="left"),
    ],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
    "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
    "tol": [Interval(numbers.Real, 0, None, closed="left")],
    "random_state": ["random_state"],
    "device": [str, torch.device],
    "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "teacher_cache": ["boolean", str, os.PathLike, joblib.Memory],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    **TRANSFER_CONSTRAINTS,
    **FEATURE_CONSTRAINTS,
}


def resolve_device(device):
    """Turn the ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` picks CUDA when torch sees a GPU and the CPU otherwise.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device. Use 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA, but torch finds no CUDA GPU. Use "
            "device='auto' to fall back to the CPU."
        )
    return resolved


def is_fitted(estimator):
    """Return whether scikit-learn considers ``estimator`` fitted."""
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    except TypeError:
        # Not an estimator scikit-learn can inspect (for example a list of models).
        return False
    return True


def seed_unset_random_states(estimator, random_state):
    """Give every nested ``random_state`` parameter left at None a fixed seed.

    A teacher fitted without a seed would give different soft targets on each fit, so
    the student would not be reproducible. Seeds the user set are kept.
    """
    rng = check_random_state(random_state)
    params = estimator.get_params(deep=True)
    names = sorted(
        name
        for name, value in params.items()
        if (name == "random_state" or name.endswith("__random_state")) and value is None
    )
    seeds = {name: int(rng.randint(np.iinfo(np.int32).max)) for name in names}
    if seeds:
        estimator.set_params(**seeds)
    return estimator


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Set torch's intra-op thread count for the block, then restore it.

    The setting is global to the process, so fits running in several threads of one
    process at once share whichever value was set last.
    """
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# Rows per block when standardising. Working block by block keeps every float64
# temporary at this many rows instead of a full copy of X.
_STANDARDISE_BLOCK_ROWS = 16_384


def _standardisation(X, weights=None, *, target_ndim=None):
    """Return the column means and standard deviations of ``X`` used to standardise.

    With ``weights``, both are weighted by them, so a row of weight 2 counts as two
    copies of the row. The weighted variance divides by the sum of the weights, as the
    unweighted one divides by the number of rows and not by that number minus one.
    ``target_ndim`` is None when ``X`` is the input data, else the number of
    dimensions of the target ``y`` whose columns ``X`` contains. It only changes the
    wording of the overflow error.
    """
    if sp.issparse(X):
        mean, variance = mean_variance_axis(X, axis=0, weights=weights)
        # With weights, scikit-learn 1.9.1 can return a tiny negative variance for a
        # constant column, such as -2e-45, whose square root would be NaN.
        scale = np.sqrt(np.maximum(variance, 0.0))
    else:
        if weights is None:
            mean = X.mean(axis=0)
            total_weight = X.shape[0]
        else:
            # A matrix-vector product makes no weighted copy of X.
            total_weight = weights.sum()
            mean = weights @ X / total_weight
        squares = np.zeros(X.shape[1])
        for start in range(0, X.shape[0], _STANDARDISE_BLOCK_ROWS):
            block = slice(start, start + _STANDARDISE_BLOCK_ROWS)
            deviation = X[block] - mean
            if weights is None:
                squares += np.einsum("ij,ij->j", deviation, deviation)
            else:
                squares += np.einsum("i,ij,ij->j", weights[block], deviation, deviation)
        scale = np.sqrt(squares / total_weight)
    overflowed = ~(np.isfinite(mean) & np.isfinite(scale))
    if overflowed.any():
        raise ValueError(
            _overflow_message(np.flatnonzero(overflowed).tolist(), target_ndim)
        )
    # Constant columns keep a scale of one instead of dividing by zero.
    scale[~(scale > 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0))] = (
        1.0
    )
    return mean, scale


def _overflow_message(columns, target_ndim):
    """Return the error for columns whose mean or standard deviation overflows."""
    if target_ndim is None:
        return (
            f"The mean or standard deviation of columns {columns} of X overflows "
            "float64, because their values are too large in magnitude. Divide those "
            "columns by a constant first."
        )
    if target_ndim == 1:
        return (
            "The mean or standard deviation of the target y overflows float64, "
            "because its values are too large in magnitude. Divide y by a constant "
            "first and multiply the predictions by it."
        )
    return (
        f"The mean or standard deviation of output columns {columns} of the target y "
        "overflows float64, because their values are too large in magnitude. Divide "
        "those columns of y by a constant first and multiply the predictions by it."
    )


def _unless_equal(weights):
    """Return ``weights``, or None when they are all equal and so change nothing."""
    if np.all(weights == weights[0]):
        return None
    return weights


def _standardised_rows(X, mean, scale, rows):
    """Return ``(X[rows] - mean) / scale`` as dense float32, computed block by block.

    A sparse ``X`` must be CSR; its blocks are densified one at a time.
    """
    out = np.empty((len(rows), X.shape[1]), dtype=np.float32)
    step = _STANDARDISE_BLOCK_ROWS
    if sp.issparse(X):
        step = min(step, sparse_chunk_rows(X.shape[1]))
    for start in range(0, len(rows), step):
        block = X[rows[start : start + step]]
        if sp.issparse(block):
            block = block.toarray()
        out[start : start + block.shape[0]] = (block - mean) / scale
    return out


def _stack_rows(X, X_more):
    if sp.issparse(X) or sp.issparse(X_more):
        return sp.vstack([X, X_more], format="csr")
    return np.vstack([X, X_more])


def _to_tensors(columns, device):
    return {
        name: torch.from_numpy(column).to(device) for name, column in columns.items()
    }


def _append_unlabelled_rows(train, extra):
    """Append rows that carry soft targets but no label and weigh one each.

    The label is -1 for encoded classes and NaN for regression targets, which the
    loss functions read as "no label".
    """
    n_extra = len(extra["X"])
    y = train["y"]
    shape = (n_extra,) + y.shape[1:]
    if np.issubdtype(y.dtype, np.integer):
        missing = np.full(shape, -1, dtype=y.dtype)
    else:
        missing = np.full(shape, np.nan, dtype=y.dtype)
    extra = {
        **extra,
        "y": missing,
        "weight": np.ones(n_extra, dtype=np.float32),
    }
    return {name: np.concatenate([train[name], extra[name]]) for name in train}


class BaseDistilled(StudentPredictionMixin, BaseEstimator):
    """Shared fitting and prediction machinery; use the concrete estimators."""

    # --- hooks for subclasses -------------------------------------------------------

    def _default_teacher(self):
        raise NotImplementedError

    def _encode_targets(self, y, prefit_teacher):
        """Return the encoded targets and a dict of fitted attributes to store.

        ``prefit_teacher`` is the teacher when it came fitted, else None.
        """
        raise NotImplementedError

    def _prepare_teacher(self, teacher):
        """Return the teacher to check and fit, for example wrapped for its labels."""
        return teacher

    def _check_weighted_targets(self, y, sample_weight, prefit):
        """Raise if the rows of non-zero weight cannot train the student on ``y``.

        Runs after ``_encode_targets``, which has checked ``y`` as a whole.
        """

    def _check_teacher(self, teacher):
        """Raise before any fitting if ``teacher`` cannot give soft targets."""

    def _soft_targets(self, teacher, X, fitted):
        """Return the teacher's soft targets for ``X`` as a float array."""
        raise NotImplementedError

    def _training_targets(self, teacher, X, y, sample_weight, prefit, rng, fitted):
        """Return the soft targets of the training rows; ``fitted`` may gain entries.

        ``sample_weight`` is None when all weights are equal.
        """
        return self._soft_targets(teacher, X, fitted)

    def _output_loss(self, fitted):
        """Return ``loss(output, batch) -> (loss, terms)`` on the student's outputs."""
        raise NotImplementedError

    def _transfer_targets(self, teacher, X, fitted):
        """Return the teacher's soft targets for rows that are not training rows."""
        return self._soft_targets(teacher, X, fitted)

    def _validation_score(self):
        """Return ``score(net, tensors) -> float`` or None."""
        return None

    def _stratify_labels(self, y_encoded):
        return None

    def _sk_visual_block_(self):
        # Draws the teacher nested inside the estimator in notebooks, as scikit-learn
        # draws the estimator inside GridSearchCV.
        return teacher_visual_block(self)

    # --- parameters -----------------------------------------------------------------

    def set_params(self, **params):
        """Set the parameters of this estimator, as scikit-learn's ``set_params`` does.

        ``teacher__<name>`` parameters are set on the teacher, so they need an explicit
        teacher. Either ``teacher`` is already an estimator, or the same call sets one.
        The default teacher of ``teacher=None`` is created only in ``fit``, so it takes
        no parameters.

        Parameters
        ----------
        **params : dict
            Estimator parameters, and ``teacher__<name>`` parameters of the teacher.

        Returns
        -------
        self : estimator instance
            This estimator.

        Raises
        ------
        ValueError
            If a parameter is unknown, or if ``teacher__<name>`` parameters are given
            while the teacher is None.

        Examples
        --------
        >>> from sklearn.ensemble import RandomForestClassifier
        >>> from skdistill import DistilledClassifier
        >>> model = DistilledClassifier(teacher=RandomForestClassifier())
        >>> model.set_params(teacher__n_estimators=50).teacher.n_estimators
        50
        """
        teacher = params.get("teacher", getattr(self, "teacher", None))
        nested = sorted(name for name in params if name.startswith("teacher__"))
        if teacher is None and nested:
            name = type(self).__name__
            default = type(self._default_teacher()).__name__
            raise ValueError(
                f"Cannot set {', '.join(nested)} on {name}, because its teacher is "
                f"None. The default {default} is created only in fit, so it takes no "
                f"parameters. teacher__* parameters need an explicit teacher, such as "
                f"{name}(teacher={default}()), or set teacher in the same call or "
                "parameter grid."
            )
        return super().set_params(**params)

    # --- saving and loading ---------------------------------------------------------

    def __getstate__(self):
        # The torch module is left out and rebuilt from the numpy weights on loading.
        # Saved files then hold only arrays, so a student trained on a GPU loads on a
        # machine without one, and skops loads it without trusting any torch type.
        state = dict(super().__getstate__())
        state.pop("student_", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "coefs_" not in state:
            return
        with _TRAINING_LOCK:
            self.student_ = student_from_weights(
                self.coefs_,
                self.intercepts_,
                self.activation_,
                self.input_mean_,
                self.input_scale_,
                dropout=self.dropout,
            )

    # --- fit phases -----------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, X_unlabeled=None):
        """Fit the estimator, leaving it unchanged if anything raises."""
        previous_state = self.__dict__.copy()
        try:
            return self._fit_phases(X, y, sample_weight, X_unlabeled)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise

    def _fit_phases(self, X, y, sample_weight, X_unlabeled):
        previous_student = previous_student_state(self)
        X_student, y = self._validate_training_data(X, y)
        # A DataFrame reaches the teacher as it is, so that a teacher fitted on named
        # columns keeps them; anything else reaches it as the validated array.
        X_teacher = X if hasattr(X, "columns") else X_student
        unlabeled = validate_unlabeled(self, X_unlabeled, X)
        check_augment_input(self, X_student, unlabeled[0])
        sample_weight = _check_sample_weight(
            sample_weight, X_student, dtype=np.float64, ensure_non_negative=True
        )
        if not np.any(sample_weight > 0):
            # scikit-learn 1.6 accepts all-zero weights, which leave no row to train on.
            raise ValueError(
                "Sample weights must contain at least one non-zero number."
            )
        # Equal weights are the same as none, also for teachers such as forests whose
        # bootstrap draws change as soon as any weights are passed.
        weights_given = not np.all(sample_weight == sample_weight[0])
        rng = check_random_state(self.random_state)
        device = resolve_device(self.device)

        teacher = self.teacher if self.teacher is not None else self._default_teacher()
        teacher = self._prepare_teacher(teacher)
        self._check_teacher(teacher)
        check_feature_distillation(self, teacher, self._hidden_layer_sizes())
        prefit = is_fitted(teacher)
        if prefit:
            self._check_prefit_teacher(teacher, y)
        y_encoded, fitted = self._encode_targets(y, teacher if prefit else None)
        self._check_weighted_targets(y, sample_weight, prefit)
        if previous_student is not None:
            check_warm_start(self, previous_student, fitted.get("classes_"))

        teacher_name = type(teacher).__name__
        if not prefit:
            with timed_step(f"fitted the teacher {teacher_name}", self.verbose):
                teacher = self._fit_teacher(
                    teacher, X_teacher, y, sample_weight if weights_given else None, rng
                )

        with timed_step(f"computed the soft targets of {teacher_name}", self.verbose):
            targets = self._training_targets(
                teacher,
                X_teacher,
                y,
                sample_weight if weights_given else None,
                prefit,
                rng,
                fitted,
            )

        # A row of weight zero adds nothing to either loss term, so it is dropped
        # before the validation split and the input standardisation too.
        if not np.all(sample_weight > 0):
            rows = np.flatnonzero(sample_weight > 0)
            X_student, y_encoded = X_student[rows], y_encoded[rows]
            targets, sample_weight = targets[rows], sample_weight[rows]
            X_teacher = _safe_indexing(X_teacher, rows)

        student, history, mean, scale = self._train_student(
            X_student,
            y_encoded,
            targets,
            sample_weight,
            fitted,
            rng,
            device,
            previous_student,
            teacher=teacher,
            X_teacher=X_teacher,
            unlabeled=unlabeled,
        )
        self._warn_about_history(history)
        coefs, intercepts = extract_weights(student)

        self.teacher_ = teacher
        self.student_ = student
        self.__dict__.update(fitted)
        self.input_mean_ = mean
        self.input_scale_ = scale
        self.coefs_ = coefs
        self.intercepts_ = intercepts
        self.activation_ = self.activation
        self.device_ = str(device)
        self._store_history(history)
        return self

    def _validate_training_data(self, X, y):
        check_numeric_columns(X)
        if not self._multi_output:
            check_single_output(y, self)
        try:
            X_student, y = validate_data(
                self,
                X,
                y,
                accept_sparse="csr",
                dtype=np.float64,
                ensure_all_finite=True,
                ensure_min_samples=2,
                y_numeric=self._y_numeric,
                multi_output=self._multi_output,
            )
        except (TypeError, ValueError) as error:
            if getattr(X, "dtype", np.dtype(object)).kind not in "OUS":
                raise
            check_numeric_array(X, error)
        return X_student, y

    def _fit_teacher(self, teacher, X, y, sample_weight, rng):
        """Fit a clone of an unfitted teacher; the given object is never changed."""
        teacher = clone(teacher)
        if self.random_state is not None:
            seed_unset_random_states(teacher, rng.randint(np.iinfo(np.int32).max))
        if sample_weight is not None and not has_fit_parameter(
            teacher, "sample_weight"
        ):
            warnings.warn(
                f"The teacher {type(teacher).__name__} does not accept sample_weight "
                "in fit, so it was fitted without the weights; the student still "
                "uses them.",
                UserWarning,
                stacklevel=4,
            )
            sample_weight = None
        return fit_teacher(teacher, X, y, sample_weight, self.teacher_cache)

    def _check_prefit_teacher(self, teacher, y):
        """Raise if a prefit teacher cannot serve for ``y``; subclasses extend this."""
        n_features = getattr(teacher, "n_features_in_", None)
        if n_features is not None and n_features != self.n_features_in_:
            raise ValueError(
                f"The prefit teacher {type(teacher).__name__} was fitted on "
                f"{n_features} features, but X has {self.n_features_in_}. Pass the "
                "same columns the teacher was fitted on, or an unfitted teacher."
            )

    def _hidden_layer_sizes(self):
        """Validate ``hidden_layer_sizes`` and return it as a tuple of int.

        Widths must be integers (Python or numpy) of at least one. Booleans and
        floats are rejected, integral floats such as 8.0 included, so that no width
        is silently rounded.
        """
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        invalid = [
            size
            for size in sizes
            if isinstance(size, (bool, np.bool_))
            or not isinstance(size, numbers.Integral)
            or size < 1
        ]
        if invalid:
            widths = ", ".join(str(size) for size in invalid)
            raise ValueError(
                f"hidden_layer_sizes must be a positive int or a sequence of positive "
                f"ints, got {self.hidden_layer_sizes!r}. Invalid widths: {widths}. "
                "Pass whole numbers of units, such as (64, 32)."
            )
        return tuple(int(size) for size in sizes)

    def _split_validation(self, n_rows, y_encoded, rng):
        """Return training and validation row indices (None when there can be none)."""
        all_rows = np.arange(n_rows)
        if not self.early_stopping:
            return all_rows, None
        n_validation = math.ceil(self.validation_fraction * n_rows)
        if n_validation < 1 or n_rows - n_validation < 1:
            warnings.warn(
                f"early_stopping=True needs at least one validation and one training "
                f"row, but {n_rows} rows with validation_fraction="
                f"{self.validation_fraction} leave none; training without early "
                "stopping.",
                UserWarning,
                stacklevel=5,
            )
            return all_rows, None
        seed = rng.randint(np.iinfo(np.int32).max)
        stratify = self._stratify_labels(y_encoded)
        if stratify is not None:
            counts = np.bincount(stratify)
            n_classes = np.count_nonzero(counts)
            if (
                counts[counts > 0].min() >= 2
                and n_validation >= n_classes
                and n_rows - n_validation >= n_classes
            ):
                splitter = StratifiedShuffleSplit(
                    n_splits=1, test_size=n_validation, random_state=seed
                )
                train, validation = next(splitter.split(all_rows, stratify))
                return train, validation
        splitter = ShuffleSplit(n_splits=1, test_size=n_validation, random_state=seed)
        train, validation = next(splitter.split(all_rows))
        return train, validation

    def _train_student(
        self,
        X,
        y_encoded,
        targets,
        sample_weight,
        fitted,
        rng,
        device,
        previous_student=None,
        *,
        teacher=None,
        X_teacher=None,
        unlabeled=(None, None),
    ):
        X_unlabeled = unlabeled[0]
        # Weights normalised to a mean of one, so that a batch mean of weighted losses
        # estimates the weighted mean over all training rows.
        weights = sample_weight / sample_weight.mean()
        if previous_student is not None:
            # The previous weights were learned on the previous standardisation.
            mean, scale = previous_student["mean"], previous_student["scale"]
        elif X_unlabeled is not None:
            # Unlabelled rows are real data, so they shape the input scaling too. They
            # weigh one each, as they do in the loss.
            row_weights = np.concatenate([weights, np.ones(X_unlabeled.shape[0])])
            mean, scale = _standardisation(
                _stack_rows(X, X_unlabeled), _unless_equal(row_weights)
            )
        else:
            mean, scale = _standardisation(X, _unless_equal(weights))

        train_rows, validation_rows = self._split_validation(X.shape[0], y_encoded, rng)
        if sp.issparse(X):
            X = X.tocsr()

        # The training and validation inputs are standardised straight from X into
        # their own float32 arrays, so together they take half the size of X and no
        # other copy of X is made.
        def select(rows):
            return {
                "X": _standardised_rows(X, mean, scale, rows),
                "target": targets[rows].astype(np.float32),
                "y": y_encoded[rows],
                "weight": weights[rows].astype(np.float32),
            }

        train = select(train_rows)
        validation = None if validation_rows is None else select(validation_rows)

        features = None
        if feature_distillation_enabled(self):
            X_teacher_train = _safe_indexing(X_teacher, train_rows)
            seed = int(rng.randint(np.iinfo(np.int32).max))
            features = FeatureTargets(self, teacher, X_teacher_train, seed)
            train["feature"] = features.transform(X_teacher_train)
        # Only transfer data reads the raw training rows, so only then are they copied.
        X_train = X[train_rows] if self.augment is not None else None
        extra = self._teacher_labelled_rows(
            teacher,
            X_train,
            X_teacher,
            unlabeled,
            fitted,
            mean,
            scale,
            features,
            rng,
        )
        if len(extra):
            train = _append_unlabelled_rows(train, extra.arrays())

        seed = int(rng.randint(np.iinfo(np.int32).max))
        cuda_devices = [device] if device.type == "cuda" else []
        # The forked generator state keeps the caller's torch random state untouched,
        # while the fixed seed makes initialisation and dropout reproducible.
        with (
            _TRAINING_LOCK,
            torch.random.fork_rng(devices=cuda_devices),
            _torch_threads(self.n_threads),
        ):
            torch.manual_seed(seed)
            hidden_layer_sizes = self._hidden_layer_sizes()
            student = MLPStudent(
                X.shape[1],
                targets.shape[1],
                hidden_layer_sizes,
                self.activation,
                self.dropout,
                mean,
                scale,
            )
            if previous_student is not None:
                load_weights(
                    student,
                    previous_student["coefs"],
                    previous_student["intercepts"],
                )
            net = student.net.to(device)
            batch_loss, extra_parameters = self._make_batch_loss(
                student, fitted, features, hidden_layer_sizes, device
            )
            generator = torch.Generator().manual_seed(seed)
            history = train_network(
                net,
                batch_loss,
                _to_tensors(train, device),
                validation=None
                if validation is None
                else _to_tensors(validation, device),
                validation_score=self._validation_score(),
                batch_size=min(self.batch_size, len(train["X"])),
                max_iter=self.max_iter,
                learning_rate_init=self.learning_rate_init,
                weight_decay=self.weight_decay,
                n_iter_no_change=self.n_iter_no_change,
                tol=self.tol,
                generator=generator,
                verbose=self.verbose,
                extra_parameters=extra_parameters,
            )
        student.cpu().eval()
        return student, history, mean, scale

    def _teacher_labelled_rows(
        self, teacher, X_train, X_teacher, unlabeled, fitted, mean, scale, features, rng
    ):
        """Label the unlabelled rows and the transfer rows with the teacher."""
        X_unlabeled, X_unlabeled_teacher = unlabeled
        extra = TeacherLabelledRows(
            lambda rows: self._transfer_targets(teacher, rows, fitted),
            mean,
            scale,
            X_teacher,
            features=None if features is None else features.transform,
        )
        if X_unlabeled is not None:
            extra.add(X_unlabeled, X_unlabeled_teacher)
        if self.augment is not None:
            # Transfer rows come from training rows only: a synthetic copy of a
            # validation row would leak it into training and bias early stopping.
            X_source = X_train
            if X_unlabeled is not None:
                X_source = _stack_rows(X_source, X_unlabeled)
            seed = int(rng.randint(np.iinfo(np.int32).max))
            for chunk in transfer_chunks(self, X_source, seed):
                extra.add(chunk)
        return extra

    def _make_batch_loss(self, student, fitted, features, hidden_layer_sizes, device):
        """Return the batch loss and the trainable parameters of the feature loss."""
        output_loss = self._output_loss(fitted)
        if features is None:

            def batch_loss(net, batch):
                return output_loss(net(batch["X"]), batch)

            return batch_loss, []
        loss_module = make_loss_module(
            self,
            hidden_layer_sizes[self.feature_layer],
            features.width,
            device,
        )
        batch_loss = with_feature_term(
            output_loss,
            student,
            loss_module,
            float(self.feature_weight),
            self.feature_layer,
        )
        return batch_loss, list(loss_module.parameters())

    def _warn_about_history(self, history):
        name = type(self).__name__
        if history.diverged_epoch is not None:
            kept_epoch = history.best_epoch or history.diverged_epoch - 1
            kept_weights = (
                f"the weights after epoch {kept_epoch}"
                if kept_epoch
                else "the initial weights"
            )
            warnings.warn(
                f"{name}: the loss or the weights became NaN or infinite in epoch "
                f"{history.diverged_epoch}, so training stopped and {kept_weights} "
                "were kept. The likely causes are learning_rate_init="
                f"{self.learning_rate_init} and weight_decay={self.weight_decay}. "
                "AdamW multiplies each weight by 1 - learning_rate_init * "
                "weight_decay in every step, so a product above 2 makes the weights "
                "grow in magnitude every step. A large learning_rate_init alone can "
                "also diverge. Lower either value, or check the inputs for extreme "
                "values.",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif not history.converged:
            warnings.warn(
                f"{name}: training stopped at max_iter={self.max_iter} epochs before "
                "the monitored loss stopped improving. Increase max_iter.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _store_history(self, history):
        self.n_iter_ = history.n_iter
        self.loss_curve_ = list(history.loss_curve)
        self.validation_loss_curve_ = list(history.validation_loss_curve)
        self.validation_scores_ = list(history.validation_scores)
        self.best_epoch_ = history.best_epoch
        self.loss_terms_ = {k: list(v) for k, v in history.term_curves.items()}
