import numpy as np
import pytest
from sklearn.datasets import load_iris

from benchmarks import search_cache


def _search_row(cache, n_jobs, seconds, fits, mean_fit=1.0, median_fit=0.5):
    return {
        "cache": cache,
        "n_jobs": n_jobs,
        "seconds": seconds,
        "teacher_fits": fits,
        "fitting_processes": n_jobs,
        "mean_fit_seconds": mean_fit,
        "median_fit_seconds": median_fit,
    }


def test_expected_speedup_values():
    assert search_cache._expected_speedup(1.0, 0.0) == pytest.approx(25.0)
    assert search_cache._expected_speedup(1.0, 1.0) == pytest.approx(250 / 130)
    assert search_cache._expected_speedup(0.0, 1.0) == pytest.approx(1.0)


def test_counting_forest_logs_each_fit(tmp_path):
    X, y = load_iris(return_X_y=True)
    log_path = str(tmp_path / "fits.log")
    forest = search_cache.CountingRandomForest(n_estimators=3, log_path=log_path)
    forest.fit(X, y)
    forest.fit(X, y)
    assert search_cache._count_fits(log_path) == (2, 1)
    assert np.mean(forest.predict(X) == y) > 0.9


def test_count_fits_without_log(tmp_path):
    assert search_cache._count_fits(str(tmp_path / "missing.log")) == (0, 0)


def test_check_targets_flags_missed_speedup():
    searches = [_search_row("off", 1, 100.0, 125), _search_row("memory", 1, 40.0, 5)]
    targets = search_cache.check_targets(searches)
    assert [check["met"] for check in targets] == [True, False]
    assert targets[1]["measured"] == "2.50x"


def test_fit_time_split_from_searches():
    searches = [
        _search_row("off", 1, 100.0, 125, mean_fit=1.3),
        _search_row("memory", 1, 60.0, 5, median_fit=0.5),
    ]
    teacher, student = search_cache._fit_time_split(searches)
    assert teacher == pytest.approx(0.8)
    assert student == pytest.approx(0.5)


def test_render_lists_every_search():
    searches = [
        _search_row("off", 1, 100.0, 125, mean_fit=1.3),
        _search_row("memory", 1, 50.0, 5),
        _search_row("memory", 2, 40.0, 10),
    ]
    results = {
        "environment": {
            "date": "2025-01-01T00:00:00+00:00",
            "command": "python -m benchmarks.run",
            "python": "3.11",
            "versions": {"joblib": "1.6.0"},
            "cpu": "test CPU",
            "logical_cpus": 2,
            "usable_cpus": 2,
            "platform": "Linux",
            "load_average": None,
        },
        "dataset": "breast_cancer",
        "n_train_rows": 455,
        "n_features": 30,
        "n_estimators": 300,
        "searches": searches,
        "targets": search_cache.check_targets(searches),
    }
    text = search_cache.render(results)
    assert "| off | 1 | 125 | 1 | 100.0 | 1.00x |" in text
    assert "| memory | 1 | 5 | 1 | 50.0 | 2.00x |" in text
    assert "| memory | 2 | 10 | 2 | 40.0 | 2.50x |" in text
    assert "| cached search >= 5x faster than uncached | 2.00x | **missed** |" in text
