"""Side-by-side comparison of a teacher and its students: quality, size and speed."""

import pickle
import time

import numpy as np
from sklearn.metrics import accuracy_score

from .metrics import fidelity_score


def saved_size(model):
    """Return the size in bytes of ``model`` pickled with the highest protocol."""
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def median_latency(predict, X, *, repeats):
    """Return the median wall time in seconds of ``repeats`` calls of ``predict(X)``."""
    predict(X)
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        predict(X)
        times[i] = time.perf_counter() - start
    return float(np.median(times))


def compare_models(models, X_test, y_test, *, reference, n_batch_rows=10_000):
    """Measure each model's accuracy, fidelity, saved size and prediction latency.

    Parameters
    ----------
    models : dict of str to fitted classifier
        Models to compare, by display name. Each is measured as it would be saved.
    X_test, y_test : array-like
        Held-out rows and labels.
    reference : str
        Name of the model (the teacher) that fidelity is measured against.
    n_batch_rows : int, default=10000
        Rows of the batch whose latency is reported; test rows are repeated to reach it.

    Returns
    -------
    rows : list of dict
        One dict per model with keys ``model``, ``accuracy``, ``fidelity``,
        ``size_bytes``, ``latency_1_row_s`` and ``latency_batch_s``.
    """
    X_test = np.asarray(X_test)
    reference_pred = models[reference].predict(X_test)
    repeats = -(-n_batch_rows // len(X_test))
    X_batch = np.tile(X_test, (repeats, 1))[:n_batch_rows]
    one_row = X_test[:1]
    rows = []
    for name, model in models.items():
        predicted = model.predict(X_test)
        rows.append(
            {
                "model": name,
                "accuracy": accuracy_score(y_test, predicted),
                "fidelity": fidelity_score(reference_pred, predicted),
                "size_bytes": saved_size(model),
                "latency_1_row_s": median_latency(
                    model.predict_proba, one_row, repeats=50
                ),
                "latency_batch_s": median_latency(
                    model.predict_proba, X_batch, repeats=3
                ),
            }
        )
    return rows


def _format_seconds(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _format_bytes(size):
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024


def format_table(rows, *, n_batch_rows=10_000):
    """Render the rows of :func:`compare_models` as a fixed-width text table."""
    header = (
        "model",
        "accuracy",
        "fidelity",
        "size",
        "1 row",
        f"{n_batch_rows:,} rows",
    )
    body = [
        (
            row["model"],
            f"{row['accuracy']:.4f}",
            f"{row['fidelity']:.4f}",
            _format_bytes(row["size_bytes"]),
            _format_seconds(row["latency_1_row_s"]),
            _format_seconds(row["latency_batch_s"]),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = []
    for line in [header, *body]:
        cells = [line[0].ljust(widths[0])]
        cells += [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
