"""The ``skdistill`` command line.

Without a command it runs the demo. ``skdistill distill`` fits a teacher on a CSV file,
distils it, prints the comparison table and saves the model with skops, and with
``--onnx`` as ONNX too. ``skdistill predict`` loads such a file and writes predictions.
Both subcommands need the ``export`` extra (pandas, skops and, for ``--onnx``,
skl2onnx).
"""

import argparse
import math
import os
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils._param_validation import InvalidParameterError

from . import DistilledClassifier, __version__
from ._report import compare_models, format_table

DEMO_DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}

# Teachers of ``skdistill distill --teacher``, with the parameter that
# ``--n-estimators`` sets on each.
TEACHERS = {
    "random-forest": (RandomForestClassifier, "n_estimators"),
    "extra-trees": (ExtraTreesClassifier, "n_estimators"),
    "gradient-boosting": (GradientBoostingClassifier, "n_estimators"),
    "hist-gradient-boosting": (HistGradientBoostingClassifier, "max_iter"),
    "adaboost": (AdaBoostClassifier, "n_estimators"),
    "bagging": (BaggingClassifier, "n_estimators"),
}

# Missing cells of categorical columns become this category, which the ONNX export
# also handles: skl2onnx's string imputer cannot match NaN.
MISSING_CATEGORY = ""

# The pipeline steps that ``distill`` builds, by name, so that ``predict`` can find
# which columns it reads as categories.
PREPROCESS_STEP = "preprocess"
CATEGORICAL_TRANSFORMER = "categorical"


class CommandError(Exception):
    """A problem with the input of a command, reported with exit status 2."""


def run_demo(dataset="digits", *, n_estimators=300, test_size=0.25, random_state=0):
    """Distil a random forest on a bundled data set and return the comparison rows.

    Three models are compared on a held-out split: the forest, the distilled student
    and the same student network trained on the labels alone.
    """
    X, y = DEMO_DATASETS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=random_state
    )
    forest = RandomForestClassifier(
        n_estimators=n_estimators, random_state=random_state
    )
    forest.fit(X_train, y_train)
    distilled = DistilledClassifier(forest, random_state=random_state)
    distilled.fit(X_train, y_train)
    labels_only = DistilledClassifier(forest, alpha=0.0, random_state=random_state)
    labels_only.fit(X_train, y_train)
    models = {
        f"random forest ({n_estimators} trees)": forest,
        "distilled MLP student": distilled.to_student(),
        "same MLP, labels only": labels_only.to_student(),
    }
    reference = next(iter(models))
    return compare_models(models, X_test, y_test, reference=reference)


# --- reading tables -------------------------------------------------------------------


def _import_pandas():
    try:
        import pandas as pd
    except ImportError as exc:
        raise CommandError(
            'reading CSV files needs pandas. Install the export extra: pip install "'
            'skdistill[export]".'
        ) from exc
    return pd


def read_table(path, *, sep=","):
    """Read a CSV file into a DataFrame, raising :class:`CommandError` on failure."""
    pd = _import_pandas()
    try:
        table = pd.read_csv(path, sep=sep)
    except FileNotFoundError as exc:
        raise CommandError(f"the data file {str(path)!r} was not found.") from exc
    except (OSError, ValueError) as exc:
        # pandas reports empty files, unparsable rows and undecodable bytes as
        # ValueError subclasses.
        raise CommandError(
            f"cannot read {str(path)!r} as a CSV file: {exc}. Pass a comma-separated "
            "text file with a header row, or set --sep."
        ) from exc
    if table.shape[0] == 0:
        raise CommandError(f"the data file {str(path)!r} has a header but no rows.")
    return table


def split_columns(features):
    """Return the names of the numeric and the categorical columns of a DataFrame.

    Integer and float columns are numeric; every other column, booleans included, is
    categorical.
    """
    numeric, categorical = [], []
    for name, dtype in features.dtypes.items():
        if dtype.kind in "iuf":
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical


def as_categories(features, columns):
    """Return a copy of ``features`` with ``columns`` as strings, missing cells "".

    A column read as numbers in one file and as text in another then gives the same
    categories, for example "1" in both.
    """
    features = features.copy()
    for name in columns:
        column = features[name]
        features[name] = (
            column.astype(object)
            .where(column.isna(), column.astype(str))
            .fillna(MISSING_CATEGORY)
            .astype(object)
        )
    return features


def build_preprocessor(numeric, categorical):
    """Return the ColumnTransformer that feeds a CSV table's columns to the student.

    Numeric columns get their missing values replaced by the column's median.
    Categorical columns are one-hot encoded, and a category not seen in fit encodes
    as all zeros.
    """
    transformers = []
    if numeric:
        transformers.append(("numeric", SimpleImputer(strategy="median"), numeric))
    if categorical:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers.append((CATEGORICAL_TRANSFORMER, encoder, categorical))
    return ColumnTransformer(transformers, sparse_threshold=0)


def make_teacher(name, n_estimators=None):
    """Return the unfitted teacher registered under ``name`` in :data:`TEACHERS`."""
    teacher_class, size_parameter = TEACHERS[name]
    teacher = teacher_class()
    if n_estimators is not None:
        teacher.set_params(**{size_parameter: n_estimators})
    return teacher


# --- distill --------------------------------------------------------------------------


def _check_target(table, target, path):
    if target not in table.columns:
        columns = ", ".join(repr(str(name)) for name in table.columns[:20])
        more = f" and {len(table.columns) - 20} more" if len(table.columns) > 20 else ""
        raise CommandError(
            f"the target column {target!r} is not in {str(path)!r}. Its columns are "
            f"{columns}{more}."
        )
    n_missing = int(table[target].isna().sum())
    if n_missing:
        raise CommandError(
            f"the target column {target!r} has {n_missing} empty cells. Remove those "
            "rows or fill them in."
        )
    if table.shape[1] < 2:
        raise CommandError(
            f"{str(path)!r} has no columns besides the target {target!r}, so there "
            "is nothing to predict from."
        )


def _check_output_folders(args):
    # Checked before fitting, which can take minutes, instead of when saving.
    for option, path in (("--output", args.output), ("--onnx", args.onnx)):
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise CommandError(
                f"the folder of {option} {str(path)!r} does not exist. Create it or "
                "choose another path."
            )


def _split_rows(features, y, test_size, random_state):
    counts = y.value_counts()
    n_test = int(np.ceil(test_size * len(y)))
    stratify = y if counts.min() >= 2 and n_test >= len(counts) else None
    try:
        return train_test_split(
            features,
            y,
            test_size=test_size,
            stratify=stratify,
            random_state=random_state,
        )
    except ValueError as exc:
        raise CommandError(
            f"cannot hold out test_size={test_size} of {len(y)} rows: {exc}"
        ) from exc


def run_distill(args):
    """Fit, report and save as ``skdistill distill`` does; return the report rows."""
    _check_output_folders(args)
    table = read_table(args.data, sep=args.sep)
    _check_target(table, args.target, args.data)
    y = table[args.target]
    features = table.drop(columns=[args.target])
    numeric, categorical = split_columns(features)
    features = as_categories(features, categorical)
    X_train, X_test, y_train, y_test = _split_rows(
        features, y, args.test_size, args.random_state
    )

    distilled = DistilledClassifier(
        make_teacher(args.teacher, args.n_estimators),
        temperature=args.temperature,
        alpha=args.alpha,
        hidden_layer_sizes=args.hidden_layer_sizes,
        max_iter=args.max_iter,
        random_state=args.random_state,
        n_threads=args.n_threads,
    )
    model = Pipeline(
        [
            (PREPROCESS_STEP, build_preprocessor(numeric, categorical)),
            ("model", distilled),
        ]
    )
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as fit_warnings:
            model.fit(X_train, y_train)
    except (InvalidParameterError, ValueError) as exc:
        raise CommandError(f"fitting failed: {exc}") from exc
    elapsed = time.perf_counter() - start
    _print_warnings(fit_warnings, "distill")

    preprocessor = model[PREPROCESS_STEP]
    student = Pipeline(
        [(PREPROCESS_STEP, preprocessor), ("model", distilled.to_student())]
    )
    X_test_encoded = preprocessor.transform(X_test)
    teacher_name = f"{args.teacher} teacher"
    rows = compare_models(
        {teacher_name: distilled.teacher_, "distilled MLP student": student[-1]},
        X_test_encoded,
        np.asarray(y_test),
        reference=teacher_name,
    )

    print(
        f"skdistill distill on {args.data}: {len(X_train)} training rows, "
        f"{len(X_test)} test rows, {len(numeric)} numeric and {len(categorical)} "
        f"categorical columns ({X_test_encoded.shape[1]} features after encoding)"
    )
    print(format_table(rows))
    print(f"fitted in {elapsed:.1f} s")
    if args.keep_teacher:
        _save_skops(model, args.output, "model with its teacher")
    else:
        _save_skops(student, args.output, "student pipeline")
    if args.onnx is not None:
        _save_onnx(student, args.onnx, X_train, numeric)
    return rows


def _print_warnings(records, command):
    """Print each distinct warning message once, as one line on standard error."""
    seen = set()
    for record in records:
        # A multi-line message, such as one with a remedy on its own line, is joined
        # into one line so that each warning stays a single line of the output.
        message = " ".join(str(record.message).split())
        if message in seen:
            continue
        seen.add(message)
        category = record.category.__name__
        print(f"skdistill {command}: warning: {category}: {message}", file=sys.stderr)


def _save_skops(model, path, description):
    sio = _import_export_module("skops.io")
    try:
        sio.dump(model, path)
    except OSError as exc:
        raise CommandError(f"cannot write the model to {str(path)!r}: {exc}") from exc
    print(f"saved the {description} to {path} ({Path(path).stat().st_size:,} B)")


def _save_onnx(model, path, X_train, numeric):
    _import_export_module("skl2onnx")
    from .export import to_onnx

    # One ONNX input per CSV column, named after it: float32 for numeric columns and
    # string for categorical ones.
    sample = X_train.iloc[:1].astype({name: np.float32 for name in numeric})
    onnx_model = to_onnx(model, sample, options={"zipmap": False})
    try:
        Path(path).write_bytes(onnx_model.SerializeToString())
    except OSError as exc:
        raise CommandError(
            f"cannot write the ONNX model to {str(path)!r}: {exc}"
        ) from exc
    print(f"saved the ONNX student to {path} ({Path(path).stat().st_size:,} B)")


def _import_export_module(name):
    try:
        return __import__(name, fromlist=["_"])
    except ImportError as exc:
        raise CommandError(
            f"{name} is not installed. Install the export extra: pip install "
            '"skdistill[export]".'
        ) from exc


# --- predict --------------------------------------------------------------------------


def _load_model(path, trusted):
    from .export import load

    _import_export_module("skops.io")
    from skops.io.exceptions import UntrustedTypesFoundException

    if not Path(path).is_file():
        raise CommandError(f"the model file {str(path)!r} was not found.")
    try:
        return load(path, trusted=trusted)
    except UntrustedTypesFoundException as exc:
        untrusted = _untrusted_types(path, trusted)
        raise CommandError(
            f"{str(path)!r} contains types that need trust before loading: "
            f"{untrusted}. skops builds them without running code, but a crafted "
            "object of such a type can crash prediction. If you made the file or "
            "trust its source, pass --trust TYPE for each, for example --trust "
            f"{untrusted[0]}."
        ) from exc
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError) as exc:
        # A file that is not a skops archive fails in zipfile; a damaged one fails
        # while its JSON schema or arrays are read, with KeyError or ValueError.
        raise CommandError(
            f"cannot load {str(path)!r} as a skops model file: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _untrusted_types(path, trusted):
    """Return the sorted types of the file at ``path`` that loading does not trust."""
    from skops.io import get_untrusted_types

    from .export import trusted_types

    known = {*trusted_types(), *trusted}
    return sorted(set(get_untrusted_types(file=path)) - known)


def _categorical_columns(model):
    """Return the columns that a pipeline made by ``distill`` reads as categories."""
    preprocessor = getattr(model, "named_steps", {}).get(PREPROCESS_STEP)
    for name, _, columns in getattr(preprocessor, "transformers_", []):
        if name == CATEGORICAL_TRANSFORMER:
            return list(columns)
    return []


def _prediction_input(model, table, path):
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        n_features = getattr(model, "n_features_in_", table.shape[1])
        if table.shape[1] != n_features:
            raise CommandError(
                f"the model reads {n_features} columns, but {str(path)!r} has "
                f"{table.shape[1]}."
            )
        return table.to_numpy()
    missing = [str(name) for name in names if name not in table.columns]
    if missing:
        raise CommandError(
            f"{str(path)!r} lacks the columns {missing} that the model was fitted on."
        )
    return as_categories(table[list(names)], _categorical_columns(model))


def run_predict(args):
    """Load a model and write its predictions as ``skdistill predict`` does."""
    pd = _import_pandas()
    model = _load_model(args.model, args.trust)
    table = read_table(args.data, sep=args.sep)
    X = _prediction_input(model, table, args.data)
    try:
        predictions = {"prediction": model.predict(X)}
        if args.proba:
            proba = model.predict_proba(X)
            for j, label in enumerate(model.classes_):
                predictions[f"proba_{label}"] = proba[:, j]
    except ValueError as exc:
        raise CommandError(f"prediction failed: {exc}") from exc
    output = pd.DataFrame(predictions)
    if args.output is None:
        try:
            output.to_csv(sys.stdout, index=False)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader closed the pipe early (as ``| head`` does). Point standard
            # output at the null device so that the flush at exit cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    try:
        output.to_csv(args.output, index=False)
    except OSError as exc:
        raise CommandError(
            f"cannot write the predictions to {str(args.output)!r}: {exc}"
        ) from exc


# --- parser ---------------------------------------------------------------------------


def _hidden_layer_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of positive integers, such as "
            "'256,256'."
        )
    return sizes


def _test_size(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction in (0, 1).")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer.")
    return value


# The seeds that numpy's RandomState, and so scikit-learn's random_state, accepts.
_MAX_SEED = 2**32 - 1


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= _MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an integer seed in [0, {_MAX_SEED}]."
        )
    return value


def _temperature(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # The comparison is False for NaN, so NaN is rejected too.
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number above 0.")
    return value


def _alpha(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number in [0, 1].")
    return value


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skdistill",
        description=(
            "Distil scikit-learn ensembles into small PyTorch MLP students. Without a "
            "command, runs the demo."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="distil a random forest on a bundled data set and print a comparison",
        description=(
            "Fit a random forest on a bundled scikit-learn data set, distil it into an "
            "MLP, train the same MLP on labels alone, and print test accuracy, "
            "fidelity to the forest, pickled size and prediction latency of all three."
        ),
    )
    _add_demo_arguments(demo)
    _add_demo_arguments(parser)
    _add_distill_parser(commands)
    _add_predict_parser(commands)
    return parser


def _add_demo_arguments(parser):
    parser.add_argument(
        "--dataset",
        choices=sorted(DEMO_DATASETS),
        default="digits",
        help="bundled scikit-learn data set to use (default: digits)",
    )
    parser.add_argument(
        "--n-estimators",
        type=_positive_int,
        default=300,
        help="number of trees of the random forest teacher (default: 300)",
    )
    parser.add_argument(
        "--random-state",
        type=_seed,
        default=0,
        help="seed of the split, the forest and the students (default: 0)",
    )


def _add_distill_parser(commands):
    distill = commands.add_parser(
        "distill",
        help="fit a teacher on a CSV file, distil it and save the student",
        description=(
            "Read a CSV file with a header row, hold out a test split, fit a teacher "
            "ensemble on the rest, distil it into an MLP student, print accuracy, "
            "fidelity, size and latency of both on the test rows, and save the "
            "model fitted on the training rows. Numeric columns have missing values "
            "replaced by their median; other columns are one-hot encoded."
        ),
    )

    distill.add_argument("data", help="CSV file with a header row")
    distill.add_argument(
        "--target",
        required=True,
        metavar="COLUMN",
        help="name of the column of class labels",
    )
    distill.add_argument(
        "--teacher",
        choices=list(TEACHERS),
        default="random-forest",
        help="teacher ensemble to fit and distil (default: random-forest)",
    )
    distill.add_argument(
        "--n-estimators",
        type=_positive_int,
        default=None,
        metavar="N",
        help=(
            "trees of the teacher, or boosting rounds for hist-gradient-boosting "
            "(default: scikit-learn's default for the teacher)"
        ),
    )

    distill.add_argument(
        "--output",
        default="model.skops",
        metavar="PATH",
        help=(
            "skops file to write: a Pipeline of the preprocessing and the student "
            "(default: model.skops)"
        ),
    )
    distill.add_argument(
        "--onnx",
        default=None,
        metavar="PATH",
        help=(
            "also write the preprocessing and student as one ONNX graph to PATH, "
            "with one input per CSV column"
        ),
    )
    distill.add_argument(
        "--keep-teacher",
        action="store_true",
        help=(
            "save the whole DistilledClassifier, teacher included, instead of the "
            "student; loading it then needs --trust for the teacher's tree types"
        ),
    )

    distill.add_argument(
        "--test-size",
        type=_test_size,
        default=0.2,
        metavar="FRACTION",
        help="fraction of rows held out for the report (default: 0.2)",
    )
    distill.add_argument(
        "--temperature",
        type=_temperature,
        default=2.0,
        metavar="T",
        help="softening temperature of the teacher's targets (default: 2.0)",
    )
    distill.add_argument(
        "--alpha",
        type=_alpha,
        default=0.5,
        help="weight in [0, 1] of the teacher's soft targets (default: 0.5)",
    )
    distill.add_argument(
        "--hidden-layer-sizes",
        type=_hidden_layer_sizes,
        default=(256, 256),
        metavar="SIZES",
        help="comma-separated widths of the student's hidden layers (default: 256,256)",
    )
    distill.add_argument(
        "--max-iter",
        type=_positive_int,
        default=200,
        metavar="N",
        help="maximum number of training epochs of the student (default: 200)",
    )
    distill.add_argument(
        "--n-threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="CPU threads torch uses to train the student (default: torch's setting)",
    )
    distill.add_argument(
        "--random-state",
        type=_seed,
        default=0,
        metavar="SEED",
        help="seed of the split, the teacher and the student (default: 0)",
    )
    distill.add_argument(
        "--sep",
        default=",",
        metavar="CHAR",
        help="field separator of the CSV file (default: ,)",
    )


def _add_predict_parser(commands):
    predict = commands.add_parser(
        "predict",
        help="predict the rows of a CSV file with a saved model",
        description=(
            "Load a skops model file written by 'skdistill distill' and write one "
            "prediction per row of a CSV file, as CSV. Loading trusts only "
            "skdistill's estimator types and skops' defaults."
        ),
    )
    predict.add_argument("model", help="skops file written by 'skdistill distill'")
    predict.add_argument(
        "data", help="CSV file with a header row and the model's feature columns"
    )
    predict.add_argument(
        "--output",
        default=None,
        metavar="PATH",
        help="CSV file to write the predictions to (default: standard output)",
    )
    predict.add_argument(
        "--proba",
        action="store_true",
        help="also write one probability column per class, named proba_<class>",
    )
    predict.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="TYPE",
        help=(
            "also trust this type when loading, as skops names it (repeatable); "
            "for example sklearn.tree._tree.Tree for a model saved with "
            "--keep-teacher"
        ),
    )
    predict.add_argument(
        "--sep",
        default=",",
        metavar="CHAR",
        help="field separator of the CSV file (default: ,)",
    )


def main(argv=None):
    """Run the command line and return its exit status.

    Errors in the input of a command exit through :class:`SystemExit` with status 2,
    as argparse's own errors do.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command in ("distill", "predict"):
        runner = run_distill if args.command == "distill" else run_predict
        try:
            runner(args)
        except CommandError as exc:
            parser.exit(2, f"skdistill {args.command}: error: {exc}\n")
        return 0

    start = time.perf_counter()
    rows = run_demo(
        args.dataset, n_estimators=args.n_estimators, random_state=args.random_state
    )
    elapsed = time.perf_counter() - start
    print(f"skdistill demo on the {args.dataset} data set (25% held out for testing)")
    print(format_table(rows))
    print(f"finished in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
