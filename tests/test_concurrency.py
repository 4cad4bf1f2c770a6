"""Concurrent use: one fitted model predicting from many threads, fits in threads.

Each test runs a bounded number of calls and compares every result with the one a
single thread computes, so a race shows up as a wrong array rather than as a timeout.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

from skdistill import DistilledClassifier

N_THREADS = 8
CALLS_PER_THREAD = 40

FAST = dict(
    hidden_layer_sizes=(32, 16),
    batch_size=32,
    max_iter=20,
    n_iter_no_change=5,
    learning_rate_init=1e-2,
    random_state=0,
)


@pytest.fixture(scope="module")
def wine():
    return load_wine(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def fitted(wine):
    X, y = wine
    teacher = RandomForestClassifier(n_estimators=10, random_state=0)
    return DistilledClassifier(teacher, **FAST).fit(X.to_numpy(), y.to_numpy())


def make_calls(model, X):
    """Return (index, method, rows) triples, each predicting on a different slice."""
    calls = []
    for i in range(N_THREADS * CALLS_PER_THREAD):
        start = (7 * i) % (len(X) - 20)
        rows = X[start : start + 1 + i % 20]
        method = ("predict_proba", "predict", "predict_log_proba")[i % 3]
        if i % 5 == 4:
            rows = sp.csr_matrix(rows)
        calls.append((i, getattr(model, method), rows))
    return calls


def run_concurrently(calls):
    """Run the calls on N_THREADS threads that start together.

    Returns a dict from each call's index to its result.
    """
    barrier = threading.Barrier(N_THREADS)
    shares = [calls[k::N_THREADS] for k in range(N_THREADS)]

    def worker(share):
        barrier.wait()
        return [(i, function(rows)) for i, function, rows in share]

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = [pair for share in pool.map(worker, shares) for pair in share]
    return dict(results)


def assert_all_equal(calls, results):
    assert len(results) == len(calls)
    for i, function, rows in calls:
        np.testing.assert_array_equal(results[i], function(rows), err_msg=f"call {i}")


def test_predict_from_eight_threads_matches_serial(fitted, wine, record_property):
    X = wine[0].to_numpy()
    calls = make_calls(fitted, X)
    results = run_concurrently(calls)
    assert_all_equal(calls, results)
    record_property("threads", N_THREADS)
    record_property("calls", len(calls))


def test_predict_dataframe_from_eight_threads(wine, record_property):
    X, y = wine
    teacher = RandomForestClassifier(n_estimators=10, random_state=0)
    model = DistilledClassifier(teacher, **FAST).fit(X, y)
    frames = [X.iloc[i : i + 10] for i in range(0, len(X) - 10, 5)]
    calls = [
        (i, model.predict_proba, frames[i % len(frames)])
        for i in range(N_THREADS * CALLS_PER_THREAD)
    ]
    results = run_concurrently(calls)
    assert_all_equal(calls, results)
    assert isinstance(frames[0], pd.DataFrame)
    record_property("threads", N_THREADS)
    record_property("calls", len(calls))


def test_student_only_model_from_eight_threads(fitted, wine, record_property):
    X = wine[0].to_numpy()
    student = fitted.to_student()
    calls = make_calls(student, X)
    results = run_concurrently(calls)
    assert_all_equal(calls, results)
    np.testing.assert_array_equal(student.predict_proba(X), fitted.predict_proba(X))
    record_property("threads", N_THREADS)
    record_property("calls", len(calls))


def test_predict_while_other_model_fits(fitted, wine, record_property):
    X, y = wine[0].to_numpy(), wine[1].to_numpy()
    expected = fitted.predict_proba(X)
    other = DistilledClassifier(
        RandomForestClassifier(n_estimators=10, random_state=1), **FAST
    )
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        fitting = pool.submit(other.fit, X, y)
        futures = [
            pool.submit(fitted.predict_proba, X) for _ in range(CALLS_PER_THREAD)
        ]
        results = [future.result() for future in futures]
        fitting.result()
    for result in results:
        np.testing.assert_array_equal(result, expected)
    record_property("threads", N_THREADS)
    record_property("calls", len(results))


def test_fits_in_threads_match_serial_fits(wine, record_property):
    # Seeded fits must give the same students whether they run one after another or
    # at once in threads that share torch's global random generator.
    X, y = wine[0].to_numpy(), wine[1].to_numpy()
    seeds = [0, 1, 2, 3]

    def fit(seed):
        teacher = RandomForestClassifier(n_estimators=5, random_state=seed)
        params = {**FAST, "random_state": seed, "max_iter": 5}
        return DistilledClassifier(teacher, **params).fit(X, y).predict_proba(X)

    serial = [fit(seed) for seed in seeds]
    with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
        concurrent = list(pool.map(fit, seeds))
    for one, other in zip(serial, concurrent, strict=True):
        np.testing.assert_array_equal(one, other)
    record_property("threads", len(seeds))
    record_property("calls", len(seeds))
