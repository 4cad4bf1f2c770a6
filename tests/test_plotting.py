import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skdistill import DistilledClassifier
from skdistill.metrics import fidelity_score
from skdistill.plotting import (
    AgreementDisplay,
    ReliabilityDisplay,
    TrainingHistoryDisplay,
    top_label_reliability,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FAST = dict(
    hidden_layer_sizes=(32,),
    batch_size=32,
    max_iter=40,
    n_iter_no_change=5,
    random_state=0,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def wine_split():
    X, y = load_wine(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def fitted(wine_split):
    X_train, _, y_train, _ = wine_split
    teacher = RandomForestClassifier(n_estimators=20, random_state=0)
    return DistilledClassifier(teacher, **FAST).fit(X_train, y_train)


def test_history_from_estimator_plots_recorded_curves(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    epochs = np.arange(1, fitted.n_iter_ + 1)

    training = display.lines_["training loss"]
    np.testing.assert_array_equal(training.get_xdata(), epochs)
    np.testing.assert_allclose(training.get_ydata(), fitted.loss_curve_)
    kd = display.lines_["soft-target term (KD)"]
    np.testing.assert_allclose(kd.get_ydata(), fitted.loss_terms_["kd"])
    ce = display.lines_["hard-target term (CE)"]
    np.testing.assert_allclose(ce.get_ydata(), fitted.loss_terms_["ce"])
    validation = display.lines_["validation loss"]
    np.testing.assert_allclose(validation.get_ydata(), fitted.validation_loss_curve_)
    score = display.lines_["validation accuracy"]
    np.testing.assert_allclose(score.get_ydata(), fitted.validation_scores_)
    assert score.axes is display.score_ax_


def test_history_from_estimator_marks_kept_epoch(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    assert display.kept_epoch == fitted.best_epoch_
    assert len(display.kept_epoch_lines_) == 2
    for line in display.kept_epoch_lines_:
        assert list(line.get_xdata()) == [fitted.best_epoch_, fitted.best_epoch_]
    legend_labels = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert f"kept weights (epoch {fitted.best_epoch_})" in legend_labels


def test_history_from_estimator_draws_two_panels(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    assert len(display.figure_.axes) == 2
    assert display.ax_.get_ylabel() == "loss"
    assert display.score_ax_.get_ylabel() == "validation accuracy"
    assert display.figure_._suptitle.get_text() == (
        "DistilledClassifier of RandomForestClassifier"
    )


def test_history_single_axes_puts_score_on_twin(fitted):
    _, ax = plt.subplots()
    display = TrainingHistoryDisplay.from_estimator(fitted, ax=ax)
    assert display.ax_ is ax
    assert display.score_ax_ is not ax
    assert display.score_ax_.get_shared_x_axes().joined(ax, display.score_ax_)
    # One legend on the twin lists the curves of both axes.
    labels = [text.get_text() for text in display.score_ax_.get_legend().get_texts()]
    assert "training loss" in labels
    assert "validation accuracy" in labels
    assert ax.get_legend() is None


def test_history_two_axes_are_used_in_order(fitted):
    _, axes = plt.subplots(1, 2)
    display = TrainingHistoryDisplay.from_estimator(fitted, ax=axes)
    assert display.ax_ is axes[0]
    assert display.score_ax_ is axes[1]


def test_history_rejects_three_axes(fitted):
    _, axes = plt.subplots(1, 3)
    with pytest.raises(
        ValueError,
        match=r"^ax must be one matplotlib Axes or a sequence of two \(losses, "
        r"validation score\), got a sequence of 3\.$",
    ):
        TrainingHistoryDisplay.from_estimator(fitted, ax=axes)


def test_history_without_terms(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted, show_terms=False)
    assert "soft-target term (KD)" not in display.lines_
    assert "hard-target term (CE)" not in display.lines_
    assert "training loss" in display.lines_


def test_history_without_early_stopping_has_one_panel(wine_split):
    X_train, _, y_train, _ = wine_split
    model = DistilledClassifier(
        RandomForestClassifier(n_estimators=10, random_state=0),
        early_stopping=False,
        **FAST,
    ).fit(X_train, y_train)
    display = TrainingHistoryDisplay.from_estimator(model)
    assert display.score_ax_ is None
    assert len(display.figure_.axes) == 1
    assert "validation loss" not in display.lines_
    # Without early stopping the last weights are kept.
    assert display.kept_epoch == model.n_iter_


def test_history_from_pipeline(wine_split):
    X_train, _, y_train, _ = wine_split
    pipeline = make_pipeline(
        StandardScaler(),
        DistilledClassifier(RandomForestClassifier(n_estimators=10), **FAST),
    ).fit(X_train, y_train)
    display = TrainingHistoryDisplay.from_estimator(pipeline)
    np.testing.assert_allclose(
        display.lines_["training loss"].get_ydata(), pipeline[-1].loss_curve_
    )


def test_history_constructor_with_unknown_term_name():
    display = TrainingHistoryDisplay(
        loss_curve=[1.0, 0.5], loss_terms={"hint": [0.3, 0.2]}
    ).plot()
    assert "hint term" in display.lines_
    assert display.score_ax_ is None
    assert display.kept_epoch_lines_ == []


def test_history_unfitted_raises():
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(DistilledClassifier())


def test_history_of_student_raises(fitted):
    with pytest.raises(
        TypeError,
        match=r"^TrainingHistoryDisplay needs a fitted DistilledClassifier or a "
        r"Pipeline ending in one, but StudentClassifier has no loss_curve_ "
        r"attribute\. A StudentClassifier keeps neither the teacher nor the "
        r"training history; pass the DistilledClassifier it came from\.$",
    ):
        TrainingHistoryDisplay.from_estimator(fitted.to_student())


def test_agreement_from_estimator_matches_confusion_matrix(fitted, wine_split):
    _, X_test, _, _ = wine_split
    display = AgreementDisplay.from_estimator(fitted, X_test)
    teacher_pred = fitted.teacher_.predict(X_test)
    student_pred = fitted.predict(X_test)
    expected = confusion_matrix(teacher_pred, student_pred, labels=fitted.classes_)
    np.testing.assert_array_equal(display.confusion_matrix, expected)
    assert display.fidelity == fidelity_score(teacher_pred, student_pred)
    assert display.ax_.get_xlabel() == "student prediction"
    assert display.ax_.get_ylabel() == "teacher prediction"
    assert display.ax_.get_title() == (
        f"fidelity to the teacher: {display.fidelity:.3f}"
    )
    assert display.text_.shape == (3, 3)
    assert display.text_[0, 0].get_text() == str(expected[0, 0])


def test_agreement_normalize_true_rows_sum_to_one(fitted, wine_split):
    _, X_test, _, _ = wine_split
    display = AgreementDisplay.from_estimator(fitted, X_test, normalize="true")
    np.testing.assert_allclose(display.confusion_matrix.sum(axis=1), 1.0)


def test_agreement_rejects_unknown_normalize():
    with pytest.raises(
        ValueError,
        match=r"^normalize must be one of \('true', 'pred', 'all'\) or None, got "
        r"'rows'\.$",
    ):
        AgreementDisplay.from_predictions([0, 1], [0, 1], normalize="rows")


def test_agreement_rejects_predictions_of_different_length():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        AgreementDisplay.from_predictions([0, 1, 1], [0, 1])


def test_agreement_from_predictions_with_string_labels():
    display = AgreementDisplay.from_predictions(
        ["cat", "dog", "dog", "bird"], ["cat", "dog", "cat", "bird"]
    )
    np.testing.assert_array_equal(display.display_labels, ["bird", "cat", "dog"])
    np.testing.assert_array_equal(
        display.confusion_matrix, [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    )
    assert display.fidelity == 0.75


def test_agreement_from_pipeline_transforms_x(wine_split):
    X_train, X_test, y_train, _ = wine_split
    pipeline = make_pipeline(
        StandardScaler(),
        DistilledClassifier(RandomForestClassifier(n_estimators=10), **FAST),
    ).fit(X_train, y_train)
    display = AgreementDisplay.from_estimator(pipeline, X_test)
    X_scaled = pipeline[0].transform(X_test)
    expected = confusion_matrix(
        pipeline[-1].teacher_.predict(X_scaled), pipeline.predict(X_test)
    )
    np.testing.assert_array_equal(display.confusion_matrix, expected)


def test_agreement_of_student_raises(fitted, wine_split):
    _, X_test, _, _ = wine_split
    with pytest.raises(TypeError, match=r"StudentClassifier has no teacher_"):
        AgreementDisplay.from_estimator(fitted.to_student(), X_test)


def test_reliability_hand_computed_bins():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    confidence, accuracy, counts, error = top_label_reliability(
        [0, 1, 1, 1], proba, [0, 1], n_bins=4
    )
    np.testing.assert_allclose(confidence, [0.65, 0.85])
    np.testing.assert_allclose(accuracy, [1.0, 0.5])
    np.testing.assert_array_equal(counts, [2, 2])
    assert error == pytest.approx(0.5 * 0.35 + 0.5 * 0.35)


def test_reliability_calibrated_predictions_have_zero_error():
    # Four rows at confidence 0.75 of which three are right: calibrated.
    proba = np.tile([0.75, 0.25], (4, 1))
    _, accuracy, _, error = top_label_reliability(
        ["a", "a", "a", "b"], proba, ["a", "b"]
    )
    np.testing.assert_allclose(accuracy, [0.75])
    assert error == pytest.approx(0.0)


def test_reliability_quantile_bins_hold_equal_counts():
    rng = np.random.RandomState(0)
    positive = rng.uniform(size=200)
    y = (rng.uniform(size=200) < positive).astype(int)
    _, _, counts, _ = top_label_reliability(
        y, positive, [0, 1], n_bins=4, strategy="quantile"
    )
    np.testing.assert_array_equal(counts, [50, 50, 50, 50])


def test_reliability_one_dimensional_binary_proba():
    positive = np.array([0.1, 0.7, 0.4, 0.95])
    y = [0, 1, 1, 1]
    flat = top_label_reliability(y, positive, [0, 1], n_bins=5)
    stacked = top_label_reliability(
        y, np.column_stack([1 - positive, positive]), [0, 1], n_bins=5
    )
    for got, expected in zip(flat, stacked, strict=True):
        np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("n_bins", [0, 2.5, True, "10"])
def test_reliability_rejects_bad_n_bins(n_bins):
    with pytest.raises(
        ValueError, match=rf"^n_bins must be an integer >= 1, got {n_bins!r}\.$"
    ):
        top_label_reliability([0, 1], [[0.6, 0.4], [0.2, 0.8]], [0, 1], n_bins=n_bins)


def test_reliability_rejects_unknown_strategy():
    with pytest.raises(
        ValueError,
        match=r"^strategy must be one of \('uniform', 'quantile'\), got 'equal'\.$",
    ):
        top_label_reliability(
            [0, 1], [[0.6, 0.4], [0.2, 0.8]], [0, 1], strategy="equal"
        )


def test_reliability_rejects_column_count_mismatch():
    with pytest.raises(
        ValueError,
        match=r"^proba has shape \(2, 2\), but 3 classes need one column each\.$",
    ):
        top_label_reliability([0, 1], [[0.6, 0.4], [0.2, 0.8]], [0, 1, 2])


def test_reliability_from_estimator_curves(fitted, wine_split):
    _, X_test, _, y_test = wine_split
    display = ReliabilityDisplay.from_estimator(fitted, X_test, y_test, n_bins=5)
    assert set(display.lines_) == {"teacher", "student"}
    confidence, accuracy, _, error = top_label_reliability(
        y_test, fitted.teacher_.predict_proba(X_test), fitted.classes_, n_bins=5
    )
    np.testing.assert_allclose(display.lines_["teacher"].get_xdata(), confidence)
    np.testing.assert_allclose(display.lines_["teacher"].get_ydata(), accuracy)
    assert display.calibration_error["teacher"] == pytest.approx(error)
    labels = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert f"teacher (ECE {error:.3f})" in labels


def test_reliability_teacher_without_predict_proba(wine_split):
    # LinearSVC has only decision_function: its curve uses the softmax of the soft
    # targets the student learned from.
    X_train, X_test, y_train, y_test = wine_split
    pipeline = make_pipeline(
        StandardScaler(),
        DistilledClassifier(LinearSVC(random_state=0), **FAST),
    ).fit(X_train, y_train)
    display = ReliabilityDisplay.from_estimator(pipeline, X_test, y_test)
    model = pipeline[-1]
    decision = model.teacher_.decision_function(pipeline[0].transform(X_test))
    proba = np.exp(decision) / np.exp(decision).sum(axis=1, keepdims=True)
    _, _, _, error = top_label_reliability(y_test, proba, model.classes_)
    assert display.calibration_error["teacher"] == pytest.approx(error)


def test_reliability_from_predictions_rejects_empty_mapping():
    with pytest.raises(
        ValueError,
        match=r"^probas must map at least one model name to its predicted "
        r"probabilities, got an empty mapping\.$",
    ):
        ReliabilityDisplay.from_predictions([0, 1], {})


def test_plot_without_matplotlib_raises(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(
        ImportError,
        match=r"^ReliabilityDisplay.plot needs matplotlib, which is not installed\. "
        r'Install it with pip install "skdistill\[plot\]" or pip install '
        r"matplotlib\.$",
    ):
        ReliabilityDisplay(mean_confidence={}, accuracy={}).plot()


def test_plotting_import_leaves_matplotlib_unloaded():
    code = "import sys, skdistill.plotting; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
