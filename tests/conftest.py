import warnings

import pytest
import torch
from sklearn.exceptions import ConvergenceWarning


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    # Small networks train fastest on one thread, and tests must not compete for
    # cores with each other's OpenMP pools.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _quiet_convergence_warnings():
    # Tests train for a few epochs on purpose; the warning is tested on its own.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
