import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skdistill import DistilledClassifier

distributed = pytest.importorskip(
    "distributed", reason='needs the dask extra: pip install "skdistill[dask]"'
)

GRID = {"temperature": [1.0, 4.0], "alpha": [0.2, 0.8]}


@pytest.fixture(scope="module")
def client():
    # Two worker processes with one thread each, listening on loopback only and
    # without the dashboard's web server.
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def cancer_subset():
    X, y = load_breast_cancer(return_X_y=True)
    rows = np.random.RandomState(0).permutation(len(y))[:240]
    return X[rows], y[rows]


def _search():
    model = DistilledClassifier(
        RandomForestClassifier(n_estimators=10),
        hidden_layer_sizes=(16,),
        batch_size=32,
        max_iter=15,
        n_iter_no_change=5,
        random_state=0,
    )
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    return GridSearchCV(model, GRID, cv=cv, n_jobs=-1)


def test_grid_search_dask_matches_serial(client, cancer_subset):
    X, y = cancer_subset
    serial = _search().set_params(n_jobs=None).fit(X, y)

    with distributed.get_task_stream(client) as task_stream:
        with joblib.parallel_backend("dask"):
            on_cluster = _search().fit(X, y)

    workers = {task["worker"] for task in task_stream.data}
    assert task_stream.data, "no task ran on the cluster"
    assert workers <= set(client.scheduler_info()["workers"])
    assert on_cluster.cv_results_["params"] == serial.cv_results_["params"]
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(
            on_cluster.cv_results_[key], serial.cv_results_[key]
        )
    assert on_cluster.best_params_ == serial.best_params_
    np.testing.assert_array_equal(
        on_cluster.best_estimator_.predict_proba(X),
        serial.best_estimator_.predict_proba(X),
    )


def _torch_threads_and_fit(X, y, n_threads):
    before = torch.get_num_threads()
    DistilledClassifier(
        RandomForestClassifier(n_estimators=5),
        hidden_layer_sizes=(8,),
        max_iter=3,
        n_threads=n_threads,
        random_state=0,
    ).fit(X, y)
    return os.getpid(), before, torch.get_num_threads()


def test_dask_worker_torch_threads_follow_worker(client, cancer_subset):
    X, y = cancer_subset
    # The nanny of each worker process sets OMP_NUM_THREADS=1 before starting it,
    # so torch there uses one thread per process unless a fit sets n_threads.
    worker_threads = client.run(torch.get_num_threads)
    assert set(worker_threads.values()) == {1}

    futures = [
        client.submit(_torch_threads_and_fit, X, y, n_threads, pure=False)
        for n_threads in (None, 2)
    ]
    for pid, before, after in client.gather(futures):
        assert pid != os.getpid()
        assert before == 1
        assert after == 1
