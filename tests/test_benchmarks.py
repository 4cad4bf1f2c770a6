"""The benchmark suite's plumbing on tiny inputs; no test asserts a timing."""

import doctest
import json
import re
import types

import numpy as np
import pytest

from benchmarks import _common, prediction_cost, quality, run, scale

TINY_STUDENT = {"hidden_layer_sizes": (8,), "max_iter": 2, "batch_size": 64}


def _fake_section(results):
    return types.SimpleNamespace(
        run=lambda quick: {**results, "quick": quick},
        render=lambda res: f"rendered quick={res['quick']}",
    )


@pytest.fixture
def fake_sections(monkeypatch):
    modules = {
        "good": _fake_section(
            {"targets": [{"target": "speed >= 2x", "measured": "1.5x", "met": False}]}
        ),
        "absent": None,
    }
    monkeypatch.setattr(run, "_load_section", lambda name: modules.get(name))
    return {"good": "1. Good section", "absent": "2. Absent section"}


def test_common_examples_run():
    results = doctest.testmod(_common)

    assert results.attempted > 0
    assert results.failed == 0


def test_scale_examples_run():
    results = doctest.testmod(scale)

    assert results.attempted > 0
    assert results.failed == 0


def test_markdown_table_aligns_columns():
    table = _common.markdown_table(["a", "b"], [[1, 2]], align="cr")

    assert table == "| a | b |\n|:-:|--:|\n| 1 | 2 |\n"


def test_markdown_table_rejects_short_row():
    with pytest.raises(ValueError, match=re.escape("Row 0 has 1 cells, but the table")):
        _common.markdown_table(["a", "b"], [[1]])


def test_markdown_table_rejects_bad_align():
    message = "align must have one of 'l', 'r' or 'c' per column (2 columns); got 'x'."
    with pytest.raises(ValueError, match=re.escape(message)):
        _common.markdown_table(["a", "b"], [], align="x")


def test_mean_and_spread_ignores_nan():
    assert _common.mean_and_spread([1.0, float("nan"), 3.0]) == (
        2.0,
        pytest.approx(2**0.5),
    )


def test_mean_and_spread_all_nan():
    mean, spread = _common.mean_and_spread([float("nan")])

    assert np.isnan(mean)
    assert np.isnan(spread)


def test_write_json_rejects_unserialisable(tmp_path):
    message = "Benchmark results must be JSON-serialisable; got object."
    with pytest.raises(TypeError, match=re.escape(message)):
        _common.write_json(tmp_path / "out.json", {"value": object()})


def test_peak_memory_sees_allocation():
    with _common.PeakMemory() as memory:
        block = np.ones(5_000_000)

    assert memory.peak_bytes >= 0.9 * block.nbytes


def test_runner_writes_json_and_page(tmp_path, fake_sections):
    page = tmp_path / "page.md"

    code = run.main(
        ["--quick", "--only", "good", "--results", str(tmp_path), "--page", str(page)],
        sections=fake_sections,
    )

    assert code == 0
    record = json.loads((tmp_path / "good.json").read_text())
    assert record["quick"] is True
    assert record["results"]["quick"] is True
    assert record["environment"]["command"].endswith(
        "--only good --results " + str(tmp_path) + " --page " + str(page)
    )
    text = page.read_text()
    assert "## 1. Good section" in text
    assert "rendered quick=True" in text
    assert "Measured on " in text
    assert "| 1. Good section | speed >= 2x | 1.5x | **missed** |" in text
    assert "1 of 1 targets were missed: speed >= 2x (measured 1.5x)" in text


def test_runner_skips_missing_module(tmp_path, fake_sections, capsys):
    code = run.main(["--results", str(tmp_path)], sections=fake_sections)

    assert code == 0
    assert "absent: Skipped: this checkout has no module" in capsys.readouterr().err
    text = (tmp_path / "benchmarks.md").read_text()
    assert "Skipped: this checkout has no module benchmarks/absent.py." in text


def test_runner_keeps_going_after_failure(tmp_path, monkeypatch):
    def fail(quick):
        raise RuntimeError("broken section")

    modules = {
        "bad": types.SimpleNamespace(run=fail, render=str),
        "good": _fake_section({}),
    }
    monkeypatch.setattr(run, "_load_section", lambda name: modules.get(name))

    code = run.main(
        ["--results", str(tmp_path)], sections={"bad": "Bad", "good": "Good"}
    )

    assert code == 1
    text = (tmp_path / "benchmarks.md").read_text()
    assert "The last run of this section failed" in text
    assert "rendered quick=False" in text


def test_runner_passes_n_jobs_when_accepted(tmp_path, monkeypatch):
    calls = []

    def run_section(quick, n_jobs=1):
        calls.append(n_jobs)
        return {}

    module = types.SimpleNamespace(run=run_section, render=lambda results: "")
    monkeypatch.setattr(run, "_load_section", lambda name: module)

    code = run.main(["--results", str(tmp_path)], sections={"jobs": "Jobs"})

    assert code == 0
    assert calls == [run._usable_cpus()]


def test_runner_rejects_unknown_section(capsys):
    with pytest.raises(SystemExit):
        run.main(["--only", "nonsense"])

    assert "invalid choice: 'nonsense'" in capsys.readouterr().err


def test_runner_skips_module_without_run(tmp_path, monkeypatch):
    module = types.SimpleNamespace(main=lambda argv=None: 0)
    monkeypatch.setattr(run, "_load_section", lambda name: module)

    code = run.main(["--results", str(tmp_path)], sections={"script": "Script"})

    assert code == 0
    text = (tmp_path / "benchmarks.md").read_text()
    assert "benchmarks/script.py has no run(quick) and render(results)" in text


def test_runner_standalone_section_needs_only(tmp_path, monkeypatch):
    calls = []

    def section(name):
        def run_section(quick):
            calls.append(name)
            return {}

        return types.SimpleNamespace(run=run_section, render=lambda results: name)

    monkeypatch.setattr(run, "_load_section", section)
    sections = {"quality": "1. Quality", "methods": "7. Methods"}

    assert run.main(["--results", str(tmp_path)], sections=sections) == 0
    assert calls == ["quality"]
    text = (tmp_path / "benchmarks.md").read_text()
    assert run.STANDALONE_SECTIONS["methods"] in text

    assert (
        run.main(["--results", str(tmp_path), "--only", "methods"], sections=sections)
        == 0
    )
    assert calls == ["quality", "methods"]


@pytest.mark.parametrize(
    "name", ["quality", "prediction_cost", "training_speed", "search_cache", "scale"]
)
def test_runner_loads_own_sections(name):
    assert run._is_section(run._load_section(name))


def test_quality_split_on_tiny_student():
    records = quality.evaluate_split(
        "breast_cancer",
        0,
        teachers=(quality.TEACHERS[1],),
        temperatures=(1.0, 2.0),
        alphas=(0.5,),
        methods=[],
        student_params=TINY_STUDENT,
        max_train_rows=200,
    )
    summary = quality.summarise(records)
    results = {
        "datasets": ["breast_cancer"],
        "seeds": [0],
        "test_size": quality.TEST_SIZE,
        "max_train_rows": 200,
        "grid": {"temperature": [1.0, 2.0], "alpha": [0.5]},
        "methods": [],
        "skipped_methods": [],
        "summary": summary,
        "targets": quality.check_targets(summary),
    }

    models = [record["model"] for record in records]
    assert models == [
        quality.TEACHER,
        quality.DEFAULT,
        quality.LABELS_ONLY,
        quality.TUNED,
    ]
    assert all(record["n_train"] == 200 for record in records)
    for record in records[1:]:
        assert 0.0 <= record["accuracy"] <= 1.0
        assert 0.0 <= record["fidelity"] <= 1.0
        assert record["log_loss"] > 0.0
    assert len(results["targets"]) == 4
    text = quality.render(results)
    assert "### Teacher: hist gradient boosting" in text
    assert "| breast_cancer (200 training rows) | teacher |" in text


def test_quality_methods_are_estimator_parameters():
    parameters = quality.DistilledClassifier().get_params()

    for parameter, value in quality.available_methods():
        assert parameter in parameters
        assert value != parameters[parameter]


def test_quality_rejects_unknown_teacher():
    message = "Unknown teacher 'svm'; expected one of"
    with pytest.raises(ValueError, match=re.escape(message)):
        quality.make_teacher("svm", 0)


def test_prediction_cost_on_tiny_budget():
    result = prediction_cost.measure_dataset(
        "breast_cancer", n_batch_rows=50, budget_s=0.0, student_params=TINY_STUDENT
    )
    results = {
        "n_batch_rows": 50,
        "datasets": [result],
        "targets": prediction_cost.check_targets([result]),
    }

    names = [row["model"] for row in result["models"]]
    assert prediction_cost.STUDENT in names
    assert prediction_cost.FOREST_500 in names
    for row in result["models"]:
        assert row["one_row_s"] > 0
        assert row["batch_s"] > 0
        assert row["size_bytes"] > 0
    assert len(results["targets"]) == 4
    assert "**breast_cancer**" in prediction_cost.render(results)


def test_scale_point_in_child_process(tmp_path):
    point = scale.measure_point(
        "make_classification", 2_000, 1, folder=tmp_path, teacher_iterations=5
    )
    results = {
        "epochs": 1,
        "teacher": "teacher",
        "memory_method": point["method"],
        "points": [point],
        "targets": scale.check_targets([point]),
    }

    assert point["n_rows"] == 2_000
    assert point["x_bytes"] == 2_000 * 20 * 8
    assert point["n_iter"] == 1
    for step in scale.STEPS:
        assert point["steps"][step]["time_s"] > 0
        assert point["steps"][step]["peak_bytes"] >= 0
    assert "| 2,000 |" in scale.render(results)


def test_scale_rejects_unknown_family(tmp_path):
    message = "Unknown data family 'iris'; expected 'make_classification' or"
    with pytest.raises(ValueError, match=re.escape(message)):
        scale.measure_point("iris", 100, 1, folder=tmp_path)


def test_runner_render_only_runs_nothing(tmp_path, monkeypatch):
    def fail(quick):
        raise AssertionError("render-only must not run a section")

    module = types.SimpleNamespace(run=fail, render=lambda results: "stored table")
    monkeypatch.setattr(run, "_load_section", lambda name: module)
    _common.write_json(
        tmp_path / "kept.json",
        {
            "section": "kept",
            "quick": False,
            "environment": _common.describe_environment("earlier command"),
            "wall_time_s": 1.0,
            "results": {},
        },
    )

    code = run.main(
        ["--render-only", "--results", str(tmp_path)], sections={"kept": "Kept"}
    )

    assert code == 0
    text = (tmp_path / "benchmarks.md").read_text()
    assert "stored table" in text
    assert "Command: `earlier command`" in text


def test_runner_records_section_command(tmp_path, monkeypatch):
    module = types.SimpleNamespace(
        run=lambda quick: {"environment": {"command": "python -m benchmarks.run"}},
        render=lambda results: "",
    )
    monkeypatch.setattr(run, "_load_section", lambda name: module)

    code = run.main(
        ["--results", str(tmp_path), "--only", "own"], sections={"own": "Own"}
    )

    assert code == 0
    record = json.loads((tmp_path / "own.json").read_text())
    command = "python -m benchmarks.run --results " + str(tmp_path) + " --only own"
    assert record["results"]["environment"]["command"] == command
