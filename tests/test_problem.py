"""Problems, equations, conditions and coefficients: construction and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.coefficients import evaluate
from neuralpde.equations import Custom
from neuralpde.operators import laplacian

SQUARE = npde.Rectangle((0, 0), (1, 1))
SLAB = npde.SpaceTime(npde.Interval(0, 1), t_span=(0, 1))


def test_evolution_equation_needs_space_time():
    with pytest.raises(ValueError, match="SpaceTime domain"):
        npde.Problem(SQUARE, npde.Heat(), [npde.Dirichlet()])


def test_heat_needs_initial_condition():
    with pytest.raises(ValueError, match="needs an Initial condition"):
        npde.Problem(SLAB, npde.Heat(), [npde.Dirichlet()])


def test_wave_needs_initial_velocity():
    with pytest.raises(ValueError, match="InitialVelocity"):
        npde.Problem(SLAB, npde.Wave(), [npde.Dirichlet(), npde.Initial(0.0)])
    npde.Problem(SLAB, npde.Wave(), [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity()])


def test_initial_data_beyond_the_time_order_are_refused():
    # u_t of the heat equation at t0 follows from u0; a steady equation has no initial data
    with pytest.raises(
        ValueError,
        match=r"^Heat is first order in time \(time_order=1\), so an InitialVelocity condition "
        r"over-determines it: drop its InitialVelocity condition$",
    ):
        npde.Problem(
            SLAB, npde.Heat(), [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity()]
        )
    with pytest.raises(
        ValueError, match=r"^Poisson has no time derivative \(time_order=0\), so an Initial "
    ):
        npde.Problem(SLAB, npde.Poisson(), [npde.Dirichlet(), npde.Initial(0.0)])
    with pytest.raises(ValueError, match=r"write it as npde.Custom\(fn, time_order=1\) if it"):
        npde.Problem(SLAB, lambda u, x: -laplacian(u), [npde.Dirichlet(), npde.Initial(0.0)])
    fn = Custom(lambda u, x: -laplacian(u), time_order=1)
    with pytest.raises(ValueError, match=r"npde.Custom\(fn, time_order=2\) if it takes ∂²u/∂t²$"):
        npde.Problem(SLAB, fn, [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity()])
    npde.Problem(SLAB, npde.Heat(), [npde.Dirichlet(), npde.Initial(0.0)])
    npde.Problem(SLAB, npde.Poisson(), [npde.Dirichlet()])


def test_two_initial_conditions_of_one_kind_are_refused():
    # u(x, t0) takes one value: two Initial data left training a compromise between them and
    # the finite-difference reference the last one
    with pytest.raises(
        ValueError,
        match=r"^2 Initial conditions \(conditions\[1\] and conditions\[2\]\) each set u\(x, t0\)",
    ):
        npde.Problem(SLAB, npde.Heat(), [npde.Dirichlet(), npde.Initial(0.0), npde.Initial(1.0)])
    with pytest.raises(ValueError, match=r"^2 InitialVelocity conditions \(conditions\[2\] and "):
        npde.Problem(
            SLAB,
            npde.Wave(),
            [npde.Dirichlet(), npde.Initial(0.0), npde.InitialVelocity(), npde.InitialVelocity(1)],
        )


def test_initial_condition_on_steady_domain():
    with pytest.raises(ValueError, match="Initial conditions need a SpaceTime"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Initial(0.0)])


def test_unknown_boundary_part_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown boundary part\(s\) \['left'\].*x_max"):
        npde.Problem(SQUARE, npde.Poisson(), [npde.Dirichlet(0.0, on="left")])


def test_plain_residual_function_becomes_custom():
    p = npde.Problem(SQUARE, lambda u, x: -laplacian(u) - 1.0, [npde.Dirichlet()])
    assert isinstance(p.equation, Custom) and p.equation.time_order == 0
    assert p.describe()["equation"]["type"] == "Custom"
    # a NumPy integer is taken as the int it is
    eq = Custom(lambda u, x: -laplacian(u), time_order=np.int64(1))
    assert type(eq.time_order) is int and eq.time_order == 1


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"domain": "square"}, TypeError, "domain must be a neuralpde Domain"),
        ({"equation": 3}, TypeError, "equation must be an Equation"),
        ({"conditions": ["u=0"]}, TypeError, "conditions must be Condition"),
        ({"exact": 1.0}, TypeError, "exact must be a callable"),
        ({"name": ""}, ValueError, "name must be a non-empty string"),
    ],
)
def test_bad_problem_arguments(kwargs, exc, match):
    args = {"domain": SQUARE, "equation": npde.Poisson(), "conditions": [npde.Dirichlet()]}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        npde.Problem(**args)


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: npde.Poisson(f="x**2"), TypeError, "Poisson.f must be a number or a callable"),
        (lambda: npde.Helmholtz(k=float("nan")), ValueError, "Helmholtz.k must be finite"),
        (lambda: npde.Heat(kappa=None), TypeError, "Heat.kappa"),
        (
            lambda: npde.Heat(kappa=[lambda x: x[:, 0], 1.0]),
            TypeError,
            r"Heat.kappa as a tensor must be .* matrix of numbers .*, got \[<function",
        ),
        (lambda: npde.Heat(kappa=[[1.0, 0.2], [0.2]]), TypeError, r"got \[\[1.0, 0.2\], \[0.2\]\]"),
        (lambda: npde.Wave(c=True), TypeError, "Wave.c"),
        (lambda: npde.Dirichlet([1, 2]), TypeError, "Dirichlet.value"),
        (lambda: npde.Dirichlet(0.0, weight=-1), ValueError, "weight must be a positive"),
        (lambda: npde.Dirichlet(0.0, on=[]), ValueError, "on must be a boundary part"),
        (
            lambda: npde.Robin(1.0, 2.0, 3.0, 4.0),
            ValueError,
            r"Robin.on must be a boundary part name or a list of them, got 4.0; Robin takes "
            r"\(value, a, b, on\)",
        ),
        (lambda: npde.Neumann(0.0, 1.0, 2), ValueError, r"Neumann.on .* got 2; Neumann takes"),
        (lambda: npde.Dirichlet(0.0, on=b"x_min"), ValueError, "Dirichlet.on must be a boundary"),
        (
            lambda: npde.Dirichlet(0.0, "x_min"),
            TypeError,
            r"Dirichlet.weight .* got str 'x_min'; Dirichlet takes \(value, weight, on\): name the "
            r"boundary parts by keyword, on='x_min'",
        ),
        (lambda: npde.Neumann(1.0, ["x_min"]), TypeError, r"Neumann takes .* on=\['x_min'\]"),
        (lambda: Custom(None), TypeError, "Custom.fn must be a callable"),
        (lambda: Custom(lambda u, x: u, time_order=3), ValueError, "time_order must be 0, 1 or 2"),
        (
            lambda: Custom(lambda u, x: u, time_order=1.0),
            TypeError,
            r"Custom.time_order must be the int 0, 1 or 2, got float 1.0",
        ),
        (lambda: Custom(lambda u, x: u, time_order=True), TypeError, "got bool True"),
    ],
)
def test_bad_equation_and_condition_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_coefficients_accept_callables():
    x = torch.rand(50, 2, dtype=torch.float64)
    a = evaluate(lambda p: torch.sin(p[:, 0]) * p[:, 1], x, "f")
    np.testing.assert_allclose(a.numpy(), np.sin(x[:, 0].numpy()) * x[:, 1].numpy())
    assert a.dtype == torch.float64 and a.shape == (50,)
    # a NumPy result (e.g. from a lookup table) is converted to the points' dtype
    b = evaluate(lambda p: np.ones(len(p), dtype=np.float32), x, "f")
    assert b.dtype == torch.float64 and float(b.sum()) == 50.0
    assert evaluate(2.5, x).item() == 2.5
    assert evaluate(lambda p: 3.0, x).shape == (50,)  # a scalar broadcasts to every point


def test_coefficient_shape_and_finiteness_are_checked():
    x = torch.rand(10, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"Poisson.f returned shape \(10, 2\).*expected \(10,\)"):
        evaluate(lambda p: p, x, "Poisson.f")
    with pytest.raises(ValueError, match="Heat.kappa returned non-finite"):
        evaluate(lambda p: 1 / (p[:, 0] * 0), x, "Heat.kappa")


def test_describe_is_json_ready():
    import json

    p = npde.Problem(
        SLAB,
        npde.Wave(c=2.0, f=lambda x: x[:, 0]),
        [npde.Dirichlet(0.0, on="x_min"), npde.Initial(1.0), npde.InitialVelocity(0.0)],
        name="w",
    )
    d = json.loads(json.dumps(p.describe()))
    assert d["equation"]["latex"] == r"u_{tt} = c^2 \Delta u + f"
    assert d["equation"]["c"] == "2.0" and "x[:, 0]" in d["equation"]["f"]
    assert [c["type"] for c in d["conditions"]] == ["Dirichlet", "Initial", "InitialVelocity"]
    assert d["conditions"][0]["on"] == ["x_min"]
    assert d["domain"]["t_span"] == [0.0, 1.0]


def test_heat_divergence_form_adds_grad_kappa_dot_grad_u():
    r"""∇·(κ∇u) = κΔu + ∇κ·∇u, with κ = 1 + 0.5 x y and u = e^{-t} sin(πx) sin(πy)."""
    from neuralpde.operators import FieldValues

    def kappa(p):
        return 1 + 0.5 * p[:, 0] * p[:, 1]

    x = torch.rand(64, 3, dtype=torch.float64, requires_grad=True)
    X, Y, T = x[:, 0], x[:, 1], x[:, 2]
    pi = np.pi

    def field():
        return FieldValues(torch.exp(-T) * torch.sin(pi * X) * torch.sin(pi * Y), x, "xyt", 2)

    plain = npde.Heat(kappa=kappa).residual(field(), x)
    div = npde.Heat(kappa=kappa, divergence_form=True).residual(field(), x)
    ux = pi * torch.exp(-T) * torch.cos(pi * X) * torch.sin(pi * Y)
    uy = pi * torch.exp(-T) * torch.sin(pi * X) * torch.cos(pi * Y)
    expected = -(0.5 * Y * ux + 0.5 * X * uy)
    torch.testing.assert_close(div - plain, expected.detach(), rtol=1e-12, atol=1e-12)
    assert npde.Heat(divergence_form=True).latex == r"u_t = \nabla\cdot(\kappa \nabla u) + f"
    with pytest.raises(
        TypeError,
        match=r"gradient of Heat.kappa is needed, but it returned a ndarray, not a torch tensor: "
        "write it with differentiable torch functions",
    ):
        npde.Heat(kappa=lambda p: np.ones(len(p)), divergence_form=True).residual(field(), x)
    # written with torch, but constant in x (piecewise here): no gradient to take, and not NumPy
    layered = npde.Heat(kappa=lambda p: torch.where(p[:, 0] < 0.5, 1.0, 2.0), divergence_form=True)
    with pytest.raises(TypeError, match=r"returned values that do not depend differentiably on "):
        layered.residual(field(), x)
    with pytest.raises(TypeError, match="divergence_form must be True or False"):
        npde.Heat(divergence_form="yes")


def test_anisotropic_heat_residual_matches_closed_form():
    r"""u = e^{-t} sin(πx) sin(2πy), K = [[2, 0.5], [0.5, 1]]: div(K grad u) = sum K_ij u_ij."""
    from neuralpde.operators import FieldValues

    K = [[2.0, 0.5], [0.5, 1.0]]
    x = torch.rand(64, 3, dtype=torch.float64, requires_grad=True)
    X, Y, T = x[:, 0], x[:, 1], x[:, 2]
    pi = np.pi
    u = FieldValues(torch.exp(-T) * torch.sin(pi * X) * torch.sin(2 * pi * Y), x, "xyt", 2)
    r = npde.Heat(kappa=K).residual(u, x)
    e = torch.exp(-T)
    uxx = -(pi**2) * e * torch.sin(pi * X) * torch.sin(2 * pi * Y)
    uyy = -4 * pi**2 * e * torch.sin(pi * X) * torch.sin(2 * pi * Y)
    uxy = 2 * pi**2 * e * torch.cos(pi * X) * torch.cos(2 * pi * Y)
    ut = -e * torch.sin(pi * X) * torch.sin(2 * pi * Y)
    expected = ut - (2 * uxx + 2 * 0.5 * uxy + uyy)
    torch.testing.assert_close(r, expected.detach(), rtol=1e-10, atol=1e-10)
    # diagonal entries alone
    assert npde.Heat(kappa=[2.0, 1.0]).kappa == ((2.0, 0.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="positive definite"):
        npde.Heat(kappa=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        npde.Heat(kappa=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="3x3 tensor but the space has 2"):
        npde.Heat(kappa=[1.0, 1.0, 1.0]).residual(u, x)


def test_exact_values_checks_its_points():
    problem = npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(),
        [npde.Dirichlet(0.0)],
        exact=lambda x: x[:, 0] + 10 * x[:, 1],
    )
    np.testing.assert_array_equal(problem.exact_values([[1, 2], [0.5, 0.25]]), [21.0, 3.0])
    np.testing.assert_array_equal(problem.exact_values(torch.tensor([0.5, 0.25])), [3.0])
    # np.asarray(..., dtype=float) once read these as numbers and ignored the mask
    for points in ([["1", "2"]], [[True, False]], [[None, 0.5]], [[np.nan, 0.5]]):
        with pytest.raises(ValueError, match=r"points (must|contain NaN)"):
            problem.exact_values(points)
    masked = np.ma.masked_array([[0.5, 0.5], [9.0, 9.0]], mask=[[0, 0], [1, 1]])
    with pytest.raises(TypeError, match="points must not be a masked array"):
        problem.exact_values(masked)
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\) with columns"):
        problem.exact_values(np.zeros((2, 3)))
