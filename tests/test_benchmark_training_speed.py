import numpy as np
import pytest

from benchmarks import training_speed
from skdistill._student import MLPStudent


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 5))
    y = rng.integers(0, 3, size=96)
    logits = rng.normal(size=(96, 3))
    return training_speed._training_tensors(X, y, logits)


def _comparison_row(batch_size, threads, skdistill_ms, others_ms, peak=100.0):
    row = {"batch_size": batch_size, "threads": threads, "peak_gflops": peak}
    row["skdistill"] = {"ms_per_epoch": skdistill_ms, "gflops": 10.0}
    for name in list(training_speed.CONTENDERS)[1:]:
        row[name] = {"ms_per_epoch": others_ms, "gflops": 10.0}
    return row


def test_count_parameters_matches_student():
    student = MLPStudent(16, 26, training_speed.HIDDEN_LAYER_SIZES)
    expected = sum(p.numel() for p in student.net.parameters())
    assert training_speed._count_parameters(16, 26) == expected


@pytest.mark.parametrize("name", list(training_speed.CONTENDERS))
def test_contender_trains_tiny_data(tiny_data, name):
    seconds = training_speed.CONTENDERS[name](tiny_data, 1, 32)
    assert seconds > 0


def test_measure_matmul_peak_positive():
    assert training_speed.measure_matmul_peak(size=64, repeats=2) > 0


def test_check_targets_reads_default_settings():
    results = {
        "dataset": "letter",
        "comparisons": [
            _comparison_row(256, 1, skdistill_ms=100.0, others_ms=200.0),
            _comparison_row(256, 2, skdistill_ms=900.0, others_ms=100.0),
        ],
        "teachers": [
            {"teacher": "random forest (300 trees)", "threads": 1, "peak_fraction": 0.4}
        ],
    }
    targets = training_speed.check_targets(results)
    assert [check["met"] for check in targets] == [True, True, False, True]
    assert targets[0]["measured"] == "0.50"
    assert targets[3]["measured"] == "40%"


def test_render_contains_every_table():
    results = {
        "environment": {
            "date": "2025-01-01T00:00:00+00:00",
            "command": "python -m benchmarks.run",
            "python": "3.11",
            "versions": {"torch": "2.13.0"},
            "cpu": "test CPU",
            "logical_cpus": 2,
            "usable_cpus": 2,
            "platform": "Linux",
            "load_average": [0.0, 0.0, 0.0],
        },
        "dataset": "letter",
        "n_train_rows": 16000,
        "n_features": 16,
        "n_classes": 26,
        "n_parameters": 76826,
        "settings": {"epochs": 10, "repeats": 3},
        "comparisons": [_comparison_row(256, 1, 100.0, 200.0)],
        "teachers": [
            {
                "teacher": "random forest (300 trees)",
                "threads": 1,
                "teacher_fit_seconds": 10.0,
                "fit_seconds": 30.0,
                "n_iter": 200,
                "gflops": 40.0,
                "peak_gflops": 100.0,
                "peak_fraction": 0.4,
                "teacher_test_accuracy": 0.96,
                "test_accuracy": 0.97,
            }
        ],
        "batch_sizes": [
            {
                "dataset": "spambase",
                "batch_size": 512,
                "test_accuracy": 0.95,
                "fidelity": 0.96,
                "n_iter": 80,
                "fit_seconds": 5.0,
            }
        ],
    }
    results["targets"] = training_speed.check_targets(results)
    text = training_speed.render(results)
    assert "| skdistill | 100 | 1.00 |" in text
    assert "| bare torch | 200 | 0.50 | <= 1.05 met |" in text
    assert "| random forest (300 trees) | 1 | 10.0 | 30.0 | 3.00 | 200 |" in text
    assert "| spambase | 512 | 0.9500 | 0.9600 | 80 | 5.0 |" in text
    assert "### Targets" in text
