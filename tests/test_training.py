"""rnncourse.training: the one loop every recipe uses."""

import pytest
import torch

from rnncourse.training import LoopConfig, fit, lr_at


def _problem():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return model, lambda step: ((model(x) - y) ** 2).mean()


def test_fit_lowers_the_loss_and_returns_one_loss_per_step():
    model, next_loss = _problem()
    losses = fit(model, next_loss, LoopConfig(steps=60, lr=0.1))
    assert len(losses) == 60 and losses[-1] < 0.05 * losses[0]


def test_on_step_can_stop_and_a_resumed_run_continues_exactly():
    model, next_loss = _problem()
    whole = fit(model, next_loss, LoopConfig(steps=20, lr=0.05, schedule="cosine", warmup=3))
    model, next_loss = _problem()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    config = LoopConfig(steps=20, lr=0.05, schedule="cosine", warmup=3)
    first = fit(model, next_loss, config, optimizer=optimizer, on_step=lambda done, _: done == 8)
    rest = fit(model, next_loss, config, optimizer=optimizer, start_step=8)
    assert len(first) == 8 and first + rest == pytest.approx(whole, rel=0, abs=0)


def test_schedules():
    config = LoopConfig(steps=100, lr=1.0, schedule="cosine", warmup=10, min_lr_ratio=0.1)
    assert lr_at(0, config) == pytest.approx(0.1) and lr_at(9, config) == pytest.approx(1.0)
    assert lr_at(100, config) == pytest.approx(0.1)
    assert lr_at(50, LoopConfig(lr=0.3)) == 0.3
    model, next_loss = _problem()
    with pytest.raises(ValueError, match="unknown schedule"):
        fit(model, next_loss, LoopConfig(steps=1, schedule="linear"))


def test_one_cycle_follows_pytorchs_schedule():
    model, next_loss = _problem()
    seen = []
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    fit(model, next_loss, LoopConfig(steps=40, lr=0.01, schedule="one-cycle"), optimizer=optimizer,
        on_step=lambda done, _: seen.append(optimizer.param_groups[0]["lr"]))
    assert max(seen) == pytest.approx(0.01, rel=1e-3) and seen[-1] < 1e-4
