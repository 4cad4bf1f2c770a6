"""Transfer data: synthetic rows for the teacher to label.

A student copies its teacher more closely when it is trained on more points labelled
by the teacher than the training set contains. This module makes such points from the
training matrix alone, with MUNGE (Bucilua, Caruana and Niculescu-Mizil, 2006) or with
gaussian noise. It does not depend on teachers: the caller labels the rows.

Every synthetic row takes its random numbers from its own slice of one Philox counter
stream, so any range of rows can be drawn on its own. This is why the output does not
depend on ``chunk_size``, and why the temporary arrays of one step hold at most
``chunk_size`` rows, whatever ``size_factor`` is.
"""

import math
import numbers

import numpy as np
from scipy.special import ndtri
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array, check_random_state

__all__ = ["count_transfer_rows", "gaussian", "iter_transfer_chunks", "munge"]

DEFAULT_CHUNK_SIZE = 10_000
DEFAULT_SIZE_FACTOR = 1.0
DEFAULT_SWAP_PROBABILITY = 0.5
DEFAULT_LOCAL_VARIANCE = 1.0
DEFAULT_SCALE = 0.1

# Parameters each method accepts beyond the shared ones, with their defaults.
_METHOD_DEFAULTS = {
    "gaussian": {"scale": DEFAULT_SCALE},
    "munge": {
        "swap_probability": DEFAULT_SWAP_PROBABILITY,
        "local_variance": DEFAULT_LOCAL_VARIANCE,
    },
}

# Two one-hot vectors scaled by sqrt(1/2) that differ are at squared Euclidean
# distance 2 * 1/2 = 1, so a categorical mismatch weighs as much as a difference of
# one standard deviation in one standardised continuous column.
_MISMATCH_SCALE = math.sqrt(0.5)

# Philox returns four 64-bit words per counter step.
_WORDS_PER_COUNTER = 4


def count_transfer_rows(n_samples, size_factor):
    """Count the synthetic rows made from ``n_samples`` rows.

    Parameters
    ----------
    n_samples : int
        Number of rows of the input matrix, >= 1.

    size_factor : float
        Synthetic rows per input row, > 0.

    Returns
    -------
    n_synthetic : int
        ``size_factor * n_samples`` rounded half up, and at least 1.

    Examples
    --------
    >>> from skdistill._augment import count_transfer_rows
    >>> count_transfer_rows(150, 2)
    300
    >>> count_transfer_rows(150, 0.5)
    75
    """
    if not _is_index(n_samples) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    _check_size_factor(size_factor)
    return max(1, math.floor(size_factor * n_samples + 0.5))


def munge(
    X,
    *,
    size_factor=DEFAULT_SIZE_FACTOR,
    swap_probability=DEFAULT_SWAP_PROBABILITY,
    local_variance=DEFAULT_LOCAL_VARIANCE,
    categorical_features=None,
    random_state=None,
    chunk_size=DEFAULT_CHUNK_SIZE,
):
    """Generate synthetic rows with MUNGE.

    Each synthetic row starts as a copy of a row of ``X`` and takes, attribute by
    attribute, values from that row's nearest neighbour: nominal values are swapped
    in, continuous values are drawn from a normal centred on the neighbour's value.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training matrix, finite, with at least 2 rows. Categorical features are
        ordinal-encoded columns or one-hot groups (see ``categorical_features``).

    size_factor : float, default=1.0
        Synthetic rows per row of ``X``, > 0. The output has
        ``count_transfer_rows(n_samples, size_factor)`` rows: one pass over all rows
        of ``X`` for each whole unit, then a last pass over a random subset of
        distinct rows for the fraction.

    swap_probability : float, default=0.5
        Probability ``p`` in [0, 1] that an attribute takes its value from the
        neighbour. With 0 every synthetic row is an exact copy of its source row.

    local_variance : float, default=1.0
        Divisor ``s`` > 0 of the normal's standard deviation ``|a - b| / s``, where
        ``a`` and ``b`` are the values of the row and of its neighbour. Larger
        values keep continuous values closer to the neighbour's.

    categorical_features : array-like, default=None
        Categorical features of ``X``, which only ever take values observed in
        ``X``. Either a boolean mask of shape (n_features,) marking ordinal-encoded
        columns, or a list whose entries are column indices (one ordinal-encoded
        column each) or lists of at least two column indices (one one-hot group
        each, swapped as a whole). A column belongs to at most one feature. None
        means that every column is continuous.

    random_state : int, RandomState instance or None, default=None
        Seeds the random numbers. Pass an int for output that is the same across
        calls. A RandomState instance is advanced by one draw.

    chunk_size : int, default=10000
        Maximum number of synthetic rows generated in one step, >= 1. It bounds the
        temporary memory and does not change the output.

    Returns
    -------
    X_synthetic : ndarray of shape (n_synthetic, n_features)
        Synthetic rows, float32 if ``X`` is float32 and float64 otherwise. Rows
        come pass by pass, and within a pass in the order of their source rows.

    See Also
    --------
    gaussian : Copies of the rows of ``X`` with gaussian noise.
    iter_transfer_chunks : The same rows, yielded in chunks.

    Notes
    -----
    The nearest neighbour of each row is searched once, in ``X`` without the row
    itself. Distance is Euclidean on continuous columns standardised to zero mean
    and unit variance (constant columns are only centred), plus 1 in squared
    distance for each ordinal column or one-hot group whose category differs.

    For synthetic row ``e`` made from source row ``x`` and its neighbour ``x'``,
    each attribute is independently selected with probability ``p``. A selected
    continuous attribute gets ``e_a ~ Normal(x'_a, |x_a - x'_a| / s)``, and a
    selected ordinal column or one-hot group gets the neighbour's category. All
    other attributes keep the value of ``x``.

    In the published algorithm a pass walks the rows one by one, and each update
    also rewrites the neighbour ``x'`` with a draw around ``x``, so later rows of
    the pass can meet a neighbour that was already modified. Here every synthetic
    row is drawn from the unmodified ``X`` and the neighbour is never rewritten.
    This keeps the rows independent, so a pass is computed for many rows at once
    and in any chunking. Each row still follows the distribution of the published
    update of ``e``.

    The neighbour search uses :class:`sklearn.neighbors.NearestNeighbors` on that
    embedding, whose width is the number of continuous columns plus the number of
    observed categories. Its memory grows with ``n_samples`` times that width and
    not with ``size_factor``. Its time grows with ``n_samples**2`` in the worst
    case.

    References
    ----------
    .. [1] C. Bucilua, R. Caruana and A. Niculescu-Mizil, "Model Compression",
       Proceedings of the 12th ACM SIGKDD International Conference on Knowledge
       Discovery and Data Mining (KDD), 2006, pp. 535-541.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skdistill._augment import munge
    >>> X, _ = load_iris(return_X_y=True)
    >>> X_synthetic = munge(X, size_factor=2, random_state=0)
    >>> X_synthetic.shape
    (300, 4)
    >>> copies = munge(X, swap_probability=0.0, random_state=0)
    >>> bool(np.array_equal(copies, X))
    True
    """
    plan = _prepare_transfer(
        X,
        "munge",
        size_factor=size_factor,
        categorical_features=categorical_features,
        random_state=random_state,
        chunk_size=chunk_size,
        method_params={
            "swap_probability": swap_probability,
            "local_variance": local_variance,
        },
    )
    return plan.generate_all()


def gaussian(
    X,
    *,
    size_factor=DEFAULT_SIZE_FACTOR,
    scale=DEFAULT_SCALE,
    categorical_features=None,
    random_state=None,
    chunk_size=DEFAULT_CHUNK_SIZE,
):
    """Generate synthetic rows as copies of ``X`` with gaussian noise.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training matrix, finite, with at least 2 rows.

    size_factor : float, default=1.0
        Synthetic rows per row of ``X``, > 0. The output has
        ``count_transfer_rows(n_samples, size_factor)`` rows: one pass over all rows
        of ``X`` for each whole unit, then a last pass over a random subset of
        distinct rows for the fraction.

    scale : float, default=0.1
        Standard deviation of the noise as a multiple of each continuous column's
        standard deviation in ``X``, >= 0. With 0 every synthetic row is an exact
        copy of its source row.

    categorical_features : array-like, default=None
        Categorical features of ``X``, given as in :func:`munge`. They get no noise
        and keep the category of the source row.

    random_state : int, RandomState instance or None, default=None
        Seeds the random numbers. Pass an int for output that is the same across
        calls. A RandomState instance is advanced by one draw.

    chunk_size : int, default=10000
        Maximum number of synthetic rows generated in one step, >= 1. It bounds the
        temporary memory and does not change the output.

    Returns
    -------
    X_synthetic : ndarray of shape (n_synthetic, n_features)
        Synthetic rows, float32 if ``X`` is float32 and float64 otherwise. Rows
        come pass by pass, and within a pass in the order of their source rows.

    See Also
    --------
    munge : Synthetic rows that mix each row with its nearest neighbour.
    iter_transfer_chunks : The same rows, yielded in chunks.

    Notes
    -----
    Synthetic row ``e`` made from source row ``x`` has
    ``e_j = x_j + scale * sd_j * z_j`` for each continuous column ``j``, with
    ``z_j`` standard normal and ``sd_j`` the population standard deviation of
    column ``j`` in ``X``. A constant column stays constant. Unlike :func:`munge`,
    the noise ignores the local shape of the data, so a large ``scale`` puts rows
    where the data has none.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_wine
    >>> from skdistill._augment import gaussian
    >>> X, _ = load_wine(return_X_y=True)
    >>> X_synthetic = gaussian(X, size_factor=1.5, scale=0.05, random_state=0)
    >>> X_synthetic.shape
    (267, 13)
    >>> bool(np.array_equal(gaussian(X, scale=0.0), X))
    True
    """
    plan = _prepare_transfer(
        X,
        "gaussian",
        size_factor=size_factor,
        categorical_features=categorical_features,
        random_state=random_state,
        chunk_size=chunk_size,
        method_params={"scale": scale},
    )
    return plan.generate_all()


def iter_transfer_chunks(
    X,
    method="munge",
    *,
    size_factor=DEFAULT_SIZE_FACTOR,
    categorical_features=None,
    random_state=None,
    chunk_size=DEFAULT_CHUNK_SIZE,
    **method_params,
):
    """Yield synthetic rows in chunks of at most ``chunk_size`` rows.

    The input is validated, and for MUNGE the nearest neighbours are searched,
    when this function is called. The returned iterator then generates one chunk
    per step, so a caller can label each chunk with a teacher and drop it.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training matrix, finite, with at least 2 rows.

    method : {"munge", "gaussian"}, default="munge"
        Generator: :func:`munge` or :func:`gaussian`.

    size_factor : float, default=1.0
        Synthetic rows per row of ``X``, > 0. The chunks hold
        ``count_transfer_rows(n_samples, size_factor)`` rows in all.

    categorical_features : array-like, default=None
        Categorical features of ``X``, given as in :func:`munge`.

    random_state : int, RandomState instance or None, default=None
        Seeds the random numbers. Pass an int for output that is the same across
        calls. A RandomState instance is advanced by one draw.

    chunk_size : int, default=10000
        Maximum number of rows per chunk, >= 1. Every chunk but the last has
        exactly ``chunk_size`` rows.

    **method_params : dict
        Parameters of the method: ``swap_probability`` and ``local_variance`` for
        ``"munge"``, ``scale`` for ``"gaussian"``. Missing ones take the defaults of
        :func:`munge` and :func:`gaussian`.

    Returns
    -------
    chunks : iterator of ndarray of shape (n_chunk_rows, n_features)
        Consecutive chunks. Their concatenation equals the output of
        :func:`munge` or :func:`gaussian` called with the same arguments, for any
        ``chunk_size``.

    Raises
    ------
    ValueError
        If ``method``, a parameter value, ``categorical_features`` or ``X`` is
        invalid.
    TypeError
        If ``method_params`` contains a parameter that ``method`` does not accept,
        or if an entry of ``categorical_features`` is neither a column index nor
        a list of column indices.

    See Also
    --------
    munge, gaussian : The generators, returning all rows at once.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skdistill._augment import iter_transfer_chunks, munge
    >>> X, _ = load_iris(return_X_y=True)
    >>> chunks = iter_transfer_chunks(
    ...     X, "munge", size_factor=2, random_state=0, chunk_size=128,
    ...     swap_probability=0.3,
    ... )
    >>> [len(chunk) for chunk in chunks]
    [128, 128, 44]
    >>> all_rows = munge(X, size_factor=2, swap_probability=0.3, random_state=0)
    >>> chunks = iter_transfer_chunks(
    ...     X, "munge", size_factor=2, random_state=0, chunk_size=128,
    ...     swap_probability=0.3,
    ... )
    >>> bool(np.array_equal(np.concatenate(list(chunks)), all_rows))
    True
    """
    plan = _prepare_transfer(
        X,
        method,
        size_factor=size_factor,
        categorical_features=categorical_features,
        random_state=random_state,
        chunk_size=chunk_size,
        method_params=method_params,
    )
    return plan.iter_chunks()


class _TransferPlan:
    """Validated input, source rows and random key of one transfer data request."""

    def __init__(self, sampler, n_samples, n_synthetic, dtype, seed, chunk_size):
        self.sampler = sampler
        self.n_samples = n_samples
        self.n_synthetic = n_synthetic
        self.dtype = dtype
        self.chunk_size = chunk_size

        row_seed, subset_seed = seed.spawn(2)
        self.philox_key = row_seed.generate_state(2, dtype=np.uint64)

        # The fractional last pass takes distinct rows at random, because the first
        # rows of a matrix sorted by class or by time would not represent it.
        n_partial = n_synthetic % n_samples
        subset_rng = np.random.default_rng(subset_seed)
        partial = subset_rng.choice(n_samples, size=n_partial, replace=False)
        self.partial_rows = np.sort(partial)
        self.n_full_rows = n_synthetic - n_partial

    def source_rows(self, start, stop):
        """Return the row of X that each synthetic row in [start, stop) copies."""
        synthetic_rows = np.arange(start, stop)
        positions = synthetic_rows % self.n_samples
        in_partial_pass = synthetic_rows >= self.n_full_rows
        positions[in_partial_pass] = self.partial_rows[positions[in_partial_pass]]
        return positions

    def generate(self, start, stop):
        """Generate synthetic rows [start, stop)."""
        uniforms = _row_uniforms(self.philox_key, start, stop, self.sampler.n_uniforms)
        rows = self.sampler.draw(self.source_rows(start, stop), uniforms)
        return rows.astype(self.dtype, copy=False)

    def iter_chunks(self):
        for start in range(0, self.n_synthetic, self.chunk_size):
            yield self.generate(start, min(start + self.chunk_size, self.n_synthetic))

    def generate_all(self):
        n_features = self.sampler.X.shape[1]
        X_synthetic = np.empty((self.n_synthetic, n_features), dtype=self.dtype)
        for start in range(0, self.n_synthetic, self.chunk_size):
            stop = min(start + self.chunk_size, self.n_synthetic)
            X_synthetic[start:stop] = self.generate(start, stop)
        return X_synthetic


def _prepare_transfer(
    X,
    method,
    *,
    size_factor,
    categorical_features,
    random_state,
    chunk_size,
    method_params,
):
    """Validate every argument, then build the sampler and the row plan."""
    if not isinstance(method, str) or method not in _METHOD_DEFAULTS:
        allowed = " or ".join(repr(name) for name in sorted(_METHOD_DEFAULTS))
        raise ValueError(f"method must be {allowed}, got {method!r}.")
    unknown = sorted(set(method_params) - set(_METHOD_DEFAULTS[method]))
    if unknown:
        accepted = ", ".join(sorted(_METHOD_DEFAULTS[method]))
        raise TypeError(
            f"Method {method!r} does not accept the parameters {unknown}. "
            f"Valid parameters are: {accepted}."
        )
    params = {**_METHOD_DEFAULTS[method], **method_params}
    _check_size_factor(size_factor)
    _check_chunk_size(chunk_size)
    if method == "munge":
        _check_number("swap_probability", params["swap_probability"], 0, 1, "[0, 1]")
        _check_number(
            "local_variance", params["local_variance"], 0, math.inf, "(0, inf)"
        )
    else:
        _check_number("scale", params["scale"], 0, math.inf, "[0, inf)")

    X = check_array(
        X, dtype=(np.float64, np.float32), ensure_min_samples=2, input_name="X"
    )
    layout = _ColumnLayout.from_spec(categorical_features, X)

    if method == "munge":
        sampler = _MungeSampler(X, layout, **params)
    else:
        sampler = _GaussianSampler(X, layout, **params)
    n_synthetic = count_transfer_rows(X.shape[0], size_factor)
    seed = _seed_from_random_state(random_state)
    return _TransferPlan(sampler, X.shape[0], n_synthetic, X.dtype, seed, chunk_size)


class _MungeSampler:
    """MUNGE draws from source rows and their nearest neighbours."""

    def __init__(self, X, layout, *, swap_probability, local_variance):
        self.X = X
        self.layout = layout
        self.swap_probability = swap_probability
        self.local_variance = local_variance
        self.neighbors = _find_nearest_neighbors(X, layout)
        # One uniform per swap unit, then one per continuous column for the normal.
        self.n_uniforms = layout.n_units + layout.continuous.size

    def draw(self, source_rows, uniforms):
        layout = self.layout
        source = self.X[source_rows]
        neighbor = self.X[self.neighbors[source_rows]]

        swap_units = uniforms[:, : layout.n_units] < self.swap_probability
        # Indexing by unit expands each one-hot group's single decision to all of
        # its columns, so a group is always taken whole from one row.
        swap = swap_units[:, layout.unit_of_column]
        synthetic = np.where(swap, neighbor, source)

        continuous = layout.continuous
        if continuous.size:
            a = source[:, continuous]
            b = neighbor[:, continuous]
            z = ndtri(uniforms[:, layout.n_units :])
            drawn = b + z * (np.abs(a - b) / self.local_variance)
            synthetic[:, continuous] = np.where(swap[:, continuous], drawn, a)
        return synthetic


class _GaussianSampler:
    """Copies of source rows with gaussian noise on continuous columns."""

    def __init__(self, X, layout, *, scale):
        self.X = X
        self.continuous = layout.continuous
        column_sd = X[:, self.continuous].std(axis=0, dtype=np.float64)
        self.noise_sd = scale * column_sd
        self.n_uniforms = self.continuous.size

    def draw(self, source_rows, uniforms):
        synthetic = self.X[source_rows].astype(np.float64)
        if self.continuous.size:
            noise = ndtri(uniforms) * self.noise_sd
            synthetic[:, self.continuous] += noise
        return synthetic


class _ColumnLayout:
    """Partition of the columns of X into swap units.

    A unit is one continuous column, one ordinal-encoded column or one one-hot
    group. MUNGE makes one swap decision per unit.
    """

    def __init__(self, n_features, ordinal, groups):
        categorical = set(ordinal).union(*groups)
        self.continuous = np.array(
            [column for column in range(n_features) if column not in categorical],
            dtype=np.intp,
        )
        self.ordinal = np.array(sorted(ordinal), dtype=np.intp)
        self.groups = [np.array(group, dtype=np.intp) for group in groups]

        units = [[column] for column in self.continuous]
        units += [[column] for column in self.ordinal] + [list(g) for g in groups]
        units.sort(key=min)
        self.unit_of_column = np.empty(n_features, dtype=np.intp)
        for unit, columns in enumerate(units):
            self.unit_of_column[columns] = unit
        self.n_units = len(units)

    @classmethod
    def from_spec(cls, categorical_features, X):
        """Parse and validate ``categorical_features`` against X."""
        n_features = X.shape[1]
        ordinal, groups = _parse_categorical_features(categorical_features, n_features)
        for group in groups:
            _check_one_hot(X, group)
        return cls(n_features, ordinal, groups)


def _parse_categorical_features(categorical_features, n_features):
    """Split ``categorical_features`` into ordinal columns and one-hot groups."""
    if categorical_features is None:
        return [], []
    if isinstance(categorical_features, str):
        raise TypeError(
            "categorical_features must be a boolean mask or a list of column "
            f"indices and one-hot groups, got the string {categorical_features!r}."
        )
    if _is_boolean_mask(categorical_features):
        mask = np.asarray(categorical_features, dtype=bool)
        if mask.shape != (n_features,):
            raise ValueError(
                "categorical_features as a boolean mask needs one entry per "
                f"column of X ({n_features}), got shape {mask.shape}."
            )
        return np.flatnonzero(mask).tolist(), []

    ordinal, groups = [], []
    owner = {}
    for entry in categorical_features:
        if _is_index(entry):
            columns = [int(entry)]
            ordinal.append(columns[0])
        else:
            columns = _parse_one_hot_group(entry)
            groups.append(columns)
        for column in columns:
            if not 0 <= column < n_features:
                raise ValueError(
                    f"categorical_features contains column index {column}, which "
                    f"is out of range for X with {n_features} columns. Valid "
                    f"indices are 0 to {n_features - 1}."
                )
            if column in owner:
                raise ValueError(
                    f"Column {column} is in more than one categorical feature of "
                    f"categorical_features: {owner[column]} and {entry!r}. Each "
                    "column can belong to one feature only."
                )
            owner[column] = repr(entry)
    return ordinal, groups


def _parse_one_hot_group(entry):
    try:
        columns = list(entry)
    except TypeError:
        columns = None
    if columns is None or not all(_is_index(column) for column in columns):
        raise TypeError(
            "categorical_features entries must be column indices (int) or lists "
            f"of column indices (one-hot groups), got {entry!r}."
        )
    if len(columns) < 2:
        raise ValueError(
            f"One-hot group {entry!r} in categorical_features has {len(columns)} "
            "column, but a group needs at least 2. Pass a single 0/1 column as "
            "an integer index instead."
        )
    return [int(column) for column in columns]


def _is_boolean_mask(value):
    if isinstance(value, np.ndarray):
        return value.dtype == bool
    try:
        entries = list(value)
    except TypeError:
        return False
    return bool(entries) and all(isinstance(v, (bool, np.bool_)) for v in entries)


def _is_index(value):
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_)
    )


def _check_one_hot(X, group):
    values = X[:, group]
    is_binary = np.all((values == 0) | (values == 1), axis=1)
    is_one_hot = is_binary & (values.sum(axis=1) == 1)
    if not is_one_hot.all():
        row = int(np.flatnonzero(~is_one_hot)[0])
        raise ValueError(
            f"One-hot group {group} in categorical_features is not one-hot in row "
            f"{row} of X, which has values {values[row].tolist()} there. Every "
            "row needs exactly one 1 and zeros elsewhere in the group."
        )


def _find_nearest_neighbors(X, layout):
    """Return, for each row of X, the index of its nearest other row."""
    search = NearestNeighbors(n_neighbors=1)
    search.fit(_embed_for_distance(X, layout))
    # Without a query matrix, kneighbors excludes each row from its own neighbours,
    # and an exact duplicate of the row is still found at distance 0.
    return search.kneighbors(return_distance=False)[:, 0]


def _embed_for_distance(X, layout):
    """Map X to a space whose Euclidean distance is the MUNGE distance."""
    parts = []
    if layout.continuous.size:
        continuous = X[:, layout.continuous].astype(np.float64)
        sd = continuous.std(axis=0)
        sd[sd == 0] = 1.0
        parts.append((continuous - continuous.mean(axis=0)) / sd)
    for column in layout.ordinal:
        # NOTE: an ordinal column with many categories widens this dense matrix by
        # one column per category, which can dominate memory for ID-like columns.
        _, codes = np.unique(X[:, column], return_inverse=True)
        one_hot = np.zeros((X.shape[0], codes.max() + 1))
        one_hot[np.arange(X.shape[0]), codes] = _MISMATCH_SCALE
        parts.append(one_hot)
    for group in layout.groups:
        parts.append(X[:, group].astype(np.float64) * _MISMATCH_SCALE)
    return np.hstack(parts)


def _row_uniforms(key, start, stop, n_per_row):
    """Return uniforms in (0, 1) of shape (stop - start, n_per_row).

    Row ``t`` always gets the same numbers: those at counter steps
    ``[t * c, (t + 1) * c)`` of a Philox stream with ``key``, where ``c`` is the
    number of steps that cover ``n_per_row`` words.
    """
    n_rows = stop - start
    if n_per_row == 0:
        return np.empty((n_rows, 0))
    steps_per_row = -(-n_per_row // _WORDS_PER_COUNTER)
    words_per_row = steps_per_row * _WORDS_PER_COUNTER
    bit_generator = np.random.Philox(key=key, counter=start * steps_per_row)
    words = bit_generator.random_raw(n_rows * words_per_row)
    words = words.reshape(n_rows, words_per_row)[:, :n_per_row]
    # The top 52 bits plus half a step are exact in float64 and lie in
    # [2**-53, 1 - 2**-53], so the inverse normal CDF never returns an infinite
    # value. With 53 bits, k + 0.5 rounds to 2**53 for the largest k, giving 1.0.
    return ((words >> np.uint64(12)).astype(np.float64) + 0.5) * 2.0**-52


def _seed_from_random_state(random_state):
    """Draw a SeedSequence from an int, a RandomState instance or None."""
    random_state = check_random_state(random_state)
    entropy = random_state.randint(0, 2**32, size=4, dtype=np.uint64)
    return np.random.SeedSequence(entropy.tolist())


def _check_number(name, value, low, high, interval):
    """Raise ValueError unless ``value`` is a real number in ``interval``.

    ``interval`` is written as "[low, high]", with "(" or ")" for an open end.
    """
    is_real = isinstance(value, numbers.Real) and not isinstance(
        value, (bool, np.bool_)
    )
    inside = is_real and (
        (low <= value if interval[0] == "[" else low < value)
        and (value <= high if interval[-1] == "]" else value < high)
    )
    if not inside:
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}.")


def _check_size_factor(size_factor):
    _check_number("size_factor", size_factor, 0, math.inf, "(0, inf)")


def _check_chunk_size(chunk_size):
    if not _is_index(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}.")
