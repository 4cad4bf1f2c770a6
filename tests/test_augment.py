import re

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine

from skdistill._augment import (
    _ColumnLayout,
    _find_nearest_neighbors,
    _row_uniforms,
    count_transfer_rows,
    gaussian,
    iter_transfer_chunks,
    munge,
)

METHODS = [munge, gaussian]


def _iris_with_categories():
    """Return iris with two categorical features, and their specification.

    Columns 0-3 are the measurements, column 4 the species as an ordinal code and
    columns 5-7 a one-hot encoding of petal length cut into three bins.
    """
    X, y = load_iris(return_X_y=True)
    bins = np.digitize(X[:, 2], [2.5, 5.0])
    one_hot = np.eye(3)[bins]
    X_mixed = np.column_stack([X, y.astype(float), one_hot])
    return X_mixed, [4, [5, 6, 7]]


def _mixed_squared_distances(X, continuous, categorical_units):
    """Return the MUNGE squared distance between all rows, by brute force."""
    Z = X[:, continuous]
    sd = Z.std(axis=0)
    Z = (Z - Z.mean(axis=0)) / np.where(sd == 0, 1.0, sd)
    distances = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2)
    for columns in categorical_units:
        values = X[:, columns]
        differs = np.any(values[:, None, :] != values[None, :, :], axis=2)
        distances += differs
    np.fill_diagonal(distances, np.inf)
    return distances


@pytest.mark.parametrize("size_factor", [1, 2, 2.5])
def test_munge_zero_swap_probability_copies_rows(size_factor):
    X, _ = load_wine(return_X_y=True)
    n_samples = X.shape[0]

    X_synthetic = munge(
        X, size_factor=size_factor, swap_probability=0.0, random_state=0
    )

    n_full_passes = int(size_factor)
    expected_full = np.tile(X, (n_full_passes, 1))
    assert np.array_equal(X_synthetic[: n_full_passes * n_samples], expected_full)
    partial = X_synthetic[n_full_passes * n_samples :]
    source_index = {row.tobytes(): i for i, row in enumerate(X)}
    partial_sources = [source_index.get(row.tobytes()) for row in partial]
    assert None not in partial_sources
    assert len(set(partial_sources)) == len(partial_sources)


def test_gaussian_zero_scale_copies_rows():
    X, _ = load_iris(return_X_y=True)

    X_synthetic = gaussian(X, size_factor=3, scale=0.0, random_state=0)

    assert np.array_equal(X_synthetic, np.tile(X, (3, 1)))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "size_factor, n_expected",
    [(0.001, 1), (0.5, 89), (1, 178), (1.5, 267), (2, 356), (3.25, 579)],
)
def test_transfer_output_shape(method, size_factor, n_expected):
    X, _ = load_wine(return_X_y=True)

    X_synthetic = method(X, size_factor=size_factor, random_state=0)

    assert count_transfer_rows(X.shape[0], size_factor) == n_expected
    assert X_synthetic.shape == (n_expected, X.shape[1])


@pytest.mark.parametrize("method", METHODS)
def test_transfer_keeps_float32(method):
    X, _ = load_iris(return_X_y=True)

    X_synthetic = method(X.astype(np.float32), random_state=0)

    assert X_synthetic.dtype == np.float32


@pytest.mark.parametrize("method", METHODS)
def test_transfer_deterministic_under_random_state(method):
    X, _ = load_breast_cancer(return_X_y=True)

    first = method(X, size_factor=1.5, random_state=7)
    second = method(X, size_factor=1.5, random_state=7)
    from_instance = method(X, size_factor=1.5, random_state=np.random.RandomState(7))
    other_seed = method(X, size_factor=1.5, random_state=8)

    assert np.array_equal(first, second)
    assert np.array_equal(first, from_instance)
    assert not np.array_equal(first, other_seed)


@pytest.mark.parametrize("method", ["munge", "gaussian"])
@pytest.mark.parametrize("chunk_size", [1, 7, 150, 10_000])
def test_iter_transfer_chunks_matches_unchunked(method, chunk_size):
    X, categorical_features = _iris_with_categories()
    generate = {"munge": munge, "gaussian": gaussian}[method]
    unchunked = generate(
        X, size_factor=2.5, categorical_features=categorical_features, random_state=3
    )

    chunks = list(
        iter_transfer_chunks(
            X,
            method,
            size_factor=2.5,
            categorical_features=categorical_features,
            random_state=3,
            chunk_size=chunk_size,
        )
    )

    n_synthetic = unchunked.shape[0]
    assert all(len(chunk) == chunk_size for chunk in chunks[:-1])
    assert 1 <= len(chunks[-1]) <= chunk_size
    assert np.array_equal(np.concatenate(chunks), unchunked)
    assert n_synthetic == 375


def test_munge_chunk_size_does_not_change_output():
    X, _ = load_breast_cancer(return_X_y=True)

    small_chunks = munge(X, size_factor=2, random_state=0, chunk_size=33)
    one_chunk = munge(X, size_factor=2, random_state=0, chunk_size=100_000)

    assert np.array_equal(small_chunks, one_chunk)


def test_iter_transfer_chunks_passes_method_params():
    X, _ = load_iris(return_X_y=True)

    chunks = iter_transfer_chunks(
        X, "munge", random_state=0, swap_probability=0.2, local_variance=5.0
    )
    expected = munge(X, random_state=0, swap_probability=0.2, local_variance=5.0)

    assert np.array_equal(np.concatenate(list(chunks)), expected)


def test_munge_categorical_values_observed():
    X, categorical_features = _iris_with_categories()

    X_synthetic = munge(
        X,
        size_factor=3,
        swap_probability=0.8,
        categorical_features=categorical_features,
        random_state=0,
    )

    assert set(np.unique(X_synthetic[:, 4])) <= set(np.unique(X[:, 4]))
    observed_groups = {tuple(row) for row in X[:, 5:8]}
    assert {tuple(row) for row in X_synthetic[:, 5:8]} <= observed_groups


def test_munge_boolean_mask_marks_ordinal_columns():
    X, y = load_wine(return_X_y=True)
    X = np.column_stack([X, y])
    mask = np.zeros(X.shape[1], dtype=bool)
    mask[-1] = True

    X_synthetic = munge(
        X,
        size_factor=2,
        swap_probability=1.0,
        categorical_features=mask,
        random_state=0,
    )
    as_index = munge(
        X,
        size_factor=2,
        swap_probability=1.0,
        categorical_features=[X.shape[1] - 1],
        random_state=0,
    )

    assert set(np.unique(X_synthetic[:, -1])) == {0.0, 1.0, 2.0}
    assert np.array_equal(X_synthetic, as_index)


def test_munge_one_hot_groups_stay_one_hot():
    X, categorical_features = _iris_with_categories()

    X_synthetic = munge(
        X,
        size_factor=4,
        swap_probability=0.5,
        categorical_features=categorical_features,
        random_state=1,
    )

    group = X_synthetic[:, 5:8]
    assert np.all((group == 0) | (group == 1))
    assert np.all(group.sum(axis=1) == 1)


def test_munge_swaps_group_whole_from_neighbor():
    X, categorical_features = _iris_with_categories()
    layout = _ColumnLayout.from_spec(categorical_features, X)
    neighbors = _find_nearest_neighbors(X, layout)

    X_synthetic = munge(
        X,
        size_factor=5,
        swap_probability=0.5,
        categorical_features=categorical_features,
        random_state=2,
    )

    sources = np.tile(np.arange(X.shape[0]), 5)
    group = X_synthetic[:, 5:8]
    from_source = np.all(group == X[sources, 5:8], axis=1)
    from_neighbor = np.all(group == X[neighbors[sources], 5:8], axis=1)
    species = X_synthetic[:, 4]
    assert np.all(from_source | from_neighbor)
    assert np.all((species == X[sources, 4]) | (species == X[neighbors[sources], 4]))
    # Both outcomes occur for rows whose neighbour has another bin.
    differs = np.any(X[sources, 5:8] != X[neighbors[sources], 5:8], axis=1)
    assert from_neighbor[differs].any()
    assert from_source[differs].any()


def test_munge_neighbors_minimise_mixed_distance():
    X, categorical_features = _iris_with_categories()
    layout = _ColumnLayout.from_spec(categorical_features, X)
    distances = _mixed_squared_distances(X, [0, 1, 2, 3], [[4], [5, 6, 7]])

    neighbors = _find_nearest_neighbors(X, layout)

    rows = np.arange(X.shape[0])
    assert np.all(neighbors != rows)
    assert np.allclose(distances[rows, neighbors], distances.min(axis=1))


def test_munge_full_swap_moves_rows_to_neighbors():
    X, _ = load_wine(return_X_y=True)
    distances = _mixed_squared_distances(X, list(range(X.shape[1])), [])

    # With every attribute swapped and a tiny local variance, each synthetic row
    # is its source row's nearest neighbour, up to rounding.
    X_synthetic = munge(X, swap_probability=1.0, local_variance=1e12, random_state=0)

    neighbor_of_row = np.array(
        [np.flatnonzero(np.all(np.isclose(X, row), axis=1))[0] for row in X_synthetic]
    )
    rows = np.arange(X.shape[0])
    assert np.allclose(distances[rows, neighbor_of_row], distances.min(axis=1))


@pytest.mark.parametrize("local_variance", [1.0, 10.0])
@pytest.mark.parametrize("loader", [load_iris, load_wine, load_breast_cancer])
def test_munge_continuous_values_stay_near_data(loader, local_variance):
    X, _ = loader(return_X_y=True)
    low, high = X.min(axis=0), X.max(axis=0)
    sd = X.std(axis=0)

    X_synthetic = munge(X, size_factor=3, local_variance=local_variance, random_state=0)

    # A draw is Normal(b, |a - b| / s) with |a - b| <= max - min, and a standard
    # normal exceeds 6 in absolute value with probability 2e-9.
    margin = 6 * (high - low) / local_variance
    assert np.all(X_synthetic >= low - margin)
    assert np.all(X_synthetic <= high + margin)
    assert np.all(np.abs(X_synthetic.mean(axis=0) - X.mean(axis=0)) < 0.1 * sd)
    sd_ratio = X_synthetic.std(axis=0) / sd
    assert np.all(sd_ratio > 0.85)
    assert np.all(sd_ratio < 1.15)


@pytest.mark.parametrize("scale", [0.05, 0.3])
def test_gaussian_noise_matches_scale(scale):
    X, _ = load_breast_cancer(return_X_y=True)
    sd = X.std(axis=0)

    X_synthetic = gaussian(X, size_factor=4, scale=scale, random_state=0)

    noise = X_synthetic - np.tile(X, (4, 1))
    assert np.all(np.abs(noise) <= 6 * scale * sd)
    noise_ratio = noise.std(axis=0) / (scale * sd)
    assert np.all(noise_ratio > 0.9)
    assert np.all(noise_ratio < 1.1)
    assert np.all(np.abs(noise.mean(axis=0)) < 0.1 * scale * sd)


def test_gaussian_keeps_categories_of_source_row():
    X, categorical_features = _iris_with_categories()

    X_synthetic = gaussian(
        X,
        size_factor=2,
        scale=0.5,
        categorical_features=categorical_features,
        random_state=0,
    )

    sources = np.tile(X, (2, 1))
    assert np.array_equal(X_synthetic[:, 4:], sources[:, 4:])
    assert not np.array_equal(X_synthetic[:, :4], sources[:, :4])


def test_munge_two_rows():
    X, _ = load_iris(return_X_y=True)
    X = X[[0, 100]]

    X_synthetic = munge(X, size_factor=3, swap_probability=1.0, random_state=0)

    assert X_synthetic.shape == (6, 4)
    assert np.all(np.isfinite(X_synthetic))


def test_munge_only_categorical_columns():
    X_mixed, _ = _iris_with_categories()
    X = X_mixed[:, 4:]

    X_synthetic = munge(
        X,
        size_factor=2,
        swap_probability=0.5,
        categorical_features=[0, [1, 2, 3]],
        random_state=0,
    )

    assert X_synthetic.shape == (300, 4)
    assert {tuple(row) for row in X_synthetic} <= {tuple(row) for row in X}


def _bad_one_hot():
    X, _ = _iris_with_categories()
    X[17, 6] = 1.0
    return X


def _half_one_hot():
    X, _ = _iris_with_categories()
    X[3, 5:8] = [0.5, 0.5, 0.0]
    return X


@pytest.mark.parametrize(
    "params, message",
    [
        ({"size_factor": 0}, "size_factor must be a number in (0, inf), got 0."),
        ({"size_factor": -1.5}, "size_factor must be a number in (0, inf), got -1.5."),
        (
            {"size_factor": float("nan")},
            "size_factor must be a number in (0, inf), got nan.",
        ),
        (
            {"size_factor": float("inf")},
            "size_factor must be a number in (0, inf), got inf.",
        ),
        ({"size_factor": "2"}, "size_factor must be a number in (0, inf), got '2'."),
        (
            {"swap_probability": -0.1},
            "swap_probability must be a number in [0, 1], got -0.1.",
        ),
        (
            {"swap_probability": 1.5},
            "swap_probability must be a number in [0, 1], got 1.5.",
        ),
        (
            {"local_variance": 0},
            "local_variance must be a number in (0, inf), got 0.",
        ),
        (
            {"local_variance": -2.0},
            "local_variance must be a number in (0, inf), got -2.0.",
        ),
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1, got 0."),
        ({"chunk_size": 2.5}, "chunk_size must be an integer >= 1, got 2.5."),
    ],
)
def test_munge_invalid_parameters_raise(params, message):
    X, _ = load_iris(return_X_y=True)

    with pytest.raises(ValueError, match=re.escape(message)):
        munge(X, **params)


def test_gaussian_negative_scale_raises():
    X, _ = load_iris(return_X_y=True)

    message = "scale must be a number in [0, inf), got -0.1."
    with pytest.raises(ValueError, match=re.escape(message)):
        gaussian(X, scale=-0.1)


def test_count_transfer_rows_invalid_size_factor_raises():
    message = "size_factor must be a number in (0, inf), got 0."
    with pytest.raises(ValueError, match=re.escape(message)):
        count_transfer_rows(100, 0)


@pytest.mark.parametrize("n_samples", [0, 2.0])
def test_count_transfer_rows_invalid_n_samples_raises(n_samples):
    message = f"n_samples must be an integer >= 1, got {n_samples!r}."
    with pytest.raises(ValueError, match=re.escape(message)):
        count_transfer_rows(n_samples, 1.0)


def test_row_uniforms_inside_open_interval():
    key = np.array([0, 0], dtype=np.uint64)

    uniforms = _row_uniforms(key, 0, 1000, 9)

    assert uniforms.shape == (1000, 9)
    assert np.all(uniforms > 0.0)
    assert np.all(uniforms < 1.0)
    # Any row range gives the rows of the whole stream.
    assert np.array_equal(_row_uniforms(key, 10, 20, 9), uniforms[10:20])


@pytest.mark.parametrize(
    "categorical_features, message",
    [
        (
            [4],
            (
                "categorical_features contains column index 4, which is out of range "
                "for X with 4 columns. Valid indices are 0 to 3."
            ),
        ),
        (
            [-1],
            (
                "categorical_features contains column index -1, which is out of range "
                "for X with 4 columns. Valid indices are 0 to 3."
            ),
        ),
        (
            [[0, 1], [1, 2]],
            (
                "Column 1 is in more than one categorical feature of "
                "categorical_features: [0, 1] and [1, 2]. Each column can belong to "
                "one feature only."
            ),
        ),
        (
            [2, [0, 2]],
            (
                "Column 2 is in more than one categorical feature of "
                "categorical_features: 2 and [0, 2]. Each column can belong to one "
                "feature only."
            ),
        ),
        (
            [3, 3],
            (
                "Column 3 is in more than one categorical feature of "
                "categorical_features: 3 and 3. Each column can belong to one "
                "feature only."
            ),
        ),
        (
            [[2]],
            (
                "One-hot group [2] in categorical_features has 1 column, but a group "
                "needs at least 2. Pass a single 0/1 column as an integer index "
                "instead."
            ),
        ),
        (
            [True, False],
            (
                "categorical_features as a boolean mask needs one entry per column of "
                "X (4), got shape (2,)."
            ),
        ),
    ],
)
def test_munge_invalid_categorical_features_raise(categorical_features, message):
    X, _ = load_iris(return_X_y=True)

    with pytest.raises(ValueError, match=re.escape(message)):
        munge(X, categorical_features=categorical_features)


@pytest.mark.parametrize(
    "categorical_features, message",
    [
        (
            "petal",
            (
                "categorical_features must be a boolean mask or a list of column "
                "indices and one-hot groups, got the string 'petal'."
            ),
        ),
        (
            [0, 1.5],
            (
                "categorical_features entries must be column indices (int) or lists "
                "of column indices (one-hot groups), got 1.5."
            ),
        ),
        (
            [[0, "a"]],
            (
                "categorical_features entries must be column indices (int) or lists "
                "of column indices (one-hot groups), got [0, 'a']."
            ),
        ),
    ],
)
def test_munge_categorical_features_wrong_type_raise(categorical_features, message):
    X, _ = load_iris(return_X_y=True)

    with pytest.raises(TypeError, match=re.escape(message)):
        munge(X, categorical_features=categorical_features)


@pytest.mark.parametrize(
    "make_X, message",
    [
        (
            _bad_one_hot,
            (
                "One-hot group [5, 6, 7] in categorical_features is not one-hot in row "
                "17 of X, which has values [1.0, 1.0, 0.0] there. Every row needs "
                "exactly one 1 and zeros elsewhere in the group."
            ),
        ),
        (
            _half_one_hot,
            (
                "One-hot group [5, 6, 7] in categorical_features is not one-hot in row "
                "3 of X, which has values [0.5, 0.5, 0.0] there. Every row needs "
                "exactly one 1 and zeros elsewhere in the group."
            ),
        ),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_transfer_not_one_hot_group_raises(method, make_X, message):
    X = make_X()

    with pytest.raises(ValueError, match=re.escape(message)):
        method(X, categorical_features=[4, [5, 6, 7]])


@pytest.mark.parametrize(
    "value, message",
    [
        (np.nan, "Input X contains NaN."),
        (np.inf, "Input X contains infinity or a value too large for"),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_transfer_non_finite_X_raises(method, value, message):
    X, _ = load_iris(return_X_y=True)
    X[10, 2] = value

    with pytest.raises(ValueError, match=re.escape(message)):
        method(X)


@pytest.mark.parametrize("method", METHODS)
def test_transfer_single_row_raises(method):
    X, _ = load_iris(return_X_y=True)

    message = (
        "Found array with 1 sample(s) (shape=(1, 4)) while a minimum of 2 is required."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        method(X[:1])


def test_iter_transfer_chunks_unknown_method_raises():
    X, _ = load_iris(return_X_y=True)

    message = "method must be 'gaussian' or 'munge', got 'smote'."
    with pytest.raises(ValueError, match=re.escape(message)):
        iter_transfer_chunks(X, "smote")


def test_iter_transfer_chunks_unknown_parameter_raises():
    X, _ = load_iris(return_X_y=True)

    message = (
        "Method 'munge' does not accept the parameters ['scale']. "
        "Valid parameters are: local_variance, swap_probability."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        iter_transfer_chunks(X, "munge", scale=0.1)


def test_iter_transfer_chunks_validates_before_iterating():
    X, _ = load_iris(return_X_y=True)

    # The error comes from the call itself, not from the first next().
    message = "size_factor must be a number in (0, inf), got 0."
    with pytest.raises(ValueError, match=re.escape(message)):
        iter_transfer_chunks(X, "gaussian", size_factor=0)
