"""The trainer (:mod:`neuralpde.training.trainer`): budgets of steps and time, early stops,
divergence and stalls, the monitor and the trainer's arguments."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.training import make_batch
from neuralpde.training.loss import loss_terms

from ..conftest import SMALL


def test_loss_tolerance_stops_early(b1):
    sol = npde.solve(b1, **SMALL, trainer=npde.Trainer(adam_steps=50, lbfgs_steps=50, tol=1e9))
    assert sol.status == "converged" and sol.result.steps == 0  # the first loss is below tol


def test_time_budget_stops(b1):
    sol = npde.solve(
        b1, **SMALL, trainer=npde.Trainer(adam_steps=10**6, lbfgs_steps=0, seconds=0.5)
    )
    assert sol.status == "time_budget"
    assert 0 < sol.result.steps < 10**6


def test_lbfgs_under_a_time_budget_measures_its_pace_on_a_short_first_chunk(b1, monkeypatch):
    """The first chunk of L-BFGS iterations, before their time is known, is 2 iterations, so a
    small time budget is not overrun by a whole chunk of 20; the later chunks are 20 when the
    budget allows. Without a time budget every chunk is 20."""
    asked = []
    real = torch.optim.LBFGS.step

    def step(self, closure):
        asked.append(self.param_groups[0]["max_iter"])
        return real(self, closure)

    monkeypatch.setattr(torch.optim.LBFGS, "step", step)
    timed = npde.solve(b1, **SMALL, trainer=npde.Trainer(adam_steps=0, lbfgs_steps=42, seconds=1e4))
    assert asked[:3] == [2, 20, 20]
    asked.clear()
    plain = npde.solve(b1, **SMALL, trainer=npde.Trainer(adam_steps=0, lbfgs_steps=42))
    assert asked[:3] == [20, 20, 2]
    # L-BFGS keeps its state between chunks: the same iterates either way
    assert timed.result.steps == plain.result.steps == 42
    assert timed.history["loss"][-1] == plain.history["loss"][-1]


def test_with_budget_splits_steps_and_lifts_lbfgs_limit_for_time():
    t = npde.Trainer(adam_steps=300, lbfgs_steps=900, seconds=60.0)
    s = t.with_budget(steps=100)
    assert (s.adam_steps, s.lbfgs_steps, s.seconds) == (25, 75, None)  # steps alone: no clock
    timed = t.with_budget(seconds=10)
    assert timed.lbfgs_steps >= 10**9 and timed.seconds == 10
    both = t.with_budget(steps=100, seconds=5)
    assert (both.adam_steps, both.lbfgs_steps, both.seconds) == (25, 75, 5)
    with pytest.raises(ValueError, match="steps must be an integer from 1 to"):
        t.with_budget(steps=0)
    assert t.with_budget(steps=np.int64(8)).adam_steps == 2
    adam_only = npde.Trainer(adam_steps=500, lbfgs_steps=0).with_budget(seconds=3)
    assert (adam_only.adam_steps, adam_only.lbfgs_steps, adam_only.seconds) == (500, 0, 3)
    # a step budget after a time budget: Adam keeps its steps, L-BFGS (unlimited) the rest
    chained = timed.with_budget(steps=1000)
    assert (chained.adam_steps, chained.lbfgs_steps, chained.seconds) == (300, 700, None)
    short = timed.with_budget(steps=200)
    assert (short.adam_steps, short.lbfgs_steps) == (200, 0)


def test_nonfinite_loss_restores_last_good_parameters():
    calls = {"n": 0}

    def residual(u, x):
        calls["n"] += 1
        r = -npde.operators.laplacian(u) - 1.0
        return r * math.nan if calls["n"] > 5 else r

    p = npde.Problem(npde.Rectangle((0, 0), (1, 1)), residual, [npde.Dirichlet(0.0)])
    sol = npde.solve(p, **SMALL, trainer=npde.Trainer(adam_steps=20, lbfgs_steps=0, log_every=1))
    assert sol.status == "diverged"
    assert "non-finite" in sol.message
    assert np.all(np.isfinite(sol(np.random.default_rng(0).random((10, 2)))))


def test_a_divergence_keeps_the_parameters_of_the_last_finite_loss():
    """A learning rate of 1e30 blows the parameters up; the field kept must be the one of the
    last finite loss, whatever the logging interval, and the final loss the one of that field."""
    b1 = npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(f=lambda x: torch.sin(math.pi * x[:, 0])),
        [npde.Dirichlet(0.0)],
    )
    every = npde.solve(
        b1, **SMALL, trainer=npde.Trainer(adam_steps=50, lbfgs_steps=0, lr=1e30, log_every=1)
    )
    steps, losses = every.history["step"], every.history["loss"]
    finite = [(s, v) for s, v in zip(steps, losses, strict=True) if math.isfinite(v)]
    trainer = npde.Trainer(adam_steps=50, lbfgs_steps=0, lr=1e30, log_every=3)
    sol = npde.solve(b1, **SMALL, trainer=trainer)
    assert sol.status == "diverged" and every.status == "diverged"
    loss = sol.history["loss"]
    # the last finite loss of the run that recorded every step, at its step
    assert (sol.history["step"][-1], loss[-1]) == finite[-1]
    assert sol.result.steps == finite[-1][0]
    assert finite[-1][0] % 3 != 0  # kept between two logged steps
    batch = make_batch(b1, SMALL["sampler"].draw(b1, 0, 0), torch.float64, "cpu")
    again, _ = loss_terms(sol.net, b1, batch)
    assert float(again.detach()) == pytest.approx(loss[-1], rel=1e-9)
    # Adam alone: the last record is the loss of the final parameters, not of those before
    sol = npde.solve(b1, **SMALL, trainer=npde.Trainer(adam_steps=7, lbfgs_steps=0, log_every=5))
    again, _ = loss_terms(sol.net, b1, batch)
    assert sol.history["step"][-1] == 7
    assert float(again.detach()) == pytest.approx(sol.history["loss"][-1], rel=1e-9)


def test_lbfgs_diverging_at_once_records_the_loss_of_the_restored_starting_field():
    """L-BFGS alone, non-finite from its first step on: the starting parameters are restored,
    and the final loss recorded is theirs (finite), not a placeholder infinity."""
    net = SMALL["field"].build(2).double()
    start = [p.detach().clone() for p in net.parameters()]

    def residual(u, x):  # finite for the starting parameters only
        r = -npde.operators.laplacian(u) - 1.0
        moved = any(not torch.equal(p, q) for p, q in zip(net.parameters(), start, strict=True))
        return r * math.nan if moved else r

    p = npde.Problem(npde.Rectangle((0, 0), (1, 1)), residual, [npde.Dirichlet(0.0)])
    result = npde.Trainer(adam_steps=0, lbfgs_steps=20).fit(net, p, SMALL["sampler"])
    assert result.status == "diverged" and result.steps == 0
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), start, strict=True))
    batch = make_batch(p, SMALL["sampler"].draw(p, 0, 0), torch.float64, "cpu")
    again, _ = loss_terms(net, p, batch)
    assert math.isfinite(result.history["loss"][-1])
    assert result.history["loss"][-1] == pytest.approx(float(again.detach()), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"adam_steps": -1}, "adam_steps must be an integer from 0 to"),
        ({"adam_steps": 0, "lbfgs_steps": 0}, "nothing to train"),
        ({"lr": 0}, "lr must be a positive number"),
        ({"seconds": -2}, "seconds must be a finite number of seconds above 0"),
        ({"seconds": True}, "seconds must be a finite number of seconds above 0 .* got bool True"),
        ({"adam_fraction": 1.5}, "adam_fraction must be a number in"),
        ({"adam_fraction": "a"}, "adam_fraction must be a number in .* got 'a'"),
        ({"tol": -1}, "tol must be a finite non-negative"),
        ({"tol": float("inf")}, "tol must be a finite non-negative"),
        ({"log_every": 0}, "log_every must be a positive integer"),
        ({"lr": True}, "lr must be a positive number, got True"),
        ({"lr_final": True}, "lr_final must be a positive number, got True"),
        ({"tol": True}, "tol must be a finite non-negative number, got True"),
        ({"adam_steps": 2.0}, "adam_steps must be an integer from 0 to .* got float 2.0"),
        ({"lr": 1e-3, "lr_final": 1e-2}, r"lr_final must not exceed lr .* lr=0.001 and lr_final"),
        ({"lr_final": "small"}, "lr_final must be a positive number, got 'small'"),
        ({"progress": "yes"}, "progress must be True, False or None, got 'yes'"),
        ({"progress": 1}, "progress must be True, False or None, got 1"),
    ],
)
def test_bad_trainer_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        npde.Trainer(**kwargs)


def test_lr_final_defaults_to_a_tenth_of_lr():
    assert npde.Trainer().lr_final is None and npde.Trainer().final_lr == pytest.approx(1e-4)
    assert npde.Trainer(lr=2e-5).final_lr == pytest.approx(2e-6)
    assert npde.Trainer(lr=1e-3, lr_final=1e-3).final_lr == 1e-3  # a constant rate
    # the default follows lr through a copy, and describe() records the rate used
    lowered = dataclasses.replace(npde.Trainer(), lr=1e-5)
    assert lowered.final_lr == pytest.approx(1e-6)
    assert lowered.describe()["lr_final"] == pytest.approx(1e-6)
    assert npde.Trainer(lr=np.float32(0.5)).with_budget(steps=10).final_lr == 0.05
    assert npde.Trainer(progress=np.bool_(True)).progress is True


def test_monitor_must_be_a_function_returning_a_number(b1):
    net = npde.Siren(width=8, depth=1).build(2).double()
    trainer = npde.Trainer(adam_steps=1, lbfgs_steps=0)
    sampler = npde.SobolSampler(n_interior=16, n_boundary=16)
    with pytest.raises(TypeError, match="monitor must be None or a function net -> number, got"):
        trainer.fit(net, b1, sampler, monitor=3.0)
    with pytest.raises(TypeError, match=r"monitor\(net\) must return a number, got str: 'x'"):
        trainer.fit(net, b1, sampler, monitor=lambda n: "x")
    result = trainer.fit(net, b1, sampler, monitor=lambda n: torch.tensor([0.5]))
    assert result.history["monitor"] == [0.5, 0.5]
    result = trainer.fit(net, b1, sampler, monitor=lambda n: np.array([[0.25]]))
    assert result.history["monitor"] == [0.25, 0.25]
    with pytest.raises(TypeError, match="monitor must be True or False .* Trainer.fit"):
        npde.solve(b1, **SMALL, monitor=lambda n: 0.0)
    off = npde.solve(b1, **{**SMALL, "trainer": trainer}, monitor=None)
    assert np.isnan(off.result.history["monitor"]).all()


def test_trainer_takes_numpy_numbers_and_stores_python_ones():
    t = npde.Trainer(
        adam_steps=np.int64(5), lbfgs_steps=np.int32(3), lr=np.float32(0.5), tol=np.float64(0)
    )
    assert (t.adam_steps, t.lbfgs_steps, t.lr, t.tol) == (5, 3, 0.5, 0.0)
    assert type(t.adam_steps) is int and type(t.lr) is float


def test_adam_cut_by_its_share_of_the_time_is_a_time_budget_stop(b1):
    """Adam gets a share of `seconds` when L-BFGS follows; stopping there, with most of its steps
    left, is the time budget's doing even when L-BFGS then ends early."""
    trainer = npde.Trainer(adam_steps=10**6, lbfgs_steps=1, seconds=2.0)
    sol = npde.solve(b1, **{**SMALL, "trainer": trainer})
    assert sol.status == "time_budget" and sol.result.steps < 10**6


@pytest.mark.slow
def test_building_the_optimizers_is_not_charged_to_the_training_clock(b1, monkeypatch):
    """The first optimizer built in a process imports torch._dynamo (about 1 s), a one-off cost
    that is no part of training: it counts neither in the history's times and the timings nor
    against a time budget. Here each optimizer takes 2 s to build: five steps take far less on
    any machine, so a clock that counted one build would read over 2 s."""
    for cls in (torch.optim.Adam, torch.optim.LBFGS):

        def slow(self, *args, real=cls.__init__, **kwargs):
            time.sleep(2.0)
            real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", slow)
    trainer = npde.Trainer(adam_steps=3, lbfgs_steps=2, log_every=1)
    sol = npde.solve(b1, **{**SMALL, "trainer": trainer})
    assert sol.result.steps == 5
    assert sol.history["time"][0] < 2.0 and sol.timings["total"] < 2.0
    # a budget of 0.4 s is spent on training, not on building the optimizer
    trainer = npde.Trainer(adam_steps=10**6, lbfgs_steps=0, seconds=0.4)
    sol = npde.solve(b1, **{**SMALL, "trainer": trainer})
    assert sol.status == "time_budget" and sol.result.steps > 1


def test_an_lbfgs_only_history_starts_at_the_starting_field(b1):
    trainer = npde.Trainer(adam_steps=0, lbfgs_steps=40, log_every=20)
    sol = npde.solve(b1, **{**SMALL, "trainer": trainer})
    h = sol.result.history
    assert h["step"][:3] == [0, 20, 40] and h["phase"][0] == "lbfgs"
    fresh = npde.solve(b1, **{**SMALL, "trainer": npde.Trainer(adam_steps=1, lbfgs_steps=0)})
    assert h["loss"][0] == pytest.approx(fresh.result.history["loss"][0], rel=1e-12)
    assert h["loss"][-1] < h["loss"][0] / 10


def test_lbfgs_that_moves_nothing_is_stalled(b1, monkeypatch):
    """torch's L-BFGS counts an iteration even when its line search finds no descent: a chunk
    that changes nothing is reported as stalled, not run until the budget is spent."""

    def step_nowhere(self, closure):
        loss = closure()
        st = self.state[self._params[0]]
        st["n_iter"] = st.get("n_iter", 0) + 3
        return loss

    monkeypatch.setattr(torch.optim.LBFGS, "step", step_nowhere)
    trainer = npde.Trainer(adam_steps=0, lbfgs_steps=500)
    sol = npde.solve(b1, **{**SMALL, "trainer": trainer})
    # the first chunk leaves the starting loss unchanged
    assert sol.status == "stalled" and sol.result.steps == 3
