"""Training speed of the student against a bare PyTorch loop, skorch and scikit-learn.

Every contender trains the same network (two hidden layers of 256 ReLU units, dropout
0.1 where the contender has dropout) with the same batch size, optimiser settings and
number of epochs on the same rows. The contenders take turns within each repeat, so
that all of them meet the same load on the machine:

* ``skdistill``: :func:`skdistill._training.train_network`, the loop that
  :meth:`DistilledClassifier.fit` runs after the teacher, with the student network,
  the blended distillation loss and no validation rows.
* ``bare torch``: a hand-written loop as a user would write it: ``torch.randperm``,
  indexing per batch, :class:`torch.nn.Dropout`, the default
  :class:`torch.optim.AdamW`, the same loss, and ``loss.item()`` per batch to record
  the epoch's loss.
* ``skorch``: :class:`skorch.NeuralNetClassifier` with the same module, AdamW, no
  validation split and shuffled batches, its ``get_loss`` overridden to compute the
  same blended loss from the teacher's logits.
* ``scikit-learn MLP``: :class:`sklearn.neural_network.MLPClassifier` with
  ``solver="adam"`` on float32 data. It cannot match everything: it has no dropout,
  learns from the labels alone (its log loss, no teacher), and its ``alpha`` is an L2
  penalty added to the gradient where AdamW decays the weights directly.

Throughput counts 6 floating-point operations per network parameter per training row
and epoch (2 in the forward pass, 4 in the backward pass), the usual estimate for
dense layers. It ignores activations, dropout, the loss and the optimiser, and it
counts the input gradient of the first layer, which no loop computes (2% of the
FLOPs for 16 inputs). The peak is the best of several float32 ``torch.mm`` products of
two 2048 x 2048 matrices at the same thread count.
"""

import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits
from torch import nn

from benchmarks._common import describe_environment, render_environment
from benchmarks.datasets import load_dataset
from skdistill import DistilledClassifier
from skdistill._student import MLPStudent
from skdistill._training import train_network
from skdistill.ensemble import teacher_logits

DATASET = "letter"
HIDDEN_LAYER_SIZES = (256, 256)
DROPOUT = 0.1
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4
TEMPERATURE = 2.0
ALPHA = 0.5
PEAK_SIZE = 2048
STUDY_BATCH_SIZES = (256, 512, 1024)
COMMAND = "python -m benchmarks.run"

# The targets, as ratios of ms per epoch and a fraction of the matmul peak.
TARGETS = {
    "bare torch": 1.05,
    "skorch": 0.8,
    "scikit-learn MLP": 0.3,
    "peak_fraction": 0.30,
}


def _settings(quick):
    if quick:
        return {
            "n_rows": 5000,
            "epochs": 3,
            "repeats": 1,
            "threads": (1, 2),
            "batch_sizes": (256,),
            "teachers": ("random forest (300 trees)",),
            "teacher_threads": (1,),
            "batch_study_datasets": (),
        }
    return {
        "n_rows": None,
        "epochs": 10,
        "repeats": 3,
        "threads": (1, 2),
        "batch_sizes": (256, 1024),
        "teachers": ("random forest (300 trees)", "hist gradient boosting"),
        # Two threads for the 200-epoch distillations would add many minutes when
        # other work shares the cores; the loop comparison measures both counts.
        "teacher_threads": (1,),
        "batch_study_datasets": ("satimage", "spambase"),
    }


# --- data ---------------------------------------------------------------------------


def _prepare_data(n_rows):
    X, y, _ = load_dataset(DATASET, n_rows=n_rows)
    classes, y = np.unique(y, return_inverse=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    return X_train, X_test, y_train.astype(np.int64), y_test.astype(np.int64), classes


def _training_tensors(X, y, logits):
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32)
    return {
        "X": torch.from_numpy(X),
        "target": torch.from_numpy(logits.astype(np.float32)),
        "y": torch.from_numpy(y),
        "weight": torch.ones(len(y)),
    }


def _count_parameters(n_features, n_classes):
    widths = (n_features, *HIDDEN_LAYER_SIZES, n_classes)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=False))


# --- the contenders -----------------------------------------------------------------


def _distillation_loss(logits, teacher_logits_, y):
    soft = F.kl_div(
        F.log_softmax(logits / TEMPERATURE, dim=1),
        F.log_softmax(teacher_logits_ / TEMPERATURE, dim=1),
        reduction="batchmean",
        log_target=True,
    )
    return ALPHA * TEMPERATURE**2 * soft + (1 - ALPHA) * F.cross_entropy(logits, y)


def _plain_network(n_features, n_classes):
    layers = []
    width = n_features
    for size in HIDDEN_LAYER_SIZES:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(DROPOUT)]
        width = size
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def _time_skdistill(data, epochs, batch_size):
    torch.manual_seed(0)
    n_features, n_classes = data["X"].shape[1], data["target"].shape[1]
    net = MLPStudent(n_features, n_classes, HIDDEN_LAYER_SIZES, "relu", DROPOUT).net
    output_loss = DistilledClassifier(
        temperature=TEMPERATURE, alpha=ALPHA
    )._output_loss(None)

    def batch_loss(net, batch):
        return output_loss(net(batch["X"]), batch)

    start = time.perf_counter()
    train_network(
        net,
        batch_loss,
        data,
        batch_size=batch_size,
        max_iter=epochs,
        learning_rate_init=LEARNING_RATE,
        weight_decay=WEIGHT_DECAY,
        n_iter_no_change=epochs + 1,
        generator=torch.Generator().manual_seed(0),
    )
    return time.perf_counter() - start


def _time_bare_torch(data, epochs, batch_size):
    torch.manual_seed(0)
    X, target, y = data["X"], data["target"], data["y"]
    net = _plain_network(X.shape[1], target.shape[1])
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY
    )
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(X))
        epoch_loss = 0.0
        for first in range(0, len(X), batch_size):
            rows = order[first : first + batch_size]
            loss = _distillation_loss(net(X[rows]), target[rows], y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * len(rows)
    return time.perf_counter() - start


class _FeaturesOnly(nn.Module):
    """Runs the network on ``X``; skorch passes the teacher's logits alongside."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, X, target):
        return self.net(X)


def _skorch_classifier():
    from skorch import NeuralNetClassifier

    class DistillingNet(NeuralNetClassifier):
        def get_loss(self, y_pred, y_true, X=None, training=False):
            return _distillation_loss(y_pred, X["target"], y_true)

    return DistillingNet


def _time_skorch(data, epochs, batch_size):
    torch.manual_seed(0)
    X, target, y = data["X"], data["target"], data["y"]
    net = _skorch_classifier()(
        _FeaturesOnly(_plain_network(X.shape[1], target.shape[1])),
        max_epochs=epochs,
        batch_size=batch_size,
        optimizer=torch.optim.AdamW,
        lr=LEARNING_RATE,
        optimizer__weight_decay=WEIGHT_DECAY,
        train_split=None,
        iterator_train__shuffle=True,
        classes=np.arange(target.shape[1]),
        verbose=0,
        device="cpu",
    )
    inputs = {"X": X.numpy(), "target": target.numpy()}
    start = time.perf_counter()
    net.fit(inputs, y.numpy())
    return time.perf_counter() - start


def _time_sklearn_mlp(data, epochs, batch_size, dtype=np.float32):
    model = MLPClassifier(
        hidden_layer_sizes=HIDDEN_LAYER_SIZES,
        solver="adam",
        alpha=WEIGHT_DECAY,
        batch_size=batch_size,
        learning_rate_init=LEARNING_RATE,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        tol=0.0,
        shuffle=True,
        random_state=0,
    )
    X, y = data["X"].numpy().astype(dtype), data["y"].numpy()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    elapsed = time.perf_counter() - start
    # n_iter_ is the number of epochs run, which is max_iter here because tol=0 and
    # n_iter_no_change exceeds max_iter.
    return elapsed * epochs / model.n_iter_


def _time_sklearn_mlp_float64(data, epochs, batch_size):
    return _time_sklearn_mlp(data, epochs, batch_size, dtype=np.float64)


CONTENDERS = {
    "skdistill": _time_skdistill,
    "bare torch": _time_bare_torch,
    "skorch": _time_skorch,
    "scikit-learn MLP": _time_sklearn_mlp,
    "scikit-learn MLP, float64": _time_sklearn_mlp_float64,
}


# --- measurements -------------------------------------------------------------------


def measure_matmul_peak(size=PEAK_SIZE, repeats=5):
    """Return the best float32 ``torch.mm`` throughput in GFLOP/s at torch's threads.

    Parameters
    ----------
    size : int, default=2048
        Side of the two square matrices.
    repeats : int, default=5
        Number of timed products after one warm-up product; the fastest counts.

    Returns
    -------
    gflops : float
    """
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator)
    b = torch.randn(size, size, generator=generator)
    torch.mm(a, b)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def _compare_loops(data, settings, threads, batch_size, flops_per_epoch):
    """Time every contender ``repeats`` times, interleaved, and keep the medians."""
    epochs = settings["epochs"]
    times = {name: [] for name in CONTENDERS}
    with threadpool_limits(threads):
        torch.set_num_threads(threads)
        peak = measure_matmul_peak()
        # One epoch of each first, so that no contender pays for lazy initialisation
        # (thread pools, kernels chosen on first use) in its timed runs.
        for contender in CONTENDERS.values():
            contender(data, 1, batch_size)
        for _ in range(settings["repeats"]):
            for name, contender in CONTENDERS.items():
                times[name].append(contender(data, epochs, batch_size) / epochs)
    rows = {}
    for name, seconds in times.items():
        seconds_per_epoch = float(np.median(seconds))
        rows[name] = {
            "ms_per_epoch": 1000 * seconds_per_epoch,
            "ms_per_epoch_all": [1000 * s for s in seconds],
            "gflops": flops_per_epoch / seconds_per_epoch / 1e9,
        }
    return {"threads": threads, "batch_size": batch_size, "peak_gflops": peak, **rows}


def _time_default_fit(X_train, y_train, X_test, y_test, teacher, threads):
    """Distil from a prefit teacher at default settings, timing the soft targets.

    The matmul peak is measured before and after the fit, and the higher value
    counts, so that the fraction of the peak compares the fit with the machine as
    loaded at that time.
    """
    with threadpool_limits(threads):
        torch.set_num_threads(threads)
        peak_before = measure_matmul_peak()
        start = time.perf_counter()
        teacher_logits(teacher, X_train, teacher.classes_)
        soft_target_seconds = time.perf_counter() - start

        model = DistilledClassifier(teacher, random_state=0, n_threads=threads)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        peak = max(peak_before, measure_matmul_peak())
    n_train_rows = len(X_train) - int(np.ceil(model.validation_fraction * len(X_train)))
    return model, {
        "fit_seconds": fit_seconds,
        "soft_target_seconds": soft_target_seconds,
        "training_seconds": fit_seconds - soft_target_seconds,
        "n_iter": model.n_iter_,
        "n_train_rows": n_train_rows,
        "test_accuracy": float(model.score(X_test, y_test)),
        "peak_gflops": peak,
    }


TEACHERS = {
    "random forest (300 trees)": lambda n_jobs: RandomForestClassifier(
        n_estimators=300, n_jobs=n_jobs, random_state=0
    ),
    "hist gradient boosting": lambda n_jobs: HistGradientBoostingClassifier(
        random_state=0
    ),
}


def _teacher_versus_distil(X_train, y_train, X_test, y_test, settings):
    """Fit each teacher, then distil it, at each thread count.

    Returns the table rows and the random forest fitted on one thread, whose soft
    targets feed the loop comparison.
    """
    rows = []
    forest = None
    for threads in settings["teacher_threads"]:
        for name in settings["teachers"]:
            teacher = TEACHERS[name](threads)
            with threadpool_limits(threads):
                start = time.perf_counter()
                teacher.fit(X_train, y_train)
                teacher_seconds = time.perf_counter() - start
            if threads == 1 and isinstance(teacher, RandomForestClassifier):
                forest = teacher
            _, timing = _time_default_fit(
                X_train, y_train, X_test, y_test, teacher, threads
            )
            rows.append(
                {
                    "teacher": name,
                    "threads": threads,
                    "teacher_fit_seconds": teacher_seconds,
                    "teacher_test_accuracy": float(teacher.score(X_test, y_test)),
                    **timing,
                }
            )
    return rows, forest


def _batch_size_study(datasets):
    """Distil a 300-tree forest at each batch size, at default settings otherwise."""
    rows = []
    for name in datasets:
        X, y, _ = load_dataset(name)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=0
        )
        with threadpool_limits(1):
            teacher = RandomForestClassifier(n_estimators=300, random_state=0)
            teacher.fit(X_train, y_train)
            teacher_predictions = teacher.predict(X_test)
            for batch_size in STUDY_BATCH_SIZES:
                start = time.perf_counter()
                model = DistilledClassifier(
                    teacher, batch_size=batch_size, random_state=0, n_threads=1
                ).fit(X_train, y_train)
                seconds = time.perf_counter() - start
                predictions = model.predict(X_test)
                rows.append(
                    {
                        "dataset": name,
                        "batch_size": batch_size,
                        "test_accuracy": float(np.mean(predictions == y_test)),
                        "fidelity": float(np.mean(predictions == teacher_predictions)),
                        "n_iter": model.n_iter_,
                        "fit_seconds": seconds,
                    }
                )
    return rows


def run(quick):
    """Measure the training loop against the other loops and the teachers.

    Parameters
    ----------
    quick : bool
        Fewer epochs, one repeat and no second batch size.

    Returns
    -------
    results : dict
        JSON-serialisable measurements; :func:`render` turns them into markdown.
    """
    settings = _settings(quick)
    environment = describe_environment(COMMAND + (" --quick" if quick else ""))
    previous_threads = torch.get_num_threads()
    X_train, X_test, y_train, y_test, classes = _prepare_data(settings["n_rows"])
    n_params = _count_parameters(X_train.shape[1], len(classes))
    try:
        comparisons = []
        teacher_rows, forest = _teacher_versus_distil(
            X_train, y_train, X_test, y_test, settings
        )
        data = _training_tensors(
            X_train, y_train, teacher_logits(forest, X_train, forest.classes_)
        )
        flops_per_epoch = 6 * n_params * len(X_train)
        for batch_size in settings["batch_sizes"]:
            for threads in settings["threads"]:
                comparisons.append(
                    _compare_loops(data, settings, threads, batch_size, flops_per_epoch)
                )
    finally:
        torch.set_num_threads(previous_threads)
    batch_rows = _batch_size_study(settings["batch_study_datasets"])
    for row in teacher_rows:
        flops = 6 * n_params * row["n_train_rows"] * row["n_iter"]
        row["gflops"] = flops / row["training_seconds"] / 1e9
        row["peak_fraction"] = row["gflops"] / row["peak_gflops"]
    results = {
        "environment": environment,
        "dataset": DATASET,
        "n_train_rows": len(X_train),
        "n_features": X_train.shape[1],
        "n_classes": len(classes),
        "n_parameters": n_params,
        "settings": {
            **settings,
            "threads": list(settings["threads"]),
            "batch_sizes": list(settings["batch_sizes"]),
            "teachers": list(settings["teachers"]),
            "teacher_threads": list(settings["teacher_threads"]),
            "batch_study_datasets": list(settings["batch_study_datasets"]),
        },
        "comparisons": comparisons,
        "teachers": teacher_rows,
        "batch_sizes": batch_rows,
    }
    results["targets"] = check_targets(results)
    return results


def check_targets(results):
    """Compare the default settings (batch size 256, one thread) with the targets.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`, without ``targets``.

    Returns
    -------
    targets : list of dict
        Each with ``target``, ``measured`` (text) and ``met``.
    """
    targets = []
    for row in results["comparisons"]:
        if row["batch_size"] != 256 or row["threads"] != 1:
            continue
        ours = row["skdistill"]["ms_per_epoch"]
        for name in ("bare torch", "skorch", "scikit-learn MLP"):
            ratio = ours / row[name]["ms_per_epoch"]
            targets.append(
                {
                    "target": f"epoch time of skdistill / {name} <= {TARGETS[name]}",
                    "measured": f"{ratio:.2f}",
                    "met": bool(ratio <= TARGETS[name]),
                }
            )
    for row in results["teachers"]:
        if row["threads"] != 1 or not row["teacher"].startswith("random forest"):
            continue
        fraction = row["peak_fraction"]
        targets.append(
            {
                "target": f"training at default settings on {results['dataset']} >= "
                f"{TARGETS['peak_fraction']:.0%} of the matmul peak",
                "measured": f"{fraction:.0%}",
                "met": bool(fraction >= TARGETS["peak_fraction"]),
            }
        )
    return targets


# --- rendering ----------------------------------------------------------------------


def _verdict(value, target, higher_is_better=False):
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "**missed**"


def _render_comparison(row, epochs):
    ours = row["skdistill"]["ms_per_epoch"]
    lines = [
        f"Batch size {row['batch_size']}, {row['threads']} thread(s), {epochs} epochs; "
        f"matmul peak {row['peak_gflops']:.1f} GFLOP/s.",
        "",
        "| loop | ms per epoch | skdistill / loop | target | GFLOP/s | % of peak |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for name in CONTENDERS:
        ms = row[name]["ms_per_epoch"]
        ratio = ours / ms
        target = TARGETS.get(name)
        verdict = "" if target is None else f"<= {target} {_verdict(ratio, target)}"
        gflops = row[name]["gflops"]
        lines.append(
            f"| {name} | {ms:.0f} | {ratio:.2f} | {verdict} | {gflops:.1f} | "
            f"{100 * gflops / row['peak_gflops']:.0f}% |"
        )
    return "\n".join(lines)


def _render_teachers(rows):
    lines = [
        "| teacher | threads | teacher fit (s) | distil (s) | distil / teacher | "
        "epochs | training GFLOP/s | peak GFLOP/s | % of peak (target >= 30%) | "
        "test accuracy teacher / student |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        fraction = row["peak_fraction"]
        verdict = _verdict(fraction, TARGETS["peak_fraction"], higher_is_better=True)
        lines.append(
            f"| {row['teacher']} | {row['threads']} | "
            f"{row['teacher_fit_seconds']:.1f} | {row['fit_seconds']:.1f} | "
            f"{row['fit_seconds'] / row['teacher_fit_seconds']:.2f} | "
            f"{row['n_iter']} | {row['gflops']:.1f} | {row['peak_gflops']:.1f} | "
            f"{100 * fraction:.0f}% {verdict} | "
            f"{row['teacher_test_accuracy']:.4f} / {row['test_accuracy']:.4f} |"
        )
    return "\n".join(lines)


def _render_batch_sizes(rows):
    lines = [
        "| data set | batch size | test accuracy | fidelity | epochs | fit (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['dataset']} | {row['batch_size']} | "
            f"{row['test_accuracy']:.4f} | {row['fidelity']:.4f} | "
            f"{row['n_iter']} | {row['fit_seconds']:.1f} |"
        )
    return "\n".join(lines)


def _render_targets(targets):
    lines = ["| target | measured | verdict |", "|---|---:|---|"]
    for check in targets:
        verdict = "met" if check["met"] else "**missed**"
        lines.append(f"| {check['target']} | {check['measured']} | {verdict} |")
    return "\n".join(lines)


def _mlp_floor_note(results):
    """Say how fast skdistill would have to be to meet the scikit-learn target."""
    notes = []
    for row in results["comparisons"]:
        if row["batch_size"] != 256 or row["threads"] != 1:
            continue
        achieved = row["scikit-learn MLP"]["gflops"]
        needed = achieved / TARGETS["scikit-learn MLP"]
        fraction = needed / row["peak_gflops"]
        notes.append(
            f"With batch size 256 on one thread, the float32 scikit-learn MLP ran at "
            f"{achieved:.1f} GFLOP/s, so 0.3 times its epoch time needs "
            f"{needed:.1f} GFLOP/s, {fraction:.0%} of the measured matmul peak, for "
            "the same FLOPs (skdistill's network adds dropout and a second loss term "
            "on top)."
        )
    return " ".join(notes)


def render(results):
    """Render :func:`run`'s results as markdown, without a top-level heading.

    Parameters
    ----------
    results : dict
        As returned by :func:`run`.

    Returns
    -------
    markdown : str
    """
    epochs = results["settings"]["epochs"]
    parts = [
        render_environment(results["environment"]),
        f"Data: `{results['dataset']}`, {results['n_train_rows']} training rows, "
        f"{results['n_features']} features, {results['n_classes']} classes. Network "
        f"{results['n_features']}-"
        + "-".join(str(size) for size in HIDDEN_LAYER_SIZES)
        + f"-{results['n_classes']}, {results['n_parameters']} parameters, ReLU, "
        f"dropout {DROPOUT}; AdamW with learning rate {LEARNING_RATE} and weight "
        f"decay {WEIGHT_DECAY}.",
        "",
        "### The training loop against other loops",
        "",
        "Every loop trains the same network with the same batch size, optimiser "
        "settings and number of epochs on the same rows, and learns from the same "
        "blend of the forest's soft targets and the labels. `skdistill` is the loop "
        "that `fit` runs after the teacher, without validation rows. `bare torch` "
        "is a hand-written loop: `torch.randperm`, indexing per batch, "
        "`torch.nn.Dropout`, the default `torch.optim.AdamW`, and `loss.item()` per "
        "batch. `skorch` is `NeuralNetClassifier` with the same module and AdamW, "
        "no validation split, shuffled batches, and `get_loss` overridden to compute "
        "the same loss. The scikit-learn `MLPClassifier` (Adam, float32 input) "
        "cannot match everything. It has no dropout and learns from the labels "
        "alone, and its `alpha` is an L2 penalty added to the gradient instead of "
        "AdamW's weight decay. The float64 row shows it on float64 input, its usual "
        "case. "
        f"Each time is the median of {results['settings']['repeats']} runs, "
        "interleaved so that all loops meet the same load, after one untimed epoch "
        "of each. GFLOP/s counts 6 x parameters x rows per epoch (2 FLOPs per "
        "parameter and row forward, 4 backward); the peak is the best of 5 float32 "
        f"`torch.mm` products of two {PEAK_SIZE} x {PEAK_SIZE} matrices at the same "
        "thread count.",
        "",
    ]
    for row in results["comparisons"]:
        parts += [_render_comparison(row, epochs), ""]
    note = _mlp_floor_note(results)
    if note:
        parts += [note, ""]
    parts += [
        "### Time to distil against time to fit the teacher",
        "",
        "Distil: `DistilledClassifier(teacher).fit` at default settings with the "
        "prefit teacher, soft targets included. Training GFLOP/s leaves out the "
        "soft targets, which are timed on their own, and counts the rows left "
        "after the validation split; the validation passes of each epoch count as "
        "time but not as FLOPs. The peak is the higher of two matmul measurements "
        "taken just before and just after the fit.",
        "",
        _render_teachers(results["teachers"]),
        "",
    ]
    if results["batch_sizes"]:
        parts += [
            "### Batch size and accuracy",
            "",
            "The same teacher distilled at each batch size, default settings "
            "otherwise (learning rate 0.001, at most 200 epochs), one thread.",
            "",
            _render_batch_sizes(results["batch_sizes"]),
            "",
        ]
    parts += ["### Targets", "", _render_targets(results["targets"]), ""]
    return "\n".join(parts)
