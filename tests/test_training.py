import copy

import numpy as np
import pytest
import torch
from torch import nn

from skdistill._dropout import NumpyMaskDropout
from skdistill._student import MLPStudent
from skdistill._training import make_optimizer, train_epoch, train_network


def _regression_data(n_rows=200, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n_rows, 3, generator=generator)
    target = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return {"X": X, "target": target}


def _squared_error(net, batch):
    error = ((net(batch["X"]) - batch["target"]) ** 2).mean()
    return error, {"squared_error": error}


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))


def test_train_network_lowers_loss():
    net = _net()
    history = train_network(
        net,
        _squared_error,
        _regression_data(),
        batch_size=32,
        max_iter=30,
        learning_rate_init=0.01,
        n_iter_no_change=30,
        generator=torch.Generator().manual_seed(0),
    )
    assert history.n_iter == 30
    assert len(history.loss_curve) == 30
    assert history.loss_curve[-1] < 0.2 * history.loss_curve[0]
    assert history.term_curves["squared_error"] == pytest.approx(history.loss_curve)
    assert not net.training


def test_train_network_same_seed_same_weights():
    weights = []
    for _ in range(2):
        net = _net()
        train_network(
            net,
            _squared_error,
            _regression_data(),
            batch_size=16,
            max_iter=3,
            generator=torch.Generator().manual_seed(5),
        )
        weights.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)


def test_train_epoch_averages_over_rows():
    # The loss of a batch is the mean of its "value" column, so the row-weighted
    # mean over an epoch is the mean of the whole column, whatever the order and
    # however unequal the last batch.
    values = torch.arange(10, dtype=torch.float32)
    data = {"X": torch.zeros(10, 3), "value": values}
    net = _net()

    def value_loss(net, batch):
        loss = (net(batch["X"]) * 0).sum() + batch["value"].mean()
        return loss, {
            "value": batch["value"].mean(),
            "twice": 2 * batch["value"].mean(),
        }

    optimizer = make_optimizer(net.parameters(), 1e-3, 0.0)
    loss, terms = train_epoch(net, value_loss, data, optimizer, batch_size=4)
    assert loss == pytest.approx(4.5)
    assert terms == pytest.approx({"value": 4.5, "twice": 9.0})


def test_train_epoch_visits_each_row_once():
    data = {"X": torch.zeros(11, 3), "row": torch.arange(11)}
    seen = []

    def record_rows(net, batch):
        seen.append(batch["row"].clone())
        return (net(batch["X"]) * 0).sum(), {}

    net = _net()
    optimizer = make_optimizer(net.parameters(), 1e-3, 0.0)
    train_epoch(
        net,
        record_rows,
        data,
        optimizer,
        batch_size=4,
        generator=torch.Generator().manual_seed(0),
    )
    rows = torch.cat(seen)
    assert [len(batch) for batch in seen] == [4, 4, 3]
    assert sorted(rows.tolist()) == list(range(11))
    assert rows.tolist() != list(range(11))


def test_train_network_stops_when_loss_stalls():
    net = _net()
    data = {"X": torch.zeros(20, 3)}

    def constant_loss(net, batch):
        return (net(batch["X"]) * 0).sum() + 1.0, {}

    history = train_network(net, constant_loss, data, max_iter=50, n_iter_no_change=3)
    assert history.converged
    assert history.n_iter == 4


def test_train_network_restores_weights_before_divergence():
    data = _regression_data()
    reference = _net()
    train_network(
        reference,
        _squared_error,
        data,
        batch_size=50,
        max_iter=2,
        generator=torch.Generator().manual_seed(0),
    )
    calls = {"n": 0}

    def diverging_loss(net, batch):
        calls["n"] += 1
        loss, terms = _squared_error(net, batch)
        if calls["n"] == 10:
            loss = loss * float("nan")
        return loss, terms

    net = _net()
    history = train_network(
        net,
        diverging_loss,
        data,
        batch_size=50,
        max_iter=10,
        generator=torch.Generator().manual_seed(0),
    )
    # Four batches per epoch, so the tenth batch falls in the third epoch.
    assert history.diverged_epoch == 3
    assert history.n_iter == 2
    assert len(history.loss_curve) == 2
    for restored, expected in zip(
        net.parameters(), reference.parameters(), strict=True
    ):
        torch.testing.assert_close(restored, expected, rtol=0, atol=0)


def test_train_network_keeps_best_validation_epoch():
    data = _regression_data(seed=0)
    # Validation targets of the opposite sign get worse as training fits the
    # training rows, so the first epoch stays the best.
    validation = _regression_data(seed=1)
    validation["target"] = -validation["target"]
    net = _net()
    history = train_network(
        net,
        _squared_error,
        data,
        validation=validation,
        batch_size=20,
        max_iter=40,
        learning_rate_init=0.01,
        n_iter_no_change=5,
        generator=torch.Generator().manual_seed(0),
    )
    best = history.best_epoch
    assert best == int(np.argmin(history.validation_loss_curve)) + 1
    assert history.n_iter == best + 5
    with torch.no_grad():
        final = _squared_error(net, validation)[0].item()
    assert final == pytest.approx(history.validation_loss_curve[best - 1], rel=1e-5)


def test_train_network_stops_on_non_finite_validation_loss():
    net = _net()
    validation = {"X": torch.zeros(4, 3), "target": torch.full((4, 1), np.inf)}
    history = train_network(
        net, _squared_error, _regression_data(), validation=validation, max_iter=5
    )
    assert history.diverged_epoch == 1
    assert history.n_iter == 1


def test_make_optimizer_fuses_on_cpu():
    optimizer = make_optimizer(_net().parameters(), 1e-3, 1e-4)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.defaults["fused"] is True
    assert optimizer.defaults["lr"] == 1e-3
    assert optimizer.defaults["weight_decay"] == 1e-4


def test_make_optimizer_matches_unfused_adamw():
    fused_net = _net()
    plain_net = copy.deepcopy(fused_net)
    fused = make_optimizer(fused_net.parameters(), 1e-2, 1e-2)
    plain = torch.optim.AdamW(plain_net.parameters(), lr=1e-2, weight_decay=1e-2)
    data = _regression_data()
    for net, optimizer in ((fused_net, fused), (plain_net, plain)):
        for _ in range(5):
            optimizer.zero_grad()
            _squared_error(net, data)[0].backward()
            optimizer.step()
    for a, b in zip(fused_net.parameters(), plain_net.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_train_network_trains_extra_parameters():
    net = _net()
    offset = nn.Parameter(torch.zeros(1))

    def loss_with_offset(net, batch):
        error = ((net(batch["X"]) + offset - batch["target"]) ** 2).mean()
        return error, {}

    train_network(
        net,
        loss_with_offset,
        _regression_data(),
        max_iter=3,
        extra_parameters=[offset],
    )
    assert offset.item() != 0.0


def test_dropout_zeroes_expected_fraction():
    layer = NumpyMaskDropout(0.3, seed=0)
    out = layer(torch.ones(200, 500))
    dropped = (out == 0).float().mean().item()
    assert dropped == pytest.approx(0.3, abs=0.01)
    kept = out[out != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.7))


def test_dropout_eval_mode_is_identity():
    x = torch.randn(5, 7)
    assert NumpyMaskDropout(0.5, seed=0).eval()(x) is x


def test_dropout_zero_probability_is_identity():
    x = torch.randn(5, 7)
    assert NumpyMaskDropout(0.0, seed=0)(x) is x


def test_dropout_seed_fixes_masks():
    x = torch.ones(8, 64)
    first = NumpyMaskDropout(0.5, seed=3)(x)
    second = NumpyMaskDropout(0.5, seed=3)(x)
    other = NumpyMaskDropout(0.5, seed=4)(x)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert not torch.equal(first, other)


def test_dropout_default_seed_follows_torch_seed():
    x = torch.ones(8, 64)
    torch.manual_seed(0)
    first = NumpyMaskDropout(0.5)(x)
    torch.manual_seed(0)
    second = NumpyMaskDropout(0.5)(x)
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def test_dropout_gradient_is_the_mask():
    x = torch.ones(16, 32, dtype=torch.float64, requires_grad=True)
    out = NumpyMaskDropout(0.25, seed=1)(x)
    out.sum().backward()
    assert out.dtype == torch.float64
    torch.testing.assert_close(x.grad, out.detach())


def test_student_uses_numpy_mask_dropout():
    student = MLPStudent(3, 2, (8, 8), dropout=0.2)
    layers = [layer for layer in student.net if isinstance(layer, nn.Dropout)]
    assert len(layers) == 2
    assert all(isinstance(layer, NumpyMaskDropout) for layer in layers)
