import os
import pickle
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skdistill import (
    DistilledClassifier,
    DistilledRegressor,
    clear_teacher_cache,
    set_teacher_cache_max_bytes,
    teacher_cache_info,
)
from skdistill._teacher_cache import (
    DEFAULT_MAX_BYTES,
    _InProcessStore,
    fit_teacher,
    is_cacheable,
)

FAST = dict(
    hidden_layer_sizes=(16,),
    batch_size=32,
    max_iter=3,
    n_iter_no_change=5,
    early_stopping=False,
)


class CountingForest(RandomForestClassifier):
    """A random forest that counts its fits in a class attribute of this process."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


class CountingForestRegressor(RandomForestRegressor):
    """A regression forest that counts its fits in a class attribute."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


class FileCountingForest(RandomForestClassifier):
    """A random forest that appends a line to ``log_path`` on every fit.

    The file counts fits across processes, where a class attribute cannot.
    """

    def __init__(self, n_estimators=5, *, random_state=None, log_path=None):
        super().__init__(n_estimators=n_estimators, random_state=random_state)
        self.log_path = log_path

    def fit(self, X, y, sample_weight=None):
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")
        return super().fit(X, y, sample_weight=sample_weight)


TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

CHILD_FIT = """
import os, pickle, sys
import numpy as np
print(os.getpid())
with open(sys.argv[1], "rb") as job:
    model, X, y = pickle.load(job)
np.save(sys.argv[2], model.fit(X, y).predict_proba(X))
"""


@pytest.fixture(autouse=True)
def _empty_cache():
    clear_teacher_cache()
    CountingForest.n_fits = 0
    CountingForestRegressor.n_fits = 0
    previous = set_teacher_cache_max_bytes(DEFAULT_MAX_BYTES)
    yield
    set_teacher_cache_max_bytes(previous)
    clear_teacher_cache()


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _model(teacher=None, **params):
    if teacher is None:
        teacher = CountingForest(n_estimators=5)
    return DistilledClassifier(teacher, **{**FAST, "random_state": 0, **params})


def test_teacher_cache_second_fit_reuses_teacher(iris):
    X, y = iris
    first = _model().fit(X, y)
    second = _model(temperature=4.0).fit(X, y)
    assert CountingForest.n_fits == 1
    assert teacher_cache_info().hits == 1
    assert teacher_cache_info().misses == 1
    assert second.teacher_ is not first.teacher_
    np.testing.assert_array_equal(
        second.teacher_.predict_proba(X), first.teacher_.predict_proba(X)
    )


def test_teacher_cache_gives_same_model_as_new_fit(iris):
    X, y = iris
    _model().fit(X, y)
    cached = _model().fit(X, y)
    uncached = _model(teacher_cache=False).fit(X, y)
    assert teacher_cache_info().hits == 1
    np.testing.assert_array_equal(cached.predict_proba(X), uncached.predict_proba(X))


def test_teacher_cache_grid_search_fits_once_per_fold(iris):
    X, y = iris
    search = GridSearchCV(
        _model(), {"temperature": [1.0, 2.0, 4.0], "alpha": [0.3, 0.7]}, cv=3
    )
    search.fit(X, y)
    # Six candidates on three folds share three teachers; the refit on all rows
    # adds the fourth.
    assert CountingForest.n_fits == 4
    assert teacher_cache_info().hits == 15


def test_teacher_cache_survives_clone(iris):
    X, y = iris
    model = _model()
    model.fit(X, y)
    clone(model).fit(X, y)
    assert CountingForest.n_fits == 1


@pytest.mark.parametrize(
    "change",
    ["rows", "targets", "sample_weight", "teacher_params", "random_state"],
)
def test_teacher_cache_misses_on_any_change(iris, change):
    X, y = iris
    _model().fit(X, y)
    X2, y2, weights, model = X, y, None, _model()
    if change == "rows":
        X2 = X + 1e-9
    elif change == "targets":
        y2 = np.where(y == 2, 1, y)
    elif change == "sample_weight":
        weights = np.linspace(0.5, 1.5, len(y))
    elif change == "teacher_params":
        model = _model(CountingForest(n_estimators=6))
    else:
        model = _model(random_state=1)
    model.fit(X2, y2, sample_weight=weights)
    assert CountingForest.n_fits == 2
    assert teacher_cache_info().hits == 0


def test_teacher_cache_skips_unseeded_teacher(iris):
    X, y = iris
    model = DistilledClassifier(CountingForest(n_estimators=5), **FAST)
    model.fit(X, y)
    model.fit(X, y)
    assert CountingForest.n_fits == 2
    assert teacher_cache_info().misses == 0


def test_teacher_cache_seeded_teacher_without_estimator_seed(iris):
    X, y = iris
    teacher = CountingForest(n_estimators=5, random_state=3)
    DistilledClassifier(teacher, **FAST).fit(X, y)
    DistilledClassifier(teacher, **FAST).fit(X, y)
    assert CountingForest.n_fits == 1


@pytest.mark.parametrize("off", [False, np.False_])
def test_teacher_cache_false_fits_every_time(iris, off):
    X, y = iris
    _model(teacher_cache=off).fit(X, y)
    _model(teacher_cache=off).fit(X, y)
    assert CountingForest.n_fits == 2
    assert teacher_cache_info() == (0, 0, 0, 0, DEFAULT_MAX_BYTES)


def test_teacher_cache_numpy_true_uses_memory(iris):
    X, y = iris
    _model(teacher_cache=np.True_).fit(X, y)
    _model(teacher_cache=np.True_).fit(X, y)
    assert CountingForest.n_fits == 1
    assert teacher_cache_info().hits == 1


def test_teacher_cache_prefit_teacher_bypasses_cache(iris):
    X, y = iris
    teacher = CountingForest(n_estimators=5, random_state=0).fit(X, y)
    model = _model(teacher).fit(X, y)
    assert model.teacher_ is teacher
    assert CountingForest.n_fits == 1
    assert teacher_cache_info().misses == 0


def test_teacher_cache_hit_is_independent_copy(iris):
    X, y = iris
    first = _model().fit(X, y)
    first.teacher_.estimators_.clear()
    second = _model().fit(X, y)
    assert len(second.teacher_.estimators_) == 5


def test_teacher_cache_evicts_least_recently_used():
    store = _InProcessStore(max_bytes=10**9)
    teachers = {
        key: RandomForestClassifier(n_estimators=2, random_state=key).fit(
            *load_iris(return_X_y=True)
        )
        for key in range(3)
    }
    size = len(pickle.dumps(teachers[0], protocol=pickle.HIGHEST_PROTOCOL))
    store.max_bytes = 2 * size + size // 2
    store.put(0, teachers[0])
    store.put(1, teachers[1])
    assert store.get(0) is not None
    store.put(2, teachers[2])
    assert store.get(1) is None
    assert store.get(0) is not None
    assert store.get(2) is not None
    assert store.n_bytes <= store.max_bytes


def test_teacher_cache_skips_teacher_above_limit(iris):
    X, y = iris
    set_teacher_cache_max_bytes(1000)
    _model().fit(X, y)
    _model().fit(X, y)
    info = teacher_cache_info()
    assert CountingForest.n_fits == 2
    assert info.n_entries == 0
    assert info.n_bytes == 0


def test_teacher_cache_lowering_limit_evicts(iris):
    X, y = iris
    _model().fit(X, y)
    assert teacher_cache_info().n_entries == 1
    previous = set_teacher_cache_max_bytes(0)
    assert previous == DEFAULT_MAX_BYTES
    assert teacher_cache_info().n_entries == 0


def test_teacher_cache_clear_resets_counts(iris):
    X, y = iris
    _model().fit(X, y)
    _model().fit(X, y)
    clear_teacher_cache()
    assert teacher_cache_info() == (0, 0, 0, 0, DEFAULT_MAX_BYTES)


@pytest.mark.parametrize("as_memory", [False, True])
def test_teacher_cache_on_disk(iris, tmp_path, as_memory):
    X, y = iris
    cache = joblib.Memory(tmp_path, verbose=0) if as_memory else str(tmp_path)
    first = _model(teacher_cache=cache).fit(X, y)
    second = _model(teacher_cache=cache, alpha=0.9).fit(X, y)
    assert CountingForest.n_fits == 1
    assert teacher_cache_info().misses == 0
    np.testing.assert_array_equal(
        first.teacher_.predict_proba(X), second.teacher_.predict_proba(X)
    )


def test_teacher_cache_on_disk_crosses_processes(iris, tmp_path):
    X, y = iris
    log_path = str(tmp_path / "fits.log")
    model = _model(FileCountingForest(log_path=log_path), teacher_cache=tmp_path)
    job_path = tmp_path / "job.pkl"
    with open(job_path, "wb") as job:
        pickle.dump((clone(model), X, y), job)
    # The child process unpickles this module's FileCountingForest by name.
    child = subprocess.run(
        [sys.executable, "-c", CHILD_FIT, str(job_path), str(tmp_path / "out.npy")],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([TESTS_DIR, *sys.path])},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr
    proba = model.fit(X, y).predict_proba(X)
    with open(log_path, encoding="utf-8") as log:
        fitting_processes = log.read().split()
    assert fitting_processes == [child.stdout.strip()]
    np.testing.assert_array_equal(proba, np.load(tmp_path / "out.npy"))


def test_teacher_cache_skips_unpicklable_parameter(iris):
    X, y = iris
    teacher = make_pipeline(
        FunctionTransformer(lambda X: X), CountingForest(n_estimators=5)
    )
    _model(teacher).fit(X, y)
    _model(teacher).fit(X, y)
    assert CountingForest.n_fits == 2
    assert teacher_cache_info().misses == 0


def test_is_cacheable_cases():
    assert is_cacheable(RandomForestClassifier(random_state=0))
    assert is_cacheable(RandomForestClassifier(random_state=np.random.RandomState(0)))
    assert is_cacheable(StandardScaler())
    assert not is_cacheable(RandomForestClassifier())
    assert not is_cacheable(make_pipeline(StandardScaler(), RandomForestClassifier()))


def test_is_cacheable_rejects_code_from_main():
    main_class = type("Teacher", (RandomForestClassifier,), {"__module__": "__main__"})
    assert not is_cacheable(main_class(random_state=0))

    def transform(X):
        return X

    transform.__module__ = "__main__"
    teacher = make_pipeline(
        FunctionTransformer(transform), RandomForestClassifier(random_state=0)
    )
    assert not is_cacheable(teacher)


def test_fit_teacher_passes_sample_weight(iris):
    X, y = iris
    weights = np.where(y == 0, 3.0, 1.0)
    teacher = fit_teacher(RandomForestClassifier(random_state=0), X, y, weights, True)
    expected = RandomForestClassifier(random_state=0).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(teacher.predict_proba(X), expected.predict_proba(X))


@pytest.mark.parametrize("value", [3, 0.5, ["cache"]])
def test_teacher_cache_rejects_bad_parameter(iris, value):
    X, y = iris
    with pytest.raises(InvalidParameterError, match="The 'teacher_cache' parameter"):
        _model(teacher_cache=value).fit(X, y)


@pytest.mark.parametrize("value", [-1, 1.5, True, "1GB"])
def test_set_teacher_cache_max_bytes_rejects_bad_value(value):
    message = (
        f"max_bytes must be an integer >= 0, got {value!r}. Pass the size limit in "
        "bytes, for example 2 * 2**30 for 2 GiB."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        set_teacher_cache_max_bytes(value)


def test_teacher_cache_regressor_reuses_teacher():
    X, y = load_diabetes(return_X_y=True)
    first = DistilledRegressor(
        CountingForestRegressor(n_estimators=5), **FAST, random_state=0
    ).fit(X, y)
    second = DistilledRegressor(
        CountingForestRegressor(n_estimators=5), **FAST, alpha=0.2, random_state=0
    ).fit(X, y)
    assert CountingForestRegressor.n_fits == 1
    np.testing.assert_array_equal(first.teacher_.predict(X), second.teacher_.predict(X))
