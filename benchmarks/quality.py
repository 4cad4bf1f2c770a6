"""Quality: does the distilled student predict as well as its teacher?

For every data set and seed, a stratified split holds out a quarter of the rows for
testing. The models train on a stratified sample of at most 3,000 of the other rows,
which keeps the suite within its time budget on two cores. Only digits and breast
cancer have fewer training rows. Two teachers are compared with their students on
the test rows: a random forest of 300 trees and a histogram gradient boosting, both
with scikit-learn's default settings otherwise. The rows of each table are

* the teacher, fitted inside the default student's ``fit``;
* the same MLP trained on the labels alone (``alpha=0``);
* the student at default settings, given the unfitted teacher as a user would;
* the student with the best ``temperature`` and ``alpha`` of a small grid;
* one row per other choice of ``teacher_targets`` (how the soft targets of the
  training rows are made), when the estimator has that parameter;
* one row with Gaussian transfer rows (``augment="gaussian"``, as many transfer
  rows as training rows) and one with the FitNets hint loss
  (``feature_loss="hint"``).

The other transfer-data and feature-loss options are left to the longer study of
``benchmarks/methods.py``, because each costs another student fit on every split.

The grid search uses the training split only. Each candidate holds out the same
stratified tenth of the training rows for early stopping (``validation_fraction``).
The candidate with the best accuracy on those rows, at the epoch whose weights it
kept, wins. No model sees the test rows before the final scores.
"""

import os
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import StrOptions

from skdistill import DistilledClassifier
from skdistill.metrics import fidelity_score

from ._common import (
    format_mean_spread,
    markdown_table,
    mean_and_spread,
    render_targets,
    single_thread,
)
from .datasets import load_dataset

# Ordered from the largest to the smallest, so that the parallel workers start with
# the longest tasks and finish together.
FULL_DATASETS = (
    "letter",
    "magic",
    "penbased",
    "twonorm",
    "satimage",
    "optdigits",
    "phoneme",
    "spambase",
    "digits",
    "breast_cancer",
)
QUICK_DATASETS = ("digits", "breast_cancer")
FULL_SEEDS = (0, 1, 2, 3, 4)
QUICK_SEEDS = (0, 1)
TEST_SIZE = 0.25
MAX_TRAIN_ROWS = 3_000

TEACHERS = ("random forest (300 trees)", "hist gradient boosting")
TEMPERATURES = (2.0, 4.0)
ALPHAS = (0.5, 0.9)

TEACHER = "teacher"
LABELS_ONLY = "MLP on labels only (alpha=0)"
DEFAULT = "student, default settings"
TUNED = "student, best T and alpha of the grid"

# Methods of the estimator shown as extra rows when it has the parameter. None
# takes every string option of the parameter except "auto" and the default's; a
# tuple takes those of its options that the estimator accepts.
METHOD_PARAMETERS = {
    "teacher_targets": None,
    "augment": ("gaussian",),
    "feature_loss": ("hint",),
}
# Out-of-fold targets of a forest refit 5 forests of 300 trees per fit. The suite's
# time budget cannot hold that, so only the training-target benchmark measures them.
SKIPPED_METHODS = {("random forest (300 trees)", "teacher_targets", "oof")}

TARGET_MEAN_GAP_POINTS = 0.0
TARGET_WORST_GAP_POINTS = -0.5
TARGET_FIDELITY = 0.97


def make_teacher(name, seed):
    """Return the unfitted teacher called ``name``, seeded with ``seed``."""
    if name == TEACHERS[0]:
        return RandomForestClassifier(n_estimators=300, random_state=seed, n_jobs=1)
    if name == TEACHERS[1]:
        return HistGradientBoostingClassifier(random_state=seed)
    raise ValueError(f"Unknown teacher {name!r}; expected one of {TEACHERS}.")


def _string_options(parameter):
    constraints = DistilledClassifier._parameter_constraints.get(parameter, [])
    options = set()
    for constraint in constraints:
        # Options wrapped in Hidden are not StrOptions instances, so they stay out.
        if isinstance(constraint, StrOptions):
            options |= set(constraint.options)
    return sorted(options)


def available_methods():
    """List the method parameters of :class:`DistilledClassifier` to benchmark.

    Returns
    -------
    methods : list of (str, str)
        ``(parameter, value)`` pairs for the parameters of
        :data:`METHOD_PARAMETERS` that the estimator has, in a fixed order.
    """
    parameters = DistilledClassifier().get_params()
    methods = []
    for parameter, selected in METHOD_PARAMETERS.items():
        if parameter not in parameters:
            continue
        options = _string_options(parameter)
        default = parameters[parameter]
        if selected is not None:
            options = [value for value in options if value in selected]
        methods.extend(
            (parameter, value) for value in options if value not in ("auto", default)
        )
    return methods


def _kept_validation_accuracy(model):
    """Return the held-out accuracy at the epoch whose weights the model kept."""
    scores = getattr(model, "validation_scores_", [])
    if not scores:
        return float("nan")
    best = getattr(model, "best_epoch_", None)
    return float(scores[best - 1] if best else scores[-1])


def _score(model, X_test, y_test, teacher_pred):
    proba = model.predict_proba(X_test)
    predicted = model.classes_[np.argmax(proba, axis=1)]
    return {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "fidelity": float(fidelity_score(teacher_pred, predicted)),
        "log_loss": float(log_loss(y_test, proba, labels=model.classes_)),
    }


def _fit(estimator, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Fits that stop at max_iter are part of what the defaults do; n_iter is
        # recorded instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return estimator, time.perf_counter() - start


def _record(estimator, fit_time, scores, **fields):
    return {
        **fields,
        **scores,
        "fit_time_s": fit_time,
        "n_iter": getattr(estimator, "n_iter_", None),
        "validation_accuracy": _kept_validation_accuracy(estimator),
        "teacher_targets": getattr(estimator, "teacher_targets_", None),
    }


def evaluate_split(
    dataset,
    seed,
    *,
    teachers=TEACHERS,
    temperatures=TEMPERATURES,
    alphas=ALPHAS,
    methods=None,
    student_params=None,
    max_train_rows=MAX_TRAIN_ROWS,
):
    """Fit and score every model of the quality table on one split of one data set.

    Parameters
    ----------
    dataset : str
        A classification data set of :func:`benchmarks.datasets.load_dataset`.
    seed : int
        Seed of the split, the teachers and the students.
    teachers : sequence of str, default=TEACHERS
        Names accepted by :func:`make_teacher`.
    temperatures, alphas : sequence of float
        The grid searched for the tuned student; it includes the defaults.
    methods : list of (str, str), default=None
        Extra ``(parameter, value)`` rows; None uses :func:`available_methods`.
    student_params : dict, default=None
        Parameters given to every student, for example a small ``max_iter`` in
        tests; None keeps the defaults.
    max_train_rows : int or None, default=MAX_TRAIN_ROWS
        Size of the stratified sample of the training split that the models fit;
        None fits all of it.

    Returns
    -------
    records : list of dict
        One per model and teacher, with the test ``accuracy``, ``fidelity`` to the
        teacher, ``log_loss``, ``fit_time_s`` and the settings used.
    """
    methods = available_methods() if methods is None else methods
    student_params = dict(student_params or {})
    X, y, _ = load_dataset(dataset)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=seed
    )
    if max_train_rows is not None and len(y_train) > max_train_rows:
        X_train, _, y_train, _ = train_test_split(
            X_train,
            y_train,
            train_size=max_train_rows,
            stratify=y_train,
            random_state=seed,
        )
    base = {"dataset": dataset, "seed": seed, "n_train": len(y_train)}
    default_settings = DistilledClassifier().get_params()
    records = []
    labels_only = None

    for teacher_name in teachers:
        fields = {**base, "teacher": teacher_name}
        default, default_time = _fit(
            DistilledClassifier(
                make_teacher(teacher_name, seed), random_state=seed, **student_params
            ),
            X_train,
            y_train,
        )
        teacher = default.teacher_
        teacher_pred = teacher.predict(X_test)
        teacher_scores = _score(teacher, X_test, y_test, teacher_pred)
        records.append({**fields, "model": TEACHER, **teacher_scores})
        records.append(
            _record(
                default,
                default_time,
                _score(default, X_test, y_test, teacher_pred),
                **fields,
                model=DEFAULT,
                temperature=default.temperature,
                alpha=default.alpha,
            )
        )

        # Every other student reuses the fitted teacher and the default's choice of
        # training targets, so that it differs from the default in one setting only.
        shared = {"random_state": seed, **student_params}
        if hasattr(default, "teacher_targets_"):
            shared["teacher_targets"] = default.teacher_targets_

        if labels_only is None:
            labels_only, labels_time = _fit(
                DistilledClassifier(teacher, **{**shared, "alpha": 0.0}),
                X_train,
                y_train,
            )
        records.append(
            _record(
                labels_only,
                labels_time,
                _score(labels_only, X_test, y_test, teacher_pred),
                **fields,
                model=LABELS_ONLY,
                alpha=0.0,
            )
        )

        best, best_time = default, default_time
        for temperature in temperatures:
            for alpha in alphas:
                if (temperature, alpha) == (
                    default_settings["temperature"],
                    default_settings["alpha"],
                ):
                    continue
                candidate, candidate_time = _fit(
                    DistilledClassifier(
                        teacher,
                        **{**shared, "temperature": temperature, "alpha": alpha},
                    ),
                    X_train,
                    y_train,
                )
                # Ties keep the earlier candidate, and the default comes first.
                if _kept_validation_accuracy(candidate) > _kept_validation_accuracy(
                    best
                ):
                    best, best_time = candidate, candidate_time
        records.append(
            _record(
                best,
                best_time,
                _score(best, X_test, y_test, teacher_pred),
                **fields,
                model=TUNED,
                temperature=best.temperature,
                alpha=best.alpha,
            )
        )

        for parameter, value in methods:
            if (teacher_name, parameter, value) in SKIPPED_METHODS:
                continue
            if parameter == "teacher_targets" and value == shared.get(parameter):
                continue
            estimator = DistilledClassifier(teacher, **{**shared, parameter: value})
            try:
                model, fit_time = _fit(estimator, X_train, y_train)
            except (ValueError, TypeError) as exc:
                # A method that does not apply to this teacher, such as out-of-bag
                # targets of a boosting model, is left out of the table.
                records.append(
                    {**fields, "model": f"{parameter}={value!r}", "error": str(exc)}
                )
                continue
            records.append(
                _record(
                    model,
                    fit_time,
                    _score(model, X_test, y_test, teacher_pred),
                    **fields,
                    model=f"student, {parameter}={value!r}",
                )
            )
    return records


def _evaluate_single_threaded(dataset, seed, kwargs):
    with single_thread():
        return evaluate_split(dataset, seed, **kwargs)


def measure(datasets, seeds, *, n_jobs=None, **kwargs):
    """Run :func:`evaluate_split` on every data set and seed.

    Parameters
    ----------
    datasets : sequence of str
        Data set names; the first ones should be the slowest.
    seeds : sequence of int
        One split per seed.
    n_jobs : int, default=None
        Worker processes, each limited to one thread; None starts one per CPU
        that this process may use.
    **kwargs
        Passed to :func:`evaluate_split`.

    Returns
    -------
    records : list of dict
        Every record of every split.
    """
    kwargs.setdefault("methods", available_methods())
    tasks = [(dataset, seed) for dataset in datasets for seed in seeds]
    if n_jobs is None:
        n_jobs = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    if n_jobs == 1:
        results = [_evaluate_single_threaded(d, s, kwargs) for d, s in tasks]
    else:
        results = Parallel(n_jobs=n_jobs)(
            delayed(_evaluate_single_threaded)(d, s, kwargs) for d, s in tasks
        )
    return [record for records in results for record in records]


def summarise(records):
    """Average the records over seeds, per teacher, data set and model.

    Parameters
    ----------
    records : list of dict
        As returned by :func:`measure`.

    Returns
    -------
    summary : list of dict
        ``teacher``, ``dataset``, ``model``, ``n_seeds``, and mean and standard
        deviation of ``accuracy``, ``fidelity`` and ``log_loss``, plus the most
        frequent ``temperature`` and ``alpha`` of the tuned student.
    """
    groups = {}
    for record in records:
        if "error" in record:
            continue
        key = (record["teacher"], record["dataset"], record["model"])
        groups.setdefault(key, []).append(record)
    summary = []
    for (teacher, dataset, model), group in groups.items():
        entry = {
            "teacher": teacher,
            "dataset": dataset,
            "model": model,
            "n_seeds": len(group),
            "n_train": group[0].get("n_train"),
        }
        for metric in ("accuracy", "fidelity", "log_loss", "fit_time_s"):
            values = [row.get(metric, float("nan")) for row in group]
            values = [float("nan") if v is None else v for v in values]
            entry[metric], entry[metric + "_std"] = mean_and_spread(values)
        if model == TUNED:
            settings = [(row["temperature"], row["alpha"]) for row in group]
            entry["chosen"] = [list(setting) for setting in settings]
        summary.append(entry)
    return summary


def _mean_over_datasets(summary, teacher, model, metric):
    values = [
        row[metric]
        for row in summary
        if row["teacher"] == teacher and row["model"] == model
    ]
    return float(np.mean(values)) if values else float("nan")


def _per_dataset(summary, teacher, model, metric):
    return {
        row["dataset"]: row[metric]
        for row in summary
        if row["teacher"] == teacher and row["model"] == model
    }


def check_targets(summary):
    """Check the default student against the quality targets, per teacher.

    Parameters
    ----------
    summary : list of dict
        As returned by :func:`summarise`.

    Returns
    -------
    targets : list of dict
        ``target``, ``measured`` and ``met`` for each teacher and target.
    """
    targets = []
    for teacher in sorted({row["teacher"] for row in summary}, key=TEACHERS.index):
        student = _per_dataset(summary, teacher, DEFAULT, "accuracy")
        reference = _per_dataset(summary, teacher, TEACHER, "accuracy")
        gaps = {name: 100 * (student[name] - reference[name]) for name in student}
        worst = min(gaps, key=gaps.get)
        mean_gap = float(np.mean(list(gaps.values())))
        labels = _mean_over_datasets(summary, teacher, LABELS_ONLY, "accuracy")
        default = _mean_over_datasets(summary, teacher, DEFAULT, "accuracy")
        fidelity = _per_dataset(summary, teacher, DEFAULT, "fidelity")
        mean_fidelity = float(np.mean(list(fidelity.values())))
        lowest_fidelity = min(fidelity, key=fidelity.get)
        targets.extend(
            [
                {
                    "target": f"{teacher}: mean accuracy gap, default student minus "
                    f"teacher, >= {TARGET_MEAN_GAP_POINTS:+.1f} points",
                    "measured": f"{mean_gap:+.2f} points",
                    "met": bool(mean_gap >= TARGET_MEAN_GAP_POINTS),
                },
                {
                    "target": f"{teacher}: gap on every data set >= "
                    f"{TARGET_WORST_GAP_POINTS:+.1f} points",
                    "measured": f"{gaps[worst]:+.2f} points (lowest, on {worst})",
                    "met": bool(gaps[worst] >= TARGET_WORST_GAP_POINTS),
                },
                {
                    "target": f"{teacher}: default student beats the labels-only "
                    "MLP in mean accuracy",
                    "measured": f"{100 * (default - labels):+.2f} points",
                    "met": bool(default > labels),
                },
                {
                    "target": f"{teacher}: mean fidelity of the default student >= "
                    f"{100 * TARGET_FIDELITY:.0f}%",
                    "measured": f"{100 * mean_fidelity:.2f}% (lowest "
                    f"{100 * fidelity[lowest_fidelity]:.2f}%, on {lowest_fidelity})",
                    "met": bool(mean_fidelity >= TARGET_FIDELITY),
                },
            ]
        )
    return targets


def run(quick):
    """Measure the quality table.

    Parameters
    ----------
    quick : bool
        Two small data sets and two seeds instead of ten data sets and five seeds.

    Returns
    -------
    results : dict
        ``datasets``, ``seeds``, ``grid``, ``methods``, the raw ``records``, their
        ``summary`` and the ``targets``.
    """
    datasets = QUICK_DATASETS if quick else FULL_DATASETS
    seeds = QUICK_SEEDS if quick else FULL_SEEDS
    methods = available_methods()
    start = time.perf_counter()
    records = measure(datasets, seeds, methods=methods)
    summary = summarise(records)
    return {
        "datasets": list(datasets),
        "seeds": list(seeds),
        "test_size": TEST_SIZE,
        "max_train_rows": MAX_TRAIN_ROWS,
        "grid": {"temperature": list(TEMPERATURES), "alpha": list(ALPHAS)},
        "methods": [list(method) for method in methods],
        "skipped_methods": [list(method) for method in sorted(SKIPPED_METHODS)],
        "wall_time_s": time.perf_counter() - start,
        "records": records,
        "summary": summary,
        "targets": check_targets(summary),
    }


def _model_order(summary):
    fixed = [TEACHER, LABELS_ONLY, DEFAULT, TUNED]
    extra = sorted({row["model"] for row in summary} - set(fixed))
    return fixed + extra


def _render_averages(summary, teacher, models):
    rows = []
    teacher_accuracy = _mean_over_datasets(summary, teacher, TEACHER, "accuracy")
    for model in models:
        accuracy = _mean_over_datasets(summary, teacher, model, "accuracy")
        if np.isnan(accuracy):
            continue
        fidelity = _mean_over_datasets(summary, teacher, model, "fidelity")
        loss = _mean_over_datasets(summary, teacher, model, "log_loss")
        fit_time = _mean_over_datasets(summary, teacher, model, "fit_time_s")
        rows.append(
            [
                model,
                f"{100 * accuracy:.2f}",
                f"{100 * (accuracy - teacher_accuracy):+.2f}",
                f"{100 * fidelity:.2f}",
                f"{loss:.4f}",
                "" if np.isnan(fit_time) else f"{fit_time:.1f}",
            ]
        )
    header = [
        "model",
        "accuracy (%)",
        "gap to teacher (points)",
        "fidelity (%)",
        "log loss",
        "fit time (s)",
    ]
    return markdown_table(header, rows)


def _render_details(summary, teacher, models):
    rows = []
    datasets = [row["dataset"] for row in summary if row["teacher"] == teacher]
    for dataset in dict.fromkeys(datasets):
        first = True
        for model in models:
            entry = next(
                (
                    row
                    for row in summary
                    if (row["teacher"], row["dataset"], row["model"])
                    == (teacher, dataset, model)
                ),
                None,
            )
            if entry is None:
                continue
            name = model
            if model == TUNED:
                chosen = ", ".join(f"{t:g}/{a:g}" for t, a in entry["chosen"])
                name = f"{model} (T/alpha per seed: {chosen})"
            label = dataset
            if entry.get("n_train"):
                label = f"{dataset} ({entry['n_train']:,} training rows)"
            rows.append(
                [
                    label if first else "",
                    name,
                    format_mean_spread(
                        entry["accuracy"], entry["accuracy_std"], scale=100
                    ),
                    format_mean_spread(
                        entry["fidelity"], entry["fidelity_std"], scale=100
                    ),
                    format_mean_spread(
                        entry["log_loss"], entry["log_loss_std"], digits=4
                    ),
                ]
            )
            first = False
    header = ["data set", "model", "accuracy (%)", "fidelity (%)", "log loss"]
    return markdown_table(header, rows, align="llrrr")


def render(results):
    """Render the quality tables as markdown.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`.

    Returns
    -------
    text : str
    """
    summary = results["summary"]
    models = _model_order(summary)
    grid = results["grid"]
    methods = ", ".join(f"`{p}={v!r}`" for p, v in results["methods"]) or "none"
    skipped = ", ".join(
        f"`{p}={v!r}` with the {t}" for t, p, v in results["skipped_methods"]
    )
    parts = [
        f"Data sets: {', '.join(results['datasets'])}. Seeds: "
        f"{', '.join(map(str, results['seeds']))}; each seed draws a stratified "
        f"split with {100 * results['test_size']:.0f}% test rows and seeds the "
        "teacher and the students, which train on a stratified sample of at most "
        f"{results['max_train_rows']:,} of the other rows. Cells give the mean ± "
        "standard deviation over the seeds of test accuracy, fidelity (share of "
        "test rows where the model predicts the teacher's label) and log loss.\n\n"
        f"The grid of the tuned student: temperature in {grid['temperature']} × "
        f"alpha in {grid['alpha']}, selected by accuracy on the tenth of the "
        "training split that early stopping holds out. Method rows found on the "
        f"estimator: {methods}"
        + (f"; left out for time: {skipped}" if skipped else "")
        + ". The other options of `augment` and `feature_loss` are measured in the "
        "longer study of section 7. "
        "Every student but the default reuses the default's fitted teacher and its "
        "choice of training targets. The default's fit time includes fitting the "
        "teacher; the others' does not.\n"
    ]
    for teacher in sorted({row["teacher"] for row in summary}, key=TEACHERS.index):
        parts.append(f"### Teacher: {teacher}\n")
        parts.append("Averages over the data sets:\n")
        parts.append(_render_averages(summary, teacher, models))
        parts.append("Per data set:\n")
        parts.append(_render_details(summary, teacher, models))
    parts.append("### Targets\n")
    parts.append(render_targets(results["targets"]))
    parts.append(_render_notes(summary))
    return "\n".join(parts)


def _render_notes(summary):
    """Summarise, from the measured values, where the default student falls short."""
    lines = []
    for teacher in sorted({row["teacher"] for row in summary}, key=TEACHERS.index):
        reference = _per_dataset(summary, teacher, TEACHER, "accuracy")
        default = _per_dataset(summary, teacher, DEFAULT, "accuracy")
        tuned = _per_dataset(summary, teacher, TUNED, "accuracy")
        labels = _per_dataset(summary, teacher, LABELS_ONLY, "accuracy")
        behind = {
            name: 100 * (default[name] - reference[name])
            for name in default
            if 100 * (default[name] - reference[name]) < TARGET_WORST_GAP_POINTS
        }
        helped = sum(default[name] > labels.get(name, np.inf) for name in default)
        line = (
            f"- {teacher}: distillation beats the labels-only MLP on {helped} of "
            f"{len(default)} data sets."
        )
        if behind:
            details = ", ".join(
                f"{name} ({gap:+.2f}; tuned "
                f"{100 * (tuned[name] - reference[name]):+.2f})"
                for name, gap in sorted(behind.items(), key=lambda item: item[1])
            )
            line += (
                " The default student is more than "
                f"{-TARGET_WORST_GAP_POINTS:g} points behind the teacher on "
                f"{details} (points of accuracy)."
            )
        lines.append(line)
    return "Notes:\n\n" + "\n".join(lines) + "\n"
