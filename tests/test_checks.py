"""Checks before training: coverage, probes of user callables, pure-Neumann compatibility."""

from __future__ import annotations

import math

import pytest
import torch

import neuralpde as npde
from neuralpde.checks import ProblemWarning, check_problem
from neuralpde.operators import partial

PI = math.pi
SQUARE = npde.Rectangle((0, 0), (1, 1))


def test_uncovered_boundary_parts_warn_with_their_names():
    p = npde.Problem(SQUARE, npde.Poisson(1.0), [npde.Dirichlet(0.0, on=["x_min", "x_max"])])
    with pytest.warns(ProblemWarning, match=r"\['y_min', 'y_max'\] have no boundary condition"):
        check_problem(p)


def test_fully_covered_problem_passes_silently():
    p = npde.Problem(
        SQUARE,
        npde.Poisson(1.0),
        [npde.Dirichlet(0.0, on=["x_min", "x_max"]), npde.Neumann(0.0, on=["y_min", "y_max"])],
    )
    check_problem(p)  # warnings are errors in the test suite


@pytest.mark.parametrize(
    ("conditions", "exact", "match"),
    [
        ([npde.Dirichlet(lambda x: x)], None, r"conditions\[0\] \(Dirichlet\).value returned"),
        ([npde.Dirichlet(0.0)], lambda x: x[:, 0] / 0.0, "exact returned non-finite"),
        (
            [npde.Robin(0.0, a=lambda x: x)],
            None,
            r"conditions\[0\] \(Robin\).a returned shape \(64, 2\) for 64 points",
        ),
        (
            [npde.Robin(0.0, b=lambda x: 1 / (x[:, 0] * 0))],
            None,
            r"conditions\[0\] \(Robin\).b returned non-finite",
        ),
    ],
)
def test_callables_are_probed(conditions, exact, match):
    p = npde.Problem(SQUARE, npde.Poisson(1.0), conditions, exact=exact)
    with pytest.raises(ValueError, match=match):
        check_problem(p)


def test_bad_coefficient_or_residual_is_caught_before_training():
    p = npde.Problem(SQUARE, npde.Poisson(f=lambda x: torch.log(x[:, 0] - 2)), [npde.Dirichlet()])
    with pytest.raises(ValueError, match="Poisson.f returned non-finite"):
        npde.solve(p)
    q = npde.Problem(SQUARE, lambda u, x: u * math.inf, [npde.Dirichlet()])
    with pytest.raises(ValueError, match="residual is NaN or infinite"):
        npde.solve(q)


def test_a_residual_defined_only_for_small_u_is_not_refused():
    """sqrt(1.2 - u) is NaN for the first probe field |x|^2 (which reaches 2 on the unit
    square), not for the second: the problem is checked, not refused."""
    from neuralpde.operators import laplacian

    eq = npde.Custom(lambda u, x: laplacian(u) + torch.sqrt(1.2 - u.value), time_order=0)
    check_problem(npde.Problem(SQUARE, eq, [npde.Dirichlet(0.0)]))
    never = npde.Custom(lambda u, x: laplacian(u) + torch.sqrt(-1.0 - u.value), time_order=0)
    with pytest.raises(ValueError, match="NaN or infinite .* for the probe fields"):
        check_problem(npde.Problem(SQUARE, never, [npde.Dirichlet(0.0)]))


def test_pure_neumann_poisson_compatibility():
    # -Δu = 2π² cos(πx) cos(πy) with zero flux is compatible (∫f = 0)
    ok = npde.Problem(
        SQUARE,
        npde.Poisson(lambda x: 2 * PI**2 * torch.cos(PI * x[:, 0]) * torch.cos(PI * x[:, 1])),
        [npde.Neumann(0.0)],
    )
    with pytest.warns(ProblemWarning, match="up to an additive constant"):
        check_problem(ok)
    # f = 1 with zero flux is not: ∫f = 1, ∮g = 0
    bad = npde.Problem(SQUARE, npde.Poisson(1.0), [npde.Neumann(0.0)])
    with pytest.raises(ValueError, match="pure Neumann but incompatible"):
        check_problem(bad)
    # f = 1 balanced by an outflow of 1/4 through each side of the unit square
    balanced = npde.Problem(SQUARE, npde.Poisson(1.0), [npde.Neumann(-0.25)])
    with pytest.warns(ProblemWarning, match="additive constant"):
        check_problem(balanced)


def test_robin_with_a_zero_is_a_neumann_condition():
    """a u + b du/dn = g with a = 0 fixes u only up to a constant, like Neumann(g / b)."""
    f = lambda x: 2 * PI**2 * torch.cos(PI * x[:, 0]) * torch.cos(PI * x[:, 1])  # noqa: E731
    free = npde.Problem(SQUARE, npde.Poisson(f), [npde.Robin(0.0, a=0.0, b=2.0)], name="r")
    with pytest.warns(ProblemWarning, match="'r' is pure Neumann: its solution is determined"):
        check_problem(free)
    assert free.determined_up_to_a_constant
    # f = 1 needs an outflow of 1/4 per side: b du/dn = -1/2 with b = 2 balances it, +1/2 not
    balanced = npde.Problem(SQUARE, npde.Poisson(1.0), [npde.Robin(-0.5, a=0, b=2.0)])
    with pytest.warns(ProblemWarning, match="additive constant"):
        check_problem(balanced)
    bad = npde.Problem(SQUARE, npde.Poisson(1.0), [npde.Robin(0.5, a=0, b=2.0)])
    with pytest.raises(ValueError, match="pure Neumann but incompatible: ∫f dx = 1 and ∮g ds = 1"):
        check_problem(bad)
    # a non-zero somewhere (or a callable a) pins the constant: no warning
    pinned = npde.Problem(SQUARE, npde.Poisson(f), [npde.Robin(0.0, a=1.0, b=2.0)])
    check_problem(pinned)
    assert not pinned.determined_up_to_a_constant
    varying = npde.Robin(0.0, a=lambda x: x[:, 0], b=1.0)
    assert not npde.Problem(SQUARE, npde.Poisson(f), [varying]).determined_up_to_a_constant


def test_periodic_poisson_compatibility_and_free_constant():
    x_periodic = npde.Periodic("x_min", "x_max")
    y_periodic = npde.Periodic("y_min", "y_max")
    y_flux = npde.Neumann(0.0, on=["y_min", "y_max"])
    # -Δu = 1 has no periodic solution: ∫f = 1, and periodic faces carry no net flux
    for conds, what in (
        ([x_periodic, y_periodic], "fully periodic"),
        ([x_periodic, y_flux], "periodic with Neumann elsewhere"),
    ):
        bad = npde.Problem(SQUARE, npde.Poisson(1.0), conds, name="p")
        with pytest.raises(ValueError, match=f"'p' is {what} but incompatible: ∫f dx = 1 and"):
            check_problem(bad)
    # the flux through y_max (-1 on a side of length 1) balances ∫f = 1
    balanced = npde.Problem(
        SQUARE,
        npde.Poisson(1.0),
        [x_periodic, npde.Neumann(0.0, on="y_min"), npde.Neumann(-1.0, on="y_max")],
    )
    with pytest.warns(ProblemWarning, match="determined only up to an additive constant"):
        check_problem(balanced)
    # f = sin(2πx) sin(2πy) has mean zero: solvable, up to a constant
    zero_mean = npde.Problem(
        SQUARE,
        npde.Poisson(lambda x: torch.sin(2 * PI * x[:, 0]) * torch.sin(2 * PI * x[:, 1])),
        [x_periodic, y_periodic],
        name="zm",
    )
    with pytest.warns(ProblemWarning, match="'zm' is fully periodic: its solution is determined"):
        check_problem(zero_mean)
    # the advice is one that raises no other warning: a point of data, not a Dirichlet part
    with pytest.warns(ProblemWarning) as record:
        check_problem(zero_mean)
    assert [str(w.message).split("; ")[1] for w in record] == [
        "pin it with an Observations condition at a point (validate compares such solutions "
        "with their means removed)"
    ]
    # a Dirichlet part fixes the constant and lifts the condition on f: no warning, no error
    check_problem(
        npde.Problem(
            SQUARE, npde.Poisson(1.0), [x_periodic, npde.Dirichlet(0.0, on=["y_min", "y_max"])]
        )
    )
    # observations fix the constant: the compatibility check stays, the warning goes
    observed = npde.Observations([[0.5, 0.5]], [1.0])
    check_problem(npde.Problem(SQUARE, npde.Poisson(0.0), [x_periodic, y_periodic, observed]))
    with pytest.raises(ValueError, match="fully periodic but incompatible"):
        check_problem(npde.Problem(SQUARE, npde.Poisson(1.0), [x_periodic, y_periodic, observed]))


def test_time_derivatives_must_match_time_order():
    from neuralpde.operators import dt, dtt, laplacian, partial

    slab = npde.SpaceTime(npde.Interval(0, 1), (0, 1))
    u0 = npde.Initial(lambda x: torch.sin(PI * x[:, 0]))

    def heat(u, x):
        return dt(u) - laplacian(u)

    # dt(u) with time_order left at 0: no initial data, the network would settle near zero
    forgot = npde.Problem(slab, npde.Custom(heat), [npde.Dirichlet(0.0)], name="forgot")
    msg = (
        r"problem 'forgot': the residual takes ∂u/∂t \(dt\) but Custom.time_order is 0; write "
        r"it as npde.Custom\(fn, time_order=1\) and add an Initial condition"
    )
    with pytest.raises(ValueError, match=msg):
        check_problem(forgot)
    with pytest.raises(ValueError, match=msg):  # Trainer.fit, without check_problem, too
        net = npde.Siren(width=4, depth=1).build(2).double()
        npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False).fit(
            net, forgot, npde.SobolSampler(16, 8, 8)
        )
    # a bare function on a SpaceTime domain is a steady Custom
    bare = npde.Problem(slab, heat, [npde.Dirichlet(0.0)], name="bare")
    with pytest.raises(ValueError, match="takes ∂u/∂t.*time_order is 0; write it as npde.Custom"):
        check_problem(bare)
    # dtt(u) under time_order=1: InitialVelocity is missing
    wave1 = npde.Problem(
        slab,
        npde.Custom(lambda u, x: dtt(u) - laplacian(u), time_order=1),
        [npde.Dirichlet(0.0), u0],
    )
    with pytest.raises(
        ValueError,
        match=r"takes ∂²u/∂t² \(dtt\) but Custom.time_order is 1; write it as "
        r"npde.Custom\(fn, time_order=2\) and add an InitialVelocity condition$",
    ):
        check_problem(wave1)
    # no time derivative under time_order=1: the initial condition over-determines it
    still = npde.Problem(
        slab, npde.Custom(lambda u, x: -laplacian(u), time_order=1), [npde.Dirichlet(0.0), u0]
    )
    with pytest.raises(
        ValueError,
        match="takes no time derivative but Custom.time_order is 1; give it time_order=0 and "
        "drop its Initial condition",
    ):
        check_problem(still)
    # agreeing problems pass: heat, a mixed ∂t∂x term, the wave equation, a steady t-slab
    check_problem(npde.Problem(slab, npde.Custom(heat, time_order=1), [npde.Dirichlet(0.0), u0]))
    sobolev = npde.Custom(lambda u, x: heat(u, x) - partial(u, "x", "x", "t"), time_order=1)
    check_problem(npde.Problem(slab, sobolev, [npde.Dirichlet(0.0), u0]))
    wave = npde.Wave(c=1.0)
    check_problem(npde.Problem(slab, wave, [npde.Dirichlet(0.0), u0, npde.InitialVelocity(0.0)]))
    check_problem(npde.Problem(slab, lambda u, x: -laplacian(u) - 1.0, [npde.Dirichlet(0.0)]))
    # observations may stand in for initial data; a residual that differentiates by itself
    # is not judged
    seen = npde.Observations([[0.5, 0.0], [0.5, 0.5]], [1.0, 0.6])
    check_problem(npde.Problem(slab, heat, [npde.Dirichlet(0.0), seen]))

    def by_hand(u, x):
        (g,) = torch.autograd.grad(u.value.sum(), x, create_graph=True)
        return g[:, 1] - laplacian(u)

    check_problem(npde.Problem(slab, by_hand, [npde.Dirichlet(0.0)]))
    # no time derivative under time_order=2
    flat = npde.Custom(lambda u, x: -laplacian(u), time_order=2)
    conds = [npde.Dirichlet(0.0), u0, npde.InitialVelocity(0.0)]
    with pytest.raises(ValueError, match="drop its Initial and InitialVelocity conditions, or"):
        check_problem(npde.Problem(slab, flat, conds))


def test_two_conditions_on_one_part_warn_with_the_part_and_both_conditions():
    p = npde.Problem(
        SQUARE, npde.Poisson(1.0), [npde.Dirichlet(0.0), npde.Dirichlet(1.0, on="x_min")], name="o"
    )
    with pytest.warns(ProblemWarning) as record:
        check_problem(p)
    assert [str(w.message) for w in record] == [
        "problem 'o': boundary part(s) ['x_min'] have two conditions, conditions[0] "
        "Dirichlet(0.0) and conditions[1] Dirichlet(1.0); training settles on a compromise "
        "between them, so give each part one condition, e.g. by naming the parts with on=[...]"
    ]
    mixed = [
        npde.Dirichlet(0.0, on=["x_min", "x_max", "y_min"]),
        npde.Neumann(lambda x: x[:, 0], on=["y_min", "y_max"]),
        npde.Robin(0.0, on="x_max"),
    ]
    with pytest.warns(ProblemWarning) as record:
        check_problem(npde.Problem(SQUARE, npde.Poisson(1.0), mixed))
    got = [str(w.message) for w in record]
    assert len(got) == 2
    assert (
        "['y_min'] have two conditions, conditions[0] Dirichlet(0.0) and conditions[1] " in got[0]
    )
    assert "conditions[1] Neumann(<function>)" in got[0]
    assert (
        "['x_max'] have two conditions, conditions[0] Dirichlet(0.0) and conditions[2] " in got[1]
    )
    periodic = [npde.Periodic("x_min", "x_max"), npde.Dirichlet(0.0)]
    with pytest.warns(ProblemWarning, match=r"\['x_min', 'x_max'\] have two conditions, "):
        check_problem(npde.Problem(SQUARE, npde.Poisson(1.0), periodic))

    # a custom equation may need two conditions of different kinds on a part (a clamped
    # plate, Δ²u = 1 with u = 0 and ∂u/∂n = 0): silent; two of one kind still warn
    def plate(u, x):
        return (
            partial(u, "x", "x", "x", "x")
            + 2 * partial(u, "x", "x", "y", "y")
            + partial(u, "y", "y", "y", "y")
            - 1
        )

    clamped = [npde.Dirichlet(0.0), npde.Neumann(0.0)]
    check_problem(npde.Problem(SQUARE, npde.Custom(plate), clamped))
    twice = [npde.Dirichlet(0.0), npde.Dirichlet(1.0, on="y_max")]
    with pytest.warns(ProblemWarning, match=r"\['y_max'\] have two conditions"):
        check_problem(npde.Problem(SQUARE, npde.Custom(plate), twice))
    # one condition per part, or one condition naming a part twice: silent
    parts = [
        npde.Dirichlet(0.0, on=["x_min", "x_min", "y_min"]),
        npde.Neumann(0.0, on=["x_max", "y_max"]),
    ]
    check_problem(npde.Problem(SQUARE, npde.Poisson(1.0), parts))


# -- condition kinds, probed on the initial slice --------------------------------------------------


def test_initial_kinds_are_probed_on_the_initial_slice():
    st = npde.SpaceTime(npde.Interval(0, 1), t_span=(0, 1))
    problem = npde.Problem(
        st,
        npde.Wave(1.0),
        [
            npde.Initial(lambda x: torch.sin(math.pi * x[:, 0])),
            npde.InitialVelocity(lambda x: x),  # two columns: refused by the probe
            npde.Dirichlet(0.0),
        ],
    )
    with pytest.raises(ValueError, match=r"conditions\[1\] \(InitialVelocity\).value returned"):
        check_problem(problem)
