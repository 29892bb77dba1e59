"""Every solution carries an error estimate: a finite-difference cross-check that is within a
factor of 3 of the true error where it can resolve it and an honest bound where it cannot, or a
residual indicator, labelled as such, where the referee does not apply."""

from __future__ import annotations

import math

import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.estimate import ErrorEstimate, estimate_error

PI = math.pi


def poisson(dim: int = 2) -> npde.Problem:
    def exact(x):
        return torch.prod(torch.sin(PI * x), dim=1)

    return npde.Problem(
        npde.Box([0.0] * dim, [1.0] * dim),
        npde.Poisson(f=lambda x: dim * PI**2 * exact(x)),
        [npde.Dirichlet(0.0)],
        exact=exact,
        name=f"sine{dim}d",
    )


def _solve(problem, steps, **kw):
    return npde.solve(
        problem,
        npde.Siren(16, 2, w0=2.0),
        None,
        npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=steps),
        **kw,
    )


@pytest.mark.parametrize("steps", [3, 8])
def test_a_resolved_error_is_estimated_within_a_factor_of_3(steps):
    sol = _solve(poisson(), steps)
    est = ErrorEstimate.from_record(sol.settings["error_estimate"])
    true = sol.errors()["relative_l2"]
    assert est.kind == "estimate", est
    assert true / 3 <= est.value <= 3 * true
    assert est.reference_error < est.value / 3


def test_an_error_below_the_grids_is_a_bound_not_an_estimate():
    """A harmonic solution, met to round-off by the lift with the network's output zeroed: the
    grids cannot tell an error far below their own; only a bound near it is given."""

    def harmonic(x):
        return torch.exp(x[:, 0]) * torch.sin(x[:, 1])

    problem = npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        npde.Poisson(f=0.0),
        [npde.Dirichlet(harmonic)],
        exact=harmonic,
        name="harmonic",
    )
    sol = _solve(problem, 1, estimate=False)
    last = [m for m in sol.net.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    assert sol.errors()["relative_l2"] < 1e-12
    est = estimate_error(sol)
    assert est.kind == "bound" and est.value <= 4 * est.reference_error < 1e-6
    assert "cannot tell" in est.summary()


def test_where_the_referee_does_not_apply_an_indicator_is_given():
    """Four space dimensions: no finite-difference grid here; soft conditions get defects."""
    sol = npde.solve(
        poisson(4),
        npde.Siren(8, 1, w0=1.0),
        npde.SobolSampler(n_interior=64, n_boundary=32),
        npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=2),
        constraints=False,
    )
    est = ErrorEstimate.from_record(sol.settings["error_estimate"])
    assert est.kind == "indicator" and est.value > 0 and math.isfinite(est.value)
    assert list(est.defects) == ["0:Dirichlet"]
    assert "not an error" in est.summary()
    again = estimate_error(sol)
    assert again.value == pytest.approx(est.value, rel=1e-12)  # fresh points, fixed seed


def test_no_estimate_when_asked_or_when_training_failed():
    assert "error_estimate" not in _solve(poisson(), 1, estimate=False).settings
    with pytest.raises(TypeError, match="estimate must be True or False, got str"):
        _solve(poisson(), 1, estimate="yes")
    with pytest.raises(TypeError, match="solution must be a neuralpde.Solution"):
        estimate_error("u.h5")


def test_the_file_keeps_it_and_the_command_line_shows_it(tmp_path, capsys):
    problem_file = tmp_path / "p.py"
    problem_file.write_text(
        "import math, torch\nimport neuralpde as npde\n"
        "ex = lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1])\n"
        "problem = npde.Problem(npde.Rectangle((0, 0), (1, 1)), "
        "npde.Poisson(f=lambda x: 2 * math.pi**2 * ex(x)), [npde.Dirichlet(0.0)], exact=ex, "
        "name='s')\nfield = npde.Siren(16, 2, w0=2.0)\n"
    )
    out = tmp_path / "s.h5"
    assert main(["solve", str(problem_file), "-o", str(out), "--steps", "4", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "estimated error" in printed
    assert main(["info", str(out)]) == 0
    assert "estimate:    estimated error" in capsys.readouterr().out
    loaded = npde.load(out)
    assert loaded.record["training"]["settings"]["error_estimate"]["kind"] == "estimate"


def test_a_damaged_record_is_refused():
    with pytest.raises(ValueError, match="not an error estimate record"):
        ErrorEstimate.from_record({"kind": "estimate", "value": 1.0, "evil": 2})
    with pytest.raises(ValueError, match="unknown error estimate kind"):
        ErrorEstimate.from_record({"kind": "guess", "value": 1.0})
