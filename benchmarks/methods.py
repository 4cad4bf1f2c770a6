"""Benchmark of transfer data, unlabelled rows and feature distillation.

Each method is compared with plain logit distillation (``DistilledClassifier`` or
``DistilledRegressor`` with its defaults) on real data sets, over several seeds.
The teacher is fitted once per data set and seed and passed to every student
prefit, so the rows of one table differ only in the student's training.

Scores are measured on a held-out quarter of the rows: accuracy or R2 against the
true targets, and fidelity against the teacher. Fidelity is the share of test rows
on which the student predicts the teacher's class, or for regression the R2 of the
student's predictions against the teacher's predictions.

Run ``python -m benchmarks.methods`` (add ``--quick`` for a smoke run) to print
the markdown tables; ``run`` and ``render`` are the functions a benchmark runner
calls.
"""

import argparse
import datetime
import json
import os
import platform
import time

import numpy as np
import sklearn
import torch
from joblib import Parallel, delayed
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, DistilledRegressor

from .datasets import load_dataset

CLASSIFICATION = ("breast_cancer", "digits", "phoneme", "spambase")
REGRESSION = ("diabetes", "diamonds", "cps1988", "computers")
NEURAL_TEACHER_DATASETS = ("breast_cancer", "digits", "phoneme")

BASELINE = "logit distillation"

# The relational loss compares every triplet of the first rows of a batch; 32 rows
# instead of the loss's default 128 make it 64 times cheaper on the CPU.
RELATIONAL_PARAMS = {"max_angle_rows": 32}

# Methods compared with every ensemble teacher: name and estimator parameters.
ENSEMBLE_METHODS = (
    (BASELINE, {}),
    ("alpha=1 (teacher only)", {"alpha": 1.0}),
    ("MUNGE x2", {"augment": "munge", "augment_factor": 2.0}),
    ("gaussian x2", {"augment": "gaussian", "augment_factor": 2.0}),
    ("hint, weight 0.1", {"feature_loss": "hint", "feature_weight": 0.1}),
    ("hint, weight 1", {"feature_loss": "hint", "feature_weight": 1.0}),
    (
        "relational, weight 1",
        {
            "feature_loss": "relational",
            "feature_weight": 1.0,
            "feature_loss_params": RELATIONAL_PARAMS,
        },
    ),
    (
        "contrastive, weight 0.1",
        {"feature_loss": "contrastive", "feature_weight": 0.1},
    ),
    ("contrastive, weight 1", {"feature_loss": "contrastive", "feature_weight": 1.0}),
)

# The losses that read hidden activations, compared with a neural teacher.
NEURAL_METHODS = (
    (BASELINE, {}),
    ("hint, weight 1", {"feature_loss": "hint", "feature_weight": 1.0}),
    ("attention, weight 1", {"feature_loss": "attention", "feature_weight": 1.0}),
    (
        "relational, weight 1",
        {
            "feature_loss": "relational",
            "feature_weight": 1.0,
            "feature_loss_params": RELATIONAL_PARAMS,
        },
    ),
    ("contrastive, weight 1", {"feature_loss": "contrastive", "feature_weight": 1.0}),
    ("nst, weight 1", {"feature_loss": "nst", "feature_weight": 1.0}),
)

# Share of the training rows that keep their labels in the unlabelled-rows table.
LABELLED_FRACTION = 0.2

# A column whose values are at most this many distinct integers is treated as
# categorical (an ordinal code of the loaders) when MUNGE makes transfer rows.
MAX_CATEGORIES = 12


def _settings(quick):
    if quick:
        return {"seeds": (0,), "max_rows": 300, "n_estimators": 20}
    return {"seeds": (0, 1, 2), "max_rows": 1000, "n_estimators": 100}


def _load(name, max_rows):
    X, y, info = load_dataset(name)
    if len(y) > max_rows:
        rows = np.sort(np.random.default_rng(0).choice(len(y), max_rows, replace=False))
        X, y = X[rows], y[rows]
    return X, y, info.task


def _categorical_columns(X):
    columns = []
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        if len(values) <= MAX_CATEGORIES and np.all(values == np.round(values)):
            columns.append(j)
    return columns or None


def _split(X, y, task, seed):
    stratify = y if task == "classification" else None
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=stratify)


def _ensemble_teacher(task, n_estimators, seed):
    if task == "classification":
        return RandomForestClassifier(n_estimators=n_estimators, random_state=seed)
    return RandomForestRegressor(n_estimators=n_estimators, random_state=seed)


def _student(task, teacher, seed, params):
    estimator = DistilledClassifier if task == "classification" else DistilledRegressor
    return estimator(teacher, random_state=seed, n_threads=1, **params)


def _scores(task, model, teacher, X_test, y_test):
    predicted = model.predict(X_test)
    teacher_predicted = teacher.predict(X_test)
    if task == "classification":
        return (
            accuracy_score(y_test, predicted),
            accuracy_score(teacher_predicted, predicted),
        )
    return r2_score(y_test, predicted), r2_score(teacher_predicted, predicted)


def _fit_methods(methods, task, teacher, split, seed, extra_params=None):
    """Return ``{method: (score, fidelity, seconds)}`` for one split."""
    X_train, X_test, y_train, y_test = split
    outcomes = {}
    for method, params in methods:
        params = {**params, **(extra_params or {})}
        if "augment" not in params:
            params.pop("categorical_features", None)
        start = time.perf_counter()
        model = _student(task, teacher, seed, params).fit(X_train, y_train)
        seconds = time.perf_counter() - start
        outcomes[method] = (*_scores(task, model, teacher, X_test, y_test), seconds)
    return outcomes


def _ensemble_job(name, seed, settings):
    X, y, task = _load(name, settings["max_rows"])
    split = _split(X, y, task, seed)
    X_train, X_test, y_train, y_test = split
    teacher = _ensemble_teacher(task, settings["n_estimators"], seed)
    teacher.fit(X_train, y_train)
    extra = {"categorical_features": _categorical_columns(X)}
    outcomes = _fit_methods(ENSEMBLE_METHODS, task, teacher, split, seed, extra)
    return task, len(y), teacher.score(X_test, y_test), outcomes


def _neural_job(name, seed, settings):
    X, y, task = _load(name, settings["max_rows"])
    split = _split(X, y, task, seed)
    X_train, X_test, y_train, y_test = split
    teacher = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(256, 128),
            early_stopping=True,
            max_iter=300,
            random_state=seed,
        ),
    ).fit(X_train, y_train)
    outcomes = _fit_methods(NEURAL_METHODS, task, teacher, split, seed)
    return task, len(y), teacher.score(X_test, y_test), outcomes


def _unlabeled_job(name, seed, settings):
    """Train on a fifth of the training rows, with and without the rest unlabelled."""
    X, y, task = _load(name, settings["max_rows"])
    X_train, X_test, y_train, y_test = _split(X, y, task, seed)
    stratify = y_train if task == "classification" else None
    X_labelled, X_unlabeled, y_labelled, _ = train_test_split(
        X_train,
        y_train,
        train_size=LABELLED_FRACTION,
        random_state=seed,
        stratify=stratify,
    )
    teacher = _ensemble_teacher(task, settings["n_estimators"], seed)
    teacher.fit(X_labelled, y_labelled)
    outcomes = {}
    for method, X_extra in (
        ("labelled rows only", None),
        ("+ unlabelled rows", X_unlabeled),
    ):
        start = time.perf_counter()
        model = _student(task, teacher, seed, {})
        model.fit(X_labelled, y_labelled, X_unlabeled=X_extra)
        seconds = time.perf_counter() - start
        outcomes[method] = (*_scores(task, model, teacher, X_test, y_test), seconds)
    return task, len(y), teacher.score(X_test, y_test), outcomes


_JOBS = {
    "ensemble": _ensemble_job,
    "neural": _neural_job,
    "unlabeled": _unlabeled_job,
}


def _run_job(section, name, seed, settings):
    # Each job trains with one torch thread; parallelism comes from n_jobs.
    torch.set_num_threads(1)
    return section, name, seed, _JOBS[section](name, seed, settings)


def _collect(outputs):
    """Group job outputs into section -> data set -> method -> lists over seeds."""
    results = {section: {} for section in _JOBS}
    for section, name, _, (task, n_rows, teacher_score, outcomes) in outputs:
        entry = results[section].setdefault(
            name, {"task": task, "n_rows": n_rows, "teacher": [], "methods": {}}
        )
        entry["teacher"].append(float(teacher_score))
        for method, (score, fidelity, seconds) in outcomes.items():
            values = entry["methods"].setdefault(
                method, {"score": [], "fidelity": [], "seconds": []}
            )
            values["score"].append(float(score))
            values["fidelity"].append(float(fidelity))
            values["seconds"].append(float(seconds))
    return results


def run(quick=False, n_jobs=1):
    """Fit every method on every data set and seed, and return the raw scores.

    Parameters
    ----------
    quick : bool, default=False
        One seed, at most 300 rows per data set and 20 trees per forest, for a
        smoke run. Otherwise three seeds, at most 1,000 rows and 100 trees, which
        takes about an hour with two jobs on two shared CPU cores.
    n_jobs : int, default=1
        Number of (data set, seed) jobs run in parallel processes by joblib. Each
        job trains with one torch thread.

    Returns
    -------
    results : dict
        ``"meta"`` (date, settings, versions, CPU count, minutes) and the sections
        ``"ensemble"``, ``"neural"`` and ``"unlabeled"``, each mapping a data set
        name to its task, row count, teacher score per seed, and per method the
        lists ``"score"``, ``"fidelity"`` and ``"seconds"`` over seeds.
    """
    settings = _settings(quick)
    datasets = CLASSIFICATION + REGRESSION
    jobs = [
        (section, name, seed)
        for section, names in (
            ("ensemble", datasets),
            ("neural", NEURAL_TEACHER_DATASETS),
            ("unlabeled", datasets),
        )
        for name in names
        for seed in settings["seeds"]
    ]
    started = time.perf_counter()
    outputs = Parallel(n_jobs=n_jobs, verbose=10)(
        delayed(_run_job)(section, name, seed, settings) for section, name, seed in jobs
    )
    results = _collect(outputs)
    results["meta"] = {
        "date": datetime.date.today().isoformat(),
        "quick": bool(quick),
        "seeds": list(settings["seeds"]),
        "max_rows": settings["max_rows"],
        "n_estimators": settings["n_estimators"],
        "n_jobs": n_jobs,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "torch": torch.__version__,
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    return results


def _cell(entry):
    score = np.asarray(entry["score"])
    fidelity = np.mean(entry["fidelity"])
    spread = f" ± {score.std():.3f}" if len(score) > 1 else ""
    return f"{score.mean():.3f}{spread} / {fidelity:.3f}"


def _table(section, names, baseline, methods=None):
    """Render one markdown table: methods by data sets, and the mean change."""
    available = list(section[names[0]]["methods"])
    if methods is not None:
        available = [method for method in available if method in methods]
    methods = available
    header = ["method", *names, "mean change"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * len(header)) + "|",
    ]
    teacher_cells = [f"{np.mean(section[name]['teacher']):.3f}" for name in names]
    lines.append("| teacher | " + " | ".join(teacher_cells) + " | |")
    for method in methods:
        cells = [_cell(section[name]["methods"][method]) for name in names]
        changes = [
            (
                np.mean(section[name]["methods"][method]["score"])
                - np.mean(section[name]["methods"][baseline]["score"]),
                np.mean(section[name]["methods"][method]["fidelity"])
                - np.mean(section[name]["methods"][baseline]["fidelity"]),
            )
            for name in names
        ]
        score_change, fidelity_change = np.mean(changes, axis=0)
        change = f"{score_change:+.3f} / {fidelity_change:+.3f}"
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {change} |")
    return "\n".join(lines)


def render(results, *, sections=None, methods=None):
    """Render the results of :func:`run` as markdown tables.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`.
    sections : list of str, default=None
        The sections to render, among ``"ensemble"``, ``"neural"`` and
        ``"unlabeled"``. None renders all three.
    methods : list of str, default=None
        The methods (table rows) to render. None renders all.

    Returns
    -------
    markdown : str
        One table per section and task. A cell is the mean score ± its standard
        deviation over seeds, then the mean fidelity. The last column is the mean
        change of both against the first method of the table, over data sets.
    """
    meta = results["meta"]
    parts = [
        f"Measured on {meta['date']} with {len(meta['seeds'])} seed(s), at most "
        f"{meta['max_rows']:,} rows per data set (a quarter held out for testing) and "
        f"{meta['n_estimators']}-tree forests; {meta['n_jobs']} job(s) at once on "
        f"{meta['cpu_count']} CPU cores, "
        f"scikit-learn {meta['sklearn']}, torch {meta['torch']}; "
        f"{meta.get('minutes', '?')} minutes in all. Cells: score ± standard "
        "deviation over seeds / fidelity to the teacher. Score is accuracy for "
        "classification and R2 for regression; fidelity is agreement with the "
        "teacher's labels, or the R2 of the student against the teacher's "
        "predictions.",
    ]
    titles = (
        ("ensemble", "Random forest teacher", BASELINE),
        ("neural", "MLP teacher (256, 128 hidden units)", BASELINE),
        (
            "unlabeled",
            f"{LABELLED_FRACTION:.0%} of the training rows labelled, the rest passed "
            "as X_unlabeled",
            "labelled rows only",
        ),
    )
    for key, title, baseline in titles:
        if sections is not None and key not in sections:
            continue
        section = results[key]
        for task in ("classification", "regression"):
            names = [name for name in section if section[name]["task"] == task]
            if not names:
                continue
            parts.append(f"### {title}: {task}")
            parts.append(_table(section, names, baseline, methods))
    return "\n\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.methods",
        description="Compare distillation methods on real data sets.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one seed and small data sets"
    )
    parser.add_argument("--output", help="also write the raw results to this JSON file")
    parser.add_argument(
        "--n-jobs", type=int, default=1, help="data set and seed jobs run at once"
    )
    args = parser.parse_args(argv)
    results = run(args.quick, n_jobs=args.n_jobs)
    if args.output:
        with open(args.output, "w") as file:
            json.dump(results, file, indent=1)
    print(render(results))


if __name__ == "__main__":
    main()
