"""Richardson's error estimate (:mod:`neuralpde.reference.richardson`): levels that do not
converge, and an observed order above the formal one capped."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from neuralpde.reference import convergence_study, solve_fd


def test_levels_that_do_not_converge_have_no_error_estimate():
    from neuralpde.reference.api import _estimate

    p, used, estimate = _estimate([1e-3, 1e-1], 2, 2, "growing", "")
    assert p < 0 and estimate == math.inf
    assert _estimate([0.0, 0.0], 2, 2, "exact", "")[2] == 0.0  # exact on every grid
    p, used, estimate = _estimate([4e-2, 1e-2], 2, 2, "converging", "")
    assert p == pytest.approx(2.0) and estimate == pytest.approx(1e-2 / 3)


def test_an_observed_order_above_the_formal_one_is_capped(caplog):
    """Gaussian bumps of width 0.05 on grids of 8 to 32 intervals: the differences shrink faster
    than the fourth order of the scheme before the asymptotic range. With the observed order
    (6.3) the estimate was 3.6e-5 against a true error of 1.5e-4; with the formal order it
    bounds the true error."""
    from neuralpde.problem_file import load_problem_file

    from ..conftest import ROOT

    problem = load_problem_file(str(ROOT / "problems" / "poisson2d_bumps.py"))["problem"]
    with caplog.at_level(logging.WARNING, logger="neuralpde"):
        ref = convergence_study(problem, 8, levels=3, order=4)
    assert ref.observed_order > 6 and ref.order_used == 4
    assert "the estimate uses order 4" in caplog.text
    fine = solve_fd(problem, 256, order=4).values[::8, ::8]  # the nodes of the 32-interval grid
    true = np.sqrt(np.mean((ref.values - fine) ** 2) / np.mean(fine**2))
    assert true == pytest.approx(1.5e-4, rel=0.1)
    assert true < ref.estimated_error < 1.5 * true
    from neuralpde.reference.api import _estimate

    assert _estimate([0.64, 0.01], 2, 2, "x", "")[1] == 2  # observed 6, formal 2
    assert _estimate([0.64, 0.01], 2, 3, "x", "", 4)[1] == 4  # extrapolated: up to order + 2
    assert _estimate([0.1, 0.01], 2, 3, "x", "", 4)[1] == pytest.approx(np.log2(10))
