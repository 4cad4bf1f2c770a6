"""Grid search over temperature and alpha with and without the teacher cache.

``GridSearchCV`` over 5 temperatures x 5 alphas x 5 folds fits 125 distilled
classifiers. Without the cache, each of them fits its own random forest teacher. With
it, each fold's teacher is fitted once and reused by the other 24 candidates of that
fold. The teacher is a :class:`CountingRandomForest`, which appends a line to a log
file on every fit, so fits are counted in worker processes too. ``refit=False``
leaves out the final refit on all rows, so that the counts are those of the search.
"""

import os
import tempfile
import time

import joblib
import numpy as np
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from benchmarks._common import describe_environment, render_environment
from benchmarks.datasets import load_dataset
from skdistill import DistilledClassifier, clear_teacher_cache

TEMPERATURES = (1.0, 2.0, 3.0, 5.0, 8.0)
ALPHAS = (0.1, 0.3, 0.5, 0.7, 0.9)
N_FOLDS = 5
COMMAND = "python -m benchmarks.run"
TARGET_FITS = N_FOLDS
TARGET_SPEEDUP = 5.0


class CountingRandomForest(RandomForestClassifier):
    """A random forest that appends its process id to ``log_path`` on every fit.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees.
    random_state : int or None, default=None
        Seed of the forest.
    log_path : str, default=None
        File that counts the fits. Appending one short line is atomic on POSIX
        file systems, so processes of a parallel search may share the file.
    """

    def __init__(self, n_estimators=100, *, random_state=None, log_path=None):
        super().__init__(n_estimators=n_estimators, random_state=random_state)
        self.log_path = log_path

    def fit(self, X, y, sample_weight=None):
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")
        return super().fit(X, y, sample_weight=sample_weight)


def _settings(quick):
    # breast_cancer keeps the uncached search, 125 teacher and student fits, to a few
    # minutes. Larger data sets raise both fit times; their ratio, which bounds the
    # speedup, is measured on its own by the training-speed benchmark's teachers.
    variants = [("off", 1), ("memory", 1)]
    if not quick:
        variants += [("disk", 1), ("memory", 2), ("disk", 2)]
    return {"dataset": "breast_cancer", "n_estimators": 300, "variants": variants}


def _count_fits(log_path):
    if not os.path.exists(log_path):
        return 0, 0
    with open(log_path, encoding="utf-8") as log:
        pids = log.read().split()
    return len(pids), len(set(pids))


def _run_search(X, y, cache_kind, n_jobs, n_estimators, folder):
    log_path = os.path.join(folder, f"fits-{cache_kind}-{n_jobs}.log")
    cache = {
        "off": False,
        "memory": True,
        "disk": os.path.join(folder, f"cache-{n_jobs}"),
    }[cache_kind]
    model = DistilledClassifier(
        CountingRandomForest(n_estimators=n_estimators, log_path=log_path),
        random_state=0,
        n_threads=1,
        teacher_cache=cache,
    )
    search = GridSearchCV(
        model,
        {"temperature": list(TEMPERATURES), "alpha": list(ALPHAS)},
        cv=StratifiedKFold(N_FOLDS, shuffle=True, random_state=0),
        n_jobs=n_jobs,
        refit=False,
    )
    clear_teacher_cache()
    start = time.perf_counter()
    with joblib.parallel_config(backend="loky"):
        search.fit(X, y)
    seconds = time.perf_counter() - start
    n_fits, n_processes = _count_fits(log_path)
    return {
        "cache": cache_kind,
        "n_jobs": n_jobs,
        "seconds": seconds,
        "teacher_fits": n_fits,
        "fitting_processes": n_processes,
        "candidates": len(search.cv_results_["params"]),
        "best_params": search.best_params_,
        "best_score": float(search.best_score_),
        "mean_fit_seconds": float(np.mean(search.cv_results_["mean_fit_time"])),
        "median_fit_seconds": float(np.median(search.cv_results_["mean_fit_time"])),
    }


def run(quick):
    """Time the grid search without the teacher cache and with each kind of cache.

    Parameters
    ----------
    quick : bool
        A smaller data set and only the sequential searches.

    Returns
    -------
    results : dict
        JSON-serialisable measurements; :func:`render` turns them into markdown.
    """
    settings = _settings(quick)
    environment = describe_environment(COMMAND + (" --quick" if quick else ""))
    X, y, _ = load_dataset(settings["dataset"])
    X_train, _, y_train, _ = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as folder:
            searches = [
                _run_search(
                    X_train, y_train, kind, n_jobs, settings["n_estimators"], folder
                )
                for kind, n_jobs in settings["variants"]
            ]
    finally:
        torch.set_num_threads(previous_threads)
        clear_teacher_cache()
    return {
        "environment": environment,
        "dataset": settings["dataset"],
        "n_train_rows": len(X_train),
        "n_features": X_train.shape[1],
        "n_estimators": settings["n_estimators"],
        "searches": searches,
        "targets": check_targets(searches),
    }


def check_targets(searches):
    """Compare the sequential search with the default cache against the targets.

    Parameters
    ----------
    searches : list of dict
        The search rows of :func:`run`.

    Returns
    -------
    targets : list of dict
        Each with ``target``, ``measured`` (text) and ``met``.
    """
    rows = {(row["cache"], row["n_jobs"]): row for row in searches}
    cached, uncached = rows[("memory", 1)], rows[("off", 1)]
    speedup = uncached["seconds"] / cached["seconds"]
    return [
        {
            "target": f"teacher fits of the cached search <= {TARGET_FITS} "
            f"(uncached: {uncached['teacher_fits']})",
            "measured": str(cached["teacher_fits"]),
            "met": bool(cached["teacher_fits"] <= TARGET_FITS),
        },
        {
            "target": f"cached search >= {TARGET_SPEEDUP:g}x faster than uncached",
            "measured": f"{speedup:.2f}x",
            "met": bool(speedup >= TARGET_SPEEDUP),
        },
    ]


def _fit_time_split(searches):
    """Estimate the seconds of one teacher fit and of the rest of one fit.

    An uncached fit takes T + S on average. In the cached search, all but the first
    fit of each fold skip the teacher, so the median over the candidates of their
    mean fit time is S plus the cost of taking the teacher from the cache.
    """
    rows = {(row["cache"], row["n_jobs"]): row for row in searches}
    total = rows[("off", 1)]["mean_fit_seconds"]
    student = rows[("memory", 1)]["median_fit_seconds"]
    return total - student, student


def _expected_speedup(teacher_seconds, student_seconds):
    """Return the expected speedup of a search whose teacher fits drop to 5 of 125."""
    n_fits = len(TEMPERATURES) * len(ALPHAS) * N_FOLDS
    uncached = n_fits * (teacher_seconds + student_seconds)
    return uncached / (N_FOLDS * teacher_seconds + n_fits * student_seconds)


def _render_targets(targets):
    lines = ["| target | measured | verdict |", "|---|---:|---|"]
    for check in targets:
        verdict = "met" if check["met"] else "**missed**"
        lines.append(f"| {check['target']} | {check['measured']} | {verdict} |")
    return "\n".join(lines)


def render(results):
    """Render :func:`run`'s results as a markdown section.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`.

    Returns
    -------
    markdown : str
    """
    searches = results["searches"]
    sequential = next(
        row for row in searches if row["cache"] == "off" and row["n_jobs"] == 1
    )
    teacher, student = _fit_time_split(searches)
    lines = [
        render_environment(results["environment"]),
        f"`GridSearchCV` over {len(TEMPERATURES)} temperatures x {len(ALPHAS)} alphas "
        f"x {N_FOLDS} folds (`refit=False`) on the training split of "
        f"`{results['dataset']}` ({results['n_train_rows']} rows, "
        f"{results['n_features']} features). Teacher: an unfitted random forest of "
        f"{results['n_estimators']} trees; student: default settings with "
        "`random_state=0` and `n_threads=1`. From the fit times of the two "
        "sequential searches, a teacher fit took T = "
        f"{teacher:.2f} s and the rest of a fit (soft targets and the student) "
        f"S = {student:.2f} s. A search with 5 teacher fits instead of 125 is then "
        "expected to be 125 (T + S) / (5 T + 125 S) = "
        f"{_expected_speedup(teacher, student):.2f}x faster, because the cache removes "
        "teacher fits and the 125 student fits remain. The targets apply to the "
        "sequential search with the default cache (`memory`, n_jobs=1).",
        "",
        "| cache | n_jobs | teacher fits | processes that fitted | wall time (s) | "
        "speedup vs no cache, n_jobs=1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in searches:
        speedup = sequential["seconds"] / row["seconds"]
        lines.append(
            f"| {row['cache']} | {row['n_jobs']} | {row['teacher_fits']} | "
            f"{row['fitting_processes']} | {row['seconds']:.1f} | {speedup:.2f}x |"
        )
    lines += [
        "",
        "`memory` is `teacher_cache=True`, the default in-process cache; `disk` is "
        "`teacher_cache=<folder>`, a `joblib.Memory`. Process-based workers "
        "(`n_jobs=2`, loky) each keep their own in-process cache, so a fold's teacher "
        "is fitted once per worker that meets the fold.",
        "",
        _render_targets(results["targets"]),
        "",
    ]
    return "\n".join(lines)
