import numpy as np
import pytest

from skdistill import _base
from skdistill._base import _standardisation, _standardised_rows


@pytest.fixture
def offset_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 4)) * [1.0, 1e-3, 1e3, 1.0] + [0.0, 5.0, -1e6, 2.0]
    X[:, 3] = 2.0  # a constant column
    return X


@pytest.mark.parametrize("block_rows", [7, 1000, 16_384])
def test_standardisation_matches_numpy_in_blocks(offset_data, monkeypatch, block_rows):
    monkeypatch.setattr(_base, "_STANDARDISE_BLOCK_ROWS", block_rows)

    mean, scale = _standardisation(offset_data)

    np.testing.assert_array_equal(mean, offset_data.mean(axis=0))
    np.testing.assert_allclose(scale[:3], offset_data[:, :3].std(axis=0), rtol=1e-12)
    assert scale[3] == 1.0


@pytest.mark.parametrize("block_rows", [7, 16_384])
def test_standardised_rows_match_direct_formula(offset_data, monkeypatch, block_rows):
    monkeypatch.setattr(_base, "_STANDARDISE_BLOCK_ROWS", block_rows)
    mean, scale = _standardisation(offset_data)
    rows = np.random.default_rng(1).permutation(len(offset_data))[:333]

    result = _standardised_rows(offset_data, mean, scale, rows)

    assert result.dtype == np.float32
    expected = ((offset_data[rows] - mean) / scale).astype(np.float32)
    np.testing.assert_array_equal(result, expected)


def test_standardised_rows_empty_selection(offset_data):
    mean, scale = _standardisation(offset_data)

    result = _standardised_rows(offset_data, mean, scale, np.array([], dtype=int))

    assert result.shape == (0, offset_data.shape[1])


def test_standardised_rows_sparse_matches_dense(offset_data, monkeypatch):
    sparse = pytest.importorskip("scipy.sparse")
    monkeypatch.setattr(_base, "_STANDARDISE_BLOCK_ROWS", 64)
    mean, scale = _standardisation(offset_data)
    rows = np.arange(0, len(offset_data), 3)

    result = _standardised_rows(sparse.csr_matrix(offset_data), mean, scale, rows)

    expected = _standardised_rows(offset_data, mean, scale, rows)
    np.testing.assert_array_equal(result, expected)
