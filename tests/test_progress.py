import re

import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from skdistill import DistilledClassifier
from skdistill._progress import progress, timed_step
from skdistill.ensemble import teacher_logits

FAST = dict(
    hidden_layer_sizes=(16,),
    batch_size=32,
    max_iter=8,
    n_iter_no_change=50,
    random_state=0,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def forest(iris):
    X, y = iris
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)


def test_fit_verbose_0_writes_nothing(iris, capsys):
    X, y = iris
    DistilledClassifier(RandomForestClassifier(n_estimators=5), **FAST).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_fit_verbose_1_shows_bar_on_stderr_only(iris, capsys):
    X, y = iris
    DistilledClassifier(RandomForestClassifier(n_estimators=5), verbose=1, **FAST).fit(
        X, y
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "distilling" in captured.err
    assert "epoch" in captured.err
    assert "val_score=" in captured.err


def test_fit_verbose_2_prints_steps_and_epochs(iris, capsys):
    X, y = iris
    model = DistilledClassifier(
        RandomForestClassifier(n_estimators=5), verbose=2, **FAST
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"fitted the teacher RandomForestClassifier in \d+\.\d\d s", lines[0]
    )
    assert re.fullmatch(
        r"computed the soft targets of RandomForestClassifier in \d+\.\d\d s",
        lines[1],
    )
    epoch_lines = lines[2:]
    assert len(epoch_lines) == model.n_iter_
    assert re.fullmatch(
        r"epoch 1: loss=\d+\.\d{4}, val_loss=\d+\.\d{4}, val_score=\d\.\d{4}",
        epoch_lines[0],
    )


def test_fit_verbose_2_prefit_teacher_skips_fit_line(iris, forest, capsys):
    X, y = iris
    DistilledClassifier(forest, verbose=2, **FAST).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("fitted the teacher") for line in lines)
    assert lines[0].startswith("computed the soft targets of RandomForestClassifier")


def test_teacher_logits_bar_over_chunks(iris, forest, capsys):
    X, _ = iris
    logits = teacher_logits(forest, X, chunk_size=50, verbose=1)
    captured = capsys.readouterr()
    assert logits.shape == (150, 3)
    assert captured.out == ""
    assert "soft targets" in captured.err
    assert "/3" in captured.err


def test_teacher_logits_one_chunk_shows_no_bar(iris, forest, capsys):
    X, _ = iris
    teacher_logits(forest, X, verbose=1)
    assert capsys.readouterr().err == ""


def test_progress_yields_every_item(capsys):
    items = list(progress(range(5), desc="work", unit="step", verbose=1))
    assert items == [0, 1, 2, 3, 4]
    assert "work" in capsys.readouterr().err


def test_progress_quiet_at_verbose_0(capsys):
    assert list(progress([1, 2, 3], desc="work", unit="step", verbose=0)) == [1, 2, 3]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


@pytest.mark.parametrize("verbose", [0, 1])
def test_timed_step_silent_below_verbose_2(verbose, capsys):
    with timed_step("did the work", verbose):
        pass
    assert capsys.readouterr().out == ""


def test_timed_step_prints_duration_at_verbose_2(capsys):
    with timed_step("did the work", 2):
        pass
    assert re.fullmatch(r"did the work in \d+\.\d\d s\n", capsys.readouterr().out)
