"""Prediction cost: latency and saved size of the teachers against their student.

Each data set gets four models: a 500-tree random forest, the 300-tree forest and
the histogram gradient boosting of the quality benchmark, and the student distilled
from the 500-tree forest. Each is timed on ``predict_proba`` for one row (median of
many calls) and for 10,000 rows, and pickled to measure what a user would ship.
The student is measured as :meth:`DistilledClassifier.to_student` returns it: a
:class:`StudentClassifier` that predicts with numpy alone. The
:class:`DistilledClassifier` that still contains its teacher is listed for its size.

Every model runs on one thread (``n_jobs=1``, BLAS and OpenMP limited to one
thread), so the ratios compare the models and not their use of the cores. The
models are timed in alternating blocks of calls, so that a change in the load of a
shared machine slows them alike.
"""

import pickle
import time
import warnings
from functools import partial

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier
from skdistill._student import forward_numpy

from ._common import (
    format_bytes,
    format_seconds,
    interleaved_median_times,
    markdown_table,
    median_time,
    render_targets,
    single_thread,
)
from .datasets import load_dataset

# The two largest data sets of the quality benchmark, the one of median size and the
# smallest: a forest's size grows with its training rows, the student's does not.
FULL_DATASETS = ("letter", "magic", "optdigits", "breast_cancer")
QUICK_DATASETS = ("breast_cancer",)
N_BATCH_ROWS = 10_000
SEED = 0

# Target ratios: teacher time or size over the student's.
TARGET_ONE_ROW_FOREST = 1000.0
TARGET_ONE_ROW_BOOSTING = 100.0
TARGET_BATCH_FOREST = 20.0
TARGET_SIZE_FOREST = 100.0

FOREST_500 = "random forest (500 trees)"
FOREST_300 = "random forest (300 trees)"
BOOSTING = "hist gradient boosting"
STUDENT = "student (to_student)"
DISTILLED = "DistilledClassifier with teacher"


def _saved_size(model):
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def _fit_models(X_train, y_train, seed, student_params):
    """Fit the three teachers and the student; return models and fit times."""
    teachers = {
        FOREST_500: RandomForestClassifier(n_estimators=500, random_state=seed),
        FOREST_300: RandomForestClassifier(n_estimators=300, random_state=seed),
        BOOSTING: HistGradientBoostingClassifier(random_state=seed),
    }
    models, fit_times = {}, {}
    for name, teacher in teachers.items():
        start = time.perf_counter()
        models[name] = teacher.fit(X_train, y_train)
        fit_times[name] = time.perf_counter() - start

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        distilled = DistilledClassifier(
            models[FOREST_500], random_state=seed, **student_params
        ).fit(X_train, y_train)
    fit_times[DISTILLED] = time.perf_counter() - start
    models[STUDENT] = distilled.to_student()
    models[DISTILLED] = distilled
    return models, fit_times


def measure_dataset(
    name, *, n_batch_rows=N_BATCH_ROWS, budget_s=2.0, seed=SEED, student_params=None
):
    """Time and size every model on one data set.

    Parameters
    ----------
    name : str
        A classification data set of :func:`benchmarks.datasets.load_dataset`.
    n_batch_rows : int, default=10000
        Rows of the batch timing, drawn with replacement from the test rows.
    budget_s : float, default=2.0
        Seconds of repeated calls per timing (at least 5 calls each).
    seed : int, default=0
        Seed of the split, the teachers and the student.
    student_params : dict, default=None
        Extra :class:`DistilledClassifier` parameters; None keeps the defaults.

    Returns
    -------
    result : dict
        ``dataset``, ``n_train``, ``n_features``, ``n_classes`` and ``models``, a
        list with, per model, ``model``, ``accuracy``, ``fit_time_s``,
        ``one_row_s``, ``batch_s`` and ``size_bytes``.
    """
    X, y, info = load_dataset(name)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    rows = np.random.default_rng(seed).integers(0, len(X_test), n_batch_rows)
    X_batch = np.ascontiguousarray(X_test[rows])
    one_row = np.ascontiguousarray(X_test[:1])

    with single_thread():
        models, fit_times = _fit_models(X_train, y_train, seed, student_params or {})
        one_row_timings = interleaved_median_times(
            [partial(model.predict_proba, one_row) for model in models.values()],
            budget_s=budget_s,
        )
        batch_timings = interleaved_median_times(
            [partial(model.predict_proba, X_batch) for model in models.values()],
            budget_s=budget_s,
        )
        measured = []
        timings = zip(models.items(), one_row_timings, batch_timings, strict=True)
        for (model_name, model), one_row_timing, batch_timing in timings:
            one_row_s, one_row_calls = one_row_timing
            batch_s, batch_calls = batch_timing
            measured.append(
                {
                    "model": model_name,
                    "accuracy": float(model.score(X_test, y_test)),
                    "fit_time_s": fit_times.get(model_name),
                    "one_row_s": one_row_s,
                    "one_row_calls": one_row_calls,
                    "batch_s": batch_s,
                    "batch_calls": batch_calls,
                    "size_bytes": _saved_size(model),
                }
            )
        breakdown = _student_breakdown(models[STUDENT], one_row, budget_s)
    return {
        "dataset": name,
        "n_train": len(X_train),
        "n_features": X.shape[1],
        "n_classes": info.n_classes,
        "n_batch_rows": n_batch_rows,
        "models": measured,
        "student_breakdown": breakdown,
    }


def _student_breakdown(student, one_row, budget_s):
    """Time the parts of the student's one-row ``predict_proba``.

    Returns the median seconds of the numpy forward pass alone and of the product
    with the largest weight matrix, which together show how much of the latency is
    arithmetic and how much is Python and validation around it.
    """
    standardised = ((one_row - student.input_mean_) / student.input_scale_).astype(
        np.float32
    )
    forward_s, _ = median_time(
        lambda: forward_numpy(
            standardised, student.coefs_, student.intercepts_, student.activation_
        ),
        budget_s=budget_s,
    )
    largest = max(student.coefs_, key=lambda coef: coef.size)
    inputs = np.ones((1, largest.shape[0]), dtype=np.float32)
    product_s, _ = median_time(lambda: inputs @ largest, budget_s=budget_s)
    return {
        "forward_s": forward_s,
        "largest_product_s": product_s,
        "largest_shape": list(largest.shape),
    }


def _ratio(result, teacher, key):
    by_model = {row["model"]: row for row in result["models"]}
    return by_model[teacher][key] / by_model[STUDENT][key]


def check_targets(results):
    """Compare the measured ratios with the targets, on every data set.

    Parameters
    ----------
    results : list of dict
        As returned by :func:`measure_dataset`.

    Returns
    -------
    targets : list of dict
        ``target``, ``measured`` (the smallest ratio over the data sets, and on
        which) and ``met``.
    """
    checks = [
        (
            "one row: 500-tree forest / student",
            FOREST_500,
            "one_row_s",
            TARGET_ONE_ROW_FOREST,
        ),
        (
            "one row: hist gradient boosting / student",
            BOOSTING,
            "one_row_s",
            TARGET_ONE_ROW_BOOSTING,
        ),
        (
            f"{N_BATCH_ROWS:,} rows: 500-tree forest / student",
            FOREST_500,
            "batch_s",
            TARGET_BATCH_FOREST,
        ),
        (
            "size: 500-tree forest / student",
            FOREST_500,
            "size_bytes",
            TARGET_SIZE_FOREST,
        ),
    ]
    targets = []
    for label, teacher, key, threshold in checks:
        ratios = {result["dataset"]: _ratio(result, teacher, key) for result in results}
        worst = min(ratios, key=ratios.get)
        targets.append(
            {
                "target": f"{label} >= {threshold:g}x",
                "measured": f"{ratios[worst]:,.0f}x (lowest, on {worst})",
                "met": bool(ratios[worst] >= threshold),
                "ratios": ratios,
            }
        )
    return targets


def run(quick):
    """Measure the prediction cost on the benchmark's data sets.

    Parameters
    ----------
    quick : bool
        Measure one small data set with a short timing budget instead of the full
        set.

    Returns
    -------
    results : dict
        ``datasets`` (per data set, :func:`measure_dataset`'s result) and
        ``targets`` (:func:`check_targets`).
    """
    names = QUICK_DATASETS if quick else FULL_DATASETS
    budget_s = 0.5 if quick else 2.0
    datasets = [measure_dataset(name, budget_s=budget_s) for name in names]
    return {
        "n_batch_rows": N_BATCH_ROWS,
        "inference_path": "numpy",
        "threads": 1,
        "datasets": datasets,
        "targets": check_targets(datasets),
    }


def _render_dataset(result):
    by_model = {row["model"]: row for row in result["models"]}
    student = by_model[STUDENT]
    rows = []
    for row in result["models"]:
        one_row_ratio = row["one_row_s"] / student["one_row_s"]
        batch_ratio = row["batch_s"] / student["batch_s"]
        size_ratio = row["size_bytes"] / student["size_bytes"]
        rows.append(
            [
                row["model"],
                f"{100 * row['accuracy']:.2f}",
                format_seconds(row["one_row_s"]),
                f"{one_row_ratio:,.0f}x",
                format_seconds(row["batch_s"]),
                f"{batch_ratio:,.1f}x",
                format_bytes(row["size_bytes"]),
                f"{size_ratio:,.0f}x",
            ]
        )
    header = [
        "model",
        "accuracy (%)",
        "1 row",
        "/ student",
        f"{result['n_batch_rows']:,} rows",
        "/ student",
        "pickled size",
        "/ student",
    ]
    title = (
        f"**{result['dataset']}** ({result['n_train']:,} training rows, "
        f"{result['n_features']} features, {result['n_classes']} classes)\n\n"
    )
    return title + markdown_table(header, rows)


def render(results):
    """Render the prediction-cost tables as markdown.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`.

    Returns
    -------
    text : str
    """
    parts = [
        "Median wall time of `predict_proba` on one thread, for one row (the same "
        f"test row each call) and for {results['n_batch_rows']:,} test rows drawn "
        "with replacement, the models taking turns in blocks of calls. Size is "
        "the length of `pickle.dumps` with the highest protocol. The student row "
        "is the `StudentClassifier` returned by "
        "`DistilledClassifier.to_student()`, which predicts through numpy "
        "(float32 matrix products, no torch); `DistilledClassifier` predicts "
        "through the same numpy path but pickles its teacher too. Students were "
        "distilled from the 500-tree forest at default settings. Ratios divide "
        "each model's time or size by the student's.\n"
    ]
    parts.extend(_render_dataset(result) for result in results["datasets"])
    parts.append("Targets, checked on every data set:\n\n")
    parts[-1] += render_targets(results["targets"])
    parts.append(_render_notes(results))
    return "\n".join(parts)


def _render_notes(results):
    """Explain, from the measured values, where the student's time goes."""
    lines = []
    for result in results["datasets"]:
        by_model = {row["model"]: row for row in result["models"]}
        student = by_model[STUDENT]["one_row_s"]
        boosting = by_model[BOOSTING]["one_row_s"]
        breakdown = result["student_breakdown"]
        rows, columns = breakdown["largest_shape"]
        line = (
            f"- {result['dataset']}: the student's one-row `predict_proba` takes "
            f"{format_seconds(student)}. The numpy forward pass takes "
            f"{format_seconds(breakdown['forward_s'])} of it, and its largest "
            f"product (1 x {rows} by {rows} x {columns}) takes "
            f"{format_seconds(breakdown['largest_product_s'])}. The rest goes to the "
            "fitted check, input validation, standardisation and the softmax."
        )
        needed = boosting / TARGET_ONE_ROW_BOOSTING
        if student > needed:
            line += (
                f" Hist gradient boosting takes {format_seconds(boosting)}, so "
                f"{TARGET_ONE_ROW_BOOSTING:g}x would need the student under "
                f"{format_seconds(needed)}"
            )
            if needed < breakdown["forward_s"]:
                line += ", less than its forward pass alone takes"
            line += "."
        forest_size = by_model[FOREST_500]["size_bytes"]
        student_size = by_model[STUDENT]["size_bytes"]
        if forest_size < TARGET_SIZE_FOREST * student_size:
            line += (
                f" With {result['n_train']:,} training rows the forest's trees stay "
                f"small ({format_bytes(forest_size)} for 500 trees), while the "
                f"student's size depends only on its layers "
                f"({format_bytes(student_size)})."
            )
        lines.append(line)
    return "Where the time goes:\n\n" + "\n".join(lines) + "\n"
