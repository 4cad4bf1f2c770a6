import io
import json
import pickle
import pickletools
import warnings
import zipfile

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, DistilledRegressor, StudentClassifier

sio = pytest.importorskip(
    "skops.io", reason='needs the export extra: pip install "skdistill[export]"'
)
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

from skdistill.export import load, trusted_types  # noqa: E402

FAST = dict(
    hidden_layer_sizes=(16, 8),
    batch_size=32,
    max_iter=15,
    n_iter_no_change=5,
    random_state=0,
)
DISTILLED_TYPE = "skdistill._classifier.DistilledClassifier"
STUDENT_TYPE = "skdistill._classifier.StudentClassifier"


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    names = np.array(["barolo", "grignolino", "barbera"])
    return X, names[y]


@pytest.fixture(scope="module")
def model(wine):
    X, y = wine
    teacher = RandomForestClassifier(n_estimators=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return DistilledClassifier(teacher, **FAST).fit(X, y)


def _round_trip(obj, method, path):
    if method == "pickle":
        path.write_bytes(pickle.dumps(obj))
        return pickle.loads(path.read_bytes())
    if method == "joblib":
        joblib.dump(obj, path)
        return joblib.load(path)
    sio.dump(obj, path)
    return load(path, trusted=["sklearn.tree._tree.Tree"])


def _torch_objects(value, path="state"):
    """Return the paths of every torch object nested in dicts, lists and tuples."""
    if isinstance(value, (torch.Tensor, torch.nn.Module, torch.device)):
        return [path]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        found += _torch_objects(item, f"{path}[{key!r}]")
    return found


@pytest.mark.parametrize("method", ["pickle", "joblib", "skops"])
@pytest.mark.parametrize("kind", ["distilled", "student"])
def test_round_trip_identical_predictions(model, wine, tmp_path, method, kind):
    X, _ = wine
    original = model if kind == "distilled" else model.to_student()
    loaded = _round_trip(original, method, tmp_path / "model.bin")
    assert type(loaded) is type(original)
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    np.testing.assert_array_equal(loaded.classes_, original.classes_)


@pytest.mark.parametrize("method", ["pickle", "joblib", "skops"])
def test_round_trip_rebuilds_student_module(model, wine, tmp_path, method):
    X, _ = wine
    loaded = _round_trip(model, method, tmp_path / "model.bin")
    inputs = torch.as_tensor(X, dtype=torch.float32)
    assert not loaded.student_.training
    with torch.no_grad():
        assert torch.equal(loaded.student_(inputs), model.student_(inputs))
    for name, tensor in loaded.student_.state_dict().items():
        assert tensor.device.type == "cpu", name


def test_saved_state_holds_no_torch_objects(model):
    state = model.__getstate__()
    assert "student_" not in state
    assert _torch_objects(state) == []
    assert "student_" in model.__dict__


def test_pickle_references_no_torch_global(model):
    strings = [
        arg
        for _, arg, _ in pickletools.genops(pickle.dumps(model))
        if isinstance(arg, str)
    ]
    assert not [text for text in strings if text.startswith("torch")]


def test_gpu_trained_student_loads_without_device(model, wine, tmp_path):
    # Without a GPU, the meta device takes its place. Its tensors hold no data, so
    # a file that stored the module itself could not rebuild the weights. Loading
    # must give the same predictions from the numpy arrays.
    X, _ = wine
    gpu_like = pickle.loads(pickle.dumps(model))
    gpu_like.student_.to("meta")
    gpu_like.device_ = "cuda:0"
    for method in ("pickle", "joblib", "skops"):
        loaded = _round_trip(gpu_like, method, tmp_path / f"model.{method}")
        assert loaded.student_.net[0].weight.device.type == "cpu"
        assert loaded.device_ == "cuda:0"
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_trained_student_state_is_on_cpu(wine):
    X, y = wine
    trained = DistilledClassifier(LogisticRegression(), device="cuda", **FAST).fit(X, y)
    assert trained.device_.startswith("cuda")
    loaded = pickle.loads(pickle.dumps(trained))
    assert loaded.student_.net[0].weight.device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), trained.predict_proba(X))


def test_loading_keeps_torch_random_state(model):
    data = pickle.dumps(model)
    before = torch.get_rng_state()
    pickle.loads(data)
    assert torch.equal(torch.get_rng_state(), before)


def test_unfitted_estimator_round_trips(tmp_path):
    model = DistilledClassifier(LogisticRegression(), alpha=0.3)
    loaded = _round_trip(model, "skops", tmp_path / "model.skops")
    assert loaded.get_params()["alpha"] == 0.3
    assert not hasattr(loaded, "student_")


def test_trusted_types_are_library_estimators():
    assert trusted_types() == [
        DISTILLED_TYPE,
        STUDENT_TYPE,
        "skdistill._regressor.DistilledRegressor",
        "skdistill._regressor.StudentRegressor",
        "numpy.dtype",
    ]


@pytest.mark.parametrize("method", ["pickle", "joblib", "skops"])
def test_regressor_round_trip_identical_predictions(tmp_path, method):
    X, y = load_diabetes(return_X_y=True)
    teacher = RandomForestRegressor(n_estimators=10, random_state=0)
    model = DistilledRegressor(teacher, **FAST).fit(X, y)
    for original in (model, model.to_student()):
        loaded = _round_trip(original, method, tmp_path / "model.bin")
        assert type(loaded) is type(original)
        np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    assert sio.get_untrusted_types(data=sio.dumps(model.to_student())) == [
        "skdistill._regressor.StudentRegressor"
    ]


def test_skops_student_needs_only_library_type(model):
    data = sio.dumps(model.to_student())
    assert sio.get_untrusted_types(data=data) == [STUDENT_TYPE]


def test_skops_student_pipeline_needs_only_library_type(wine):
    X, y = wine
    pipeline = make_pipeline(
        StandardScaler(), DistilledClassifier(LogisticRegression(), **FAST)
    ).fit(X, y)
    student = make_pipeline(pipeline[0], pipeline[-1].to_student())
    data = sio.dumps(student)
    assert sio.get_untrusted_types(data=data) == [STUDENT_TYPE]
    loaded = load(io.BytesIO(data))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


def test_skops_linear_teacher_needs_only_library_type(wine):
    X, y = wine
    model = DistilledClassifier(LogisticRegression(max_iter=200), **FAST).fit(X, y)
    data = sio.dumps(model)
    assert sio.get_untrusted_types(data=data) == [DISTILLED_TYPE]
    np.testing.assert_array_equal(
        load(io.BytesIO(data)).predict_proba(X), model.predict_proba(X)
    )


def test_skops_tree_teacher_needs_explicit_trust(model):
    data = sio.dumps(model)
    assert sio.get_untrusted_types(data=data) == [
        DISTILLED_TYPE,
        "sklearn.tree._tree.Tree",
    ]
    with pytest.raises(UntrustedTypesFoundException, match=r"sklearn\.tree\._tree"):
        load(io.BytesIO(data))
    loaded = load(io.BytesIO(data), trusted="sklearn.tree._tree.Tree")
    assert loaded.teacher_.n_estimators == 10


def _tamper(data, edit):
    """Return the skops archive ``data`` with ``edit(schema)`` applied to its schema."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(files["schema.json"])
    edit(schema)
    files["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_load_rejects_tampered_file(model, tmp_path):
    # The activation name is swapped for os.system, a function that runs shell
    # commands. skops must reject the file before building any object.
    def inject_system(schema):
        schema["content"]["content"]["activation_"] = {
            "__class__": "system",
            "__module__": "os",
            "__loader__": "TypeNode",
            "__id__": 1,
        }

    path = tmp_path / "tampered.skops"
    path.write_bytes(_tamper(sio.dumps(model.to_student()), inject_system))

    assert sio.get_untrusted_types(file=path) == ["os.system", STUDENT_TYPE]
    with pytest.raises(UntrustedTypesFoundException, match=r"\['os\.system'\]"):
        load(path)
    with pytest.raises(UntrustedTypesFoundException, match="os.system"):
        sio.load(path)


def test_load_rejects_unknown_root_type(model, tmp_path):
    def replace_class(schema):
        schema["__module__"], schema["__class__"] = "subprocess", "Popen"

    path = tmp_path / "tampered.skops"
    path.write_bytes(_tamper(sio.dumps(model.to_student()), replace_class))
    assert sio.get_untrusted_types(file=path) == ["subprocess.Popen"]
    with pytest.raises(UntrustedTypesFoundException, match=r"subprocess\.Popen"):
        load(path)


def test_student_pickle_is_smaller_than_model(model):
    assert len(pickle.dumps(model.to_student())) < len(pickle.dumps(model)) / 2
    assert isinstance(model.to_student(), StudentClassifier)
