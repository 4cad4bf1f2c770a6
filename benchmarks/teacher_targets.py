"""Compare the ways of making soft targets for the training rows, per kind of teacher.

For every data set, seed and teacher, the teacher is fitted once on a stratified 70 %
training split. Students with the default settings of ``DistilledClassifier`` are then
trained on the same rows with each applicable ``teacher_targets`` method, and the same
network is trained on the labels alone (``alpha=0``). The test accuracy of each is
appended to a CSV file, one line per fit, so an interrupted run keeps what it measured.

Run from the repository root::

    OMP_NUM_THREADS=1 python -m benchmarks.teacher_targets methods --out methods.csv
    python -m benchmarks.teacher_targets summary methods.csv

The ``grid`` command trains students over a grid of ``temperature`` and ``alpha``
with the random forest (out-of-bag targets) or other teachers (out-of-fold targets).
"""

import argparse
import csv
import itertools
import sys
import time
import warnings
from pathlib import Path

from sklearn.ensemble import (
    AdaBoostClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from benchmarks.datasets import load_dataset
from skdistill import DistilledClassifier
from skdistill.ensemble import supports_oob

DEFAULT_DATASETS = (
    "digits",
    "breast_cancer",
    "satimage",
    "spambase",
    "phoneme",
    "optdigits",
)
FIELDS = (
    "dataset",
    "seed",
    "teacher",
    "method",
    "temperature",
    "alpha",
    "accuracy",
    "teacher_accuracy",
    "train_rows",
    "seconds",
)


def _members(seed):
    return [
        ("forest", RandomForestClassifier(n_estimators=100, random_state=seed)),
        (
            "logistic",
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        ),
        ("hgb", HistGradientBoostingClassifier(max_iter=100, random_state=seed)),
    ]


def make_teachers(seed):
    """Return the benchmark's teachers, unfitted, by name."""
    return {
        "random forest": RandomForestClassifier(n_estimators=200, random_state=seed),
        "extra trees": ExtraTreesClassifier(n_estimators=200, random_state=seed),
        "gradient boosting": GradientBoostingClassifier(random_state=seed),
        "hist gradient boosting": HistGradientBoostingClassifier(random_state=seed),
        "adaboost": AdaBoostClassifier(
            DecisionTreeClassifier(max_depth=3), n_estimators=100, random_state=seed
        ),
        "soft voting": VotingClassifier(_members(seed), voting="soft"),
        "hard voting": VotingClassifier(_members(seed), voting="hard"),
        "stacking": StackingClassifier(
            _members(seed), final_estimator=LogisticRegression(max_iter=2000)
        ),
    }


def load_split(name, n_rows, seed):
    """Load a data set, capped at ``n_rows`` rows, and split it 70/30 stratified."""
    X, y, info = load_dataset(name)
    if n_rows is not None and len(y) > n_rows:
        X, y, info = load_dataset(name, n_rows=n_rows, random_state=0)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


def _student_accuracy(teacher, split, seed, **params):
    X_train, X_test, y_train, y_test = split
    start = time.perf_counter()
    model = DistilledClassifier(teacher, random_state=seed, n_threads=1, **params)
    model.fit(X_train, y_train)
    return model.score(X_test, y_test), time.perf_counter() - start


def _writer(path):
    exists = Path(path).exists()
    handle = open(path, "a", newline="")
    writer = csv.DictWriter(handle, fieldnames=FIELDS)
    if not exists:
        writer.writeheader()
    return handle, writer


def run_methods(datasets, seeds, n_rows, out, teachers=None):
    """Train one student per data set, seed, teacher and target method."""
    handle, writer = _writer(out)
    defaults = DistilledClassifier().get_params()
    for name, seed in itertools.product(datasets, seeds):
        split = load_split(name, n_rows, seed)
        X_train, X_test, y_train, y_test = split
        for teacher_name, teacher in make_teachers(seed).items():
            if teachers and teacher_name not in teachers:
                continue
            teacher.fit(X_train, y_train)
            teacher_accuracy = teacher.score(X_test, y_test)
            methods = ["in-sample", "oof"] + (["oob"] if supports_oob(teacher) else [])
            runs = [(method, {"teacher_targets": method}) for method in methods]
            if teacher_name == "random forest":
                runs.append(("labels only", {"alpha": 0.0}))
            for method, params in runs:
                accuracy, seconds = _student_accuracy(teacher, split, seed, **params)
                row = {
                    "dataset": name,
                    "seed": seed,
                    "teacher": teacher_name,
                    "method": method,
                    "temperature": defaults["temperature"],
                    "alpha": params.get("alpha", defaults["alpha"]),
                    "accuracy": f"{accuracy:.4f}",
                    "teacher_accuracy": f"{teacher_accuracy:.4f}",
                    "train_rows": len(y_train),
                    "seconds": f"{seconds:.1f}",
                }
                writer.writerow(row)
                handle.flush()
                print(row, flush=True)
    handle.close()


def run_grid(datasets, seeds, n_rows, out, temperatures, alphas, teachers=None):
    """Train students over a temperature and alpha grid.

    The targets are out-of-bag for teachers with bootstrap sampling and out-of-fold
    otherwise, which is what ``"auto"`` picks for a teacher the estimator fits.
    """
    handle, writer = _writer(out)
    for name, seed in itertools.product(datasets, seeds):
        split = load_split(name, n_rows, seed)
        X_train, X_test, y_train, y_test = split
        candidates = make_teachers(seed)
        for teacher_name in teachers or ("random forest", "hist gradient boosting"):
            teacher = candidates[teacher_name].fit(X_train, y_train)
            teacher_accuracy = teacher.score(X_test, y_test)
            for temperature, alpha in itertools.product(temperatures, alphas):
                accuracy, seconds = _student_accuracy(
                    teacher,
                    split,
                    seed,
                    temperature=temperature,
                    alpha=alpha,
                    teacher_targets="oob" if supports_oob(teacher) else "oof",
                )
                row = {
                    "dataset": name,
                    "seed": seed,
                    "teacher": teacher_name,
                    "method": "auto",
                    "temperature": temperature,
                    "alpha": alpha,
                    "accuracy": f"{accuracy:.4f}",
                    "teacher_accuracy": f"{teacher_accuracy:.4f}",
                    "train_rows": len(y_train),
                    "seconds": f"{seconds:.1f}",
                }
                writer.writerow(row)
                handle.flush()
                print(row, flush=True)
    handle.close()


def _cell(values):
    if len(values) == 1:
        return f"{values.mean():.4f}"
    return f"{values.mean():.4f} ± {values.std(ddof=1):.4f}"


def summarise(paths, grid=False):
    """Print the mean and sample standard deviation of the accuracy over seeds.

    The table is Markdown: one row per teacher and method (or, with ``grid``, per
    teacher, temperature and alpha), one column per data set with the number of
    seeds in its header, and a last column with the mean over the data sets.
    """
    import pandas as pd

    frame = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    keys = ["teacher", "temperature", "alpha"] if grid else ["teacher", "method"]
    datasets = list(dict.fromkeys(frame["dataset"]))
    seeds = frame.groupby("dataset")["seed"].nunique()
    header = keys + [f"{name} ({seeds[name]} seeds)" for name in datasets]
    lines = [
        "| " + " | ".join(header + ["mean"]) + " |",
        "|" + "---|" * (len(header) + 1),
    ]
    for key, group in frame.groupby(keys, sort=False):
        cells = [str(value) for value in key]
        means = []
        for name in datasets:
            values = group.loc[group["dataset"] == name, "accuracy"]
            cells.append(_cell(values) if len(values) else "")
            if len(values):
                means.append(values.mean())
        cells.append(f"{sum(means) / len(means):.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("methods", "grid"):
        sub = commands.add_parser(command)
        sub.add_argument("--datasets", nargs="+", default=list(DEFAULT_DATASETS))
        sub.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
        sub.add_argument(
            "--n-rows",
            type=int,
            default=2000,
            help="rows drawn from larger data sets before the split (default: 2000)",
        )
        sub.add_argument("--out", required=True, help="CSV file to append to")
        sub.add_argument("--teachers", nargs="+", default=None)
        if command == "grid":
            sub.add_argument("--temperatures", nargs="+", type=float, default=[1, 2, 4])
            sub.add_argument("--alphas", nargs="+", type=float, default=[0.5, 0.7, 0.9])
    summary = commands.add_parser("summary")
    summary.add_argument(
        "paths", nargs="+", help="CSV files written by methods or grid"
    )
    summary.add_argument(
        "--grid",
        action="store_true",
        help="tabulate a grid run by temperature and alpha",
    )
    return parser


def main(argv=None):
    """Run the command line and return its exit status."""
    args = _parser().parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.command == "methods":
        run_methods(args.datasets, args.seeds, args.n_rows, args.out, args.teachers)
    elif args.command == "grid":
        run_grid(
            args.datasets,
            args.seeds,
            args.n_rows,
            args.out,
            args.temperatures,
            args.alphas,
            args.teachers,
        )
    else:
        summarise(args.paths, grid=args.grid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
