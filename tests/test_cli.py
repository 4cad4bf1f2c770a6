import subprocess
import sys

import pytest

from skdistill import cli


def test_run_demo_compares_three_models():
    rows = cli.run_demo("breast_cancer", n_estimators=20, random_state=0)
    assert [row["model"] for row in rows] == [
        "random forest (20 trees)",
        "distilled MLP student",
        "same MLP, labels only",
    ]
    assert rows[0]["fidelity"] == 1.0
    for row in rows:
        assert 0.85 < row["accuracy"] <= 1.0
        assert row["size_bytes"] > 0
        assert row["latency_1_row_s"] > 0


def test_main_prints_table(capsys):
    assert cli.main(["--dataset", "breast_cancer", "--n-estimators", "10"]) == 0
    out = capsys.readouterr().out
    assert "random forest (10 trees)" in out
    assert "distilled MLP student" in out
    assert "10,000 rows" in out


def test_module_help_runs_as_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "skdistill", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: skdistill" in result.stdout


def test_main_rejects_unknown_dataset(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--dataset", "mnist"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'mnist'" in capsys.readouterr().err
