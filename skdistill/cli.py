"""The ``skdistill`` command line."""

import argparse
import sys
import time

from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from . import DistilledClassifier, __version__
from ._report import compare_models, format_table

DEMO_DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}


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
        type=int,
        default=300,
        help="number of trees of the random forest teacher (default: 300)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the split, the forest and the students (default: 0)",
    )


def main(argv=None):
    """Run the command line and return its exit status."""
    args = _build_parser().parse_args(argv)
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
