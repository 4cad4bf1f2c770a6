import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from benchmarks.methods import (
    BASELINE,
    _categorical_columns,
    _collect,
    _fit_methods,
    render,
)


def _results():
    outputs = [
        (
            "ensemble",
            "iris",
            seed,
            (
                "classification",
                150,
                0.95,
                {
                    BASELINE: (0.90 + 0.02 * seed, 0.95, 1.0),
                    "MUNGE x2": (0.94, 0.97, 2.0),
                },
            ),
        )
        for seed in (0, 1)
    ]
    results = _collect(outputs)
    results["meta"] = {
        "date": "2026-01-01",
        "seeds": [0, 1],
        "max_rows": 1000,
        "n_estimators": 100,
        "n_jobs": 2,
        "cpu_count": 2,
        "sklearn": "1.9",
        "torch": "2.13",
        "minutes": 1.0,
    }
    return results


def test_methods_collect_groups_seeds():
    results = _results()
    entry = results["ensemble"]["iris"]
    assert entry["teacher"] == [0.95, 0.95]
    np.testing.assert_allclose(entry["methods"][BASELINE]["score"], [0.90, 0.92])
    assert results["neural"] == {}


def test_methods_render_cells_and_change():
    markdown = render(_results())
    assert "### Random forest teacher: classification" in markdown
    assert f"| {BASELINE} | 0.910 ± 0.010 / 0.950 | +0.000 / +0.000 |" in markdown
    assert "| MUNGE x2 | 0.940 ± 0.000 / 0.970 | +0.030 / +0.020 |" in markdown
    assert "| teacher | 0.950 | |" in markdown


def test_methods_render_filters_rows():
    markdown = render(_results(), sections=["ensemble"], methods=[BASELINE])
    assert "MUNGE x2" not in markdown
    assert BASELINE in markdown


def test_methods_categorical_columns_finds_codes():
    X = np.column_stack([np.arange(20) % 3, np.linspace(0, 1, 20), np.ones(20)])
    assert _categorical_columns(X) == [0, 2]
    assert _categorical_columns(X[:, 1:2]) is None


def test_methods_fit_methods_scores_each_method():
    X, y = load_iris(return_X_y=True)
    teacher = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    split = (X[::2], X[1::2], y[::2], y[1::2])
    methods = ((BASELINE, {"max_iter": 3}), ("MUNGE", {"augment": "munge"}))
    outcomes = _fit_methods(
        ((name, {**params, "max_iter": 3}) for name, params in methods),
        "classification",
        teacher,
        split,
        0,
    )
    assert set(outcomes) == {BASELINE, "MUNGE"}
    score, fidelity, seconds = outcomes["MUNGE"]
    assert 0.0 <= score <= 1.0
    assert 0.0 <= fidelity <= 1.0
    assert seconds > 0
