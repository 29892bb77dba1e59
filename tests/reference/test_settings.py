"""The checks of a reference's settings (:mod:`neuralpde.reference.settings`), shared by
studies and reference files."""

from __future__ import annotations

import pytest
import torch

from neuralpde.reference import convergence_study, solve_fd

from .manufactured import UNIT, heat_problem, poisson_problem, smooth


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n": 1}, r"^n must give at least 2 intervals per axis \(ints >= 2\), got 1$"),
        ({"n": (4, 4)}, r"^n must be an int or 1 ints \(one per space axis\), got \[4, 4\]$"),
        ({"n": None}, r"^n must be an int or a sequence of ints \(one per space axis\), got None$"),
        ({"n": 4, "levels": 2}, r"^levels must be an int >= 3 \(two differences give an order\)"),
        ({"n": 4, "ratio": True}, r"^ratio must be an int >= 2 \(nested grids\), got True$"),
        ({"n": 4, "order": 3}, r"^order must be 2 or 4, got 3$"),
        ({"n": 4, "dt": -1.0}, r"^dt must be a positive finite number .* got float -1.0$"),
        ({"n": 4, "time_samples": 1}, r"^time_samples must be an int >= 2 or None, got 1$"),
        ({"n": 4, "extrapolate": "yes"}, r"^extrapolate must be True or False, got 'yes'$"),
    ],
)
def test_the_study_and_reference_files_check_settings_alike(settings, message):
    from neuralpde.reference import reference_settings

    heat = heat_problem(lambda x: smooth(1)(x) * torch.exp(-x[:, 1]), UNIT[1], 1.0)
    with pytest.raises(ValueError, match=message):
        convergence_study(heat, **settings)
    with pytest.raises(ValueError, match=message):
        reference_settings(heat, **settings)


def test_time_settings_of_a_steady_problem_are_refused_by_name():
    poisson = poisson_problem(smooth(1), UNIT[1])
    for kw in ({"dt": 0.1}, {"time_samples": 3}):
        key = next(iter(kw))
        for call in (solve_fd, convergence_study):
            with pytest.raises(ValueError, match=rf"^{key} applies to evolution problems only; "):
                call(poisson, 4, **kw)
