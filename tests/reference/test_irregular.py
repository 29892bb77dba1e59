"""Finite-difference references on domains that are not boxes (Shortley–Weller, ghost nodes):
second-order convergence to manufactured solutions on a disk, an L-shape, a square with a hole
and a 3-D ball with Dirichlet, Neumann and Robin data, pure Neumann Poisson, heat and wave on a
disk, honest error estimates, Helmholtz, files, the command line and clear refusals."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.domains import Box
from neuralpde.io import FormatError
from neuralpde.reference import (
    convergence_study,
    load_reference,
    nodes_inside,
    save_reference,
    solve_fd,
)
from neuralpde.reference._boundary import cell_weights
from neuralpde.reference._grid import Grid
from neuralpde.reference.irregular import first_crossing

PI = math.pi


def exact2(x: torch.Tensor) -> torch.Tensor:
    """``sin(pi x) exp(y)``: :math:`\\Delta u = (1 - \\pi^2) u`."""
    return torch.sin(PI * x[:, 0]) * torch.exp(x[:, 1])


def exact3(x: torch.Tensor) -> torch.Tensor:
    """``exp(x) sin(2y) cos(1.5z)``: :math:`\\Delta u = (1 - 4 - 2.25) u`."""
    return torch.exp(x[:, 0]) * torch.sin(2 * x[:, 1]) * torch.cos(1.5 * x[:, 2])


LAPLACE = {2: 1 - PI**2, 3: 1 - 4 - 2.25}  # Delta u = LAPLACE[d] u
EXACT = {2: exact2, 3: exact3}

SQUARE = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
L_SHAPE = [(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)]


def domains() -> dict[str, npde.Domain]:
    return {
        "disk": npde.Disk((0.1, 0.05), 0.9),
        "lshape": npde.Polygon(L_SHAPE),
        "holed": SQUARE - npde.Disk((0.5, 0.5), 0.2),
    }


def poisson(domain: npde.Domain, conditions=None, name: str = "irregular") -> npde.Problem:
    d = domain.dim
    u, lap = EXACT[d], LAPLACE[d]
    return npde.Problem(
        domain,
        npde.Poisson(lambda x: -lap * u(x)),
        conditions or [npde.Dirichlet(u)],
        exact=u,
        name=name,
    )


def helmholtz(domain: npde.Domain, k) -> npde.Problem:
    u, lap = exact2, LAPLACE[2]

    def f(x):
        kk = k(x) if callable(k) else k
        return (lap + kk**2) * u(x)

    return npde.Problem(
        domain, npde.Helmholtz(k=k, f=f), [npde.Dirichlet(u)], exact=u, name="helmholtz"
    )


def errors(sol, domain: npde.Domain, exact) -> tuple[float, float]:
    """Relative L2 and max errors over the nodes inside ``domain``, after checking that they
    all have values and the nodes outside none."""
    pts = sol.points()
    inside = domain.contains(pts)
    v = sol.values.ravel()
    assert np.isfinite(v[inside]).all()
    assert np.isnan(v[~inside]).all()
    u = exact(torch.as_tensor(pts[inside])).numpy()
    e = v[inside] - u
    return float(np.linalg.norm(e) / np.linalg.norm(u)), float(np.abs(e).max() / np.abs(u).max())


def orders(errs: list[float]) -> list[float]:
    return [math.log2(a / b) for a, b in zip(errs[:-1], errs[1:], strict=True)]


# -- convergence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["disk", "lshape", "holed"])
def test_second_order_and_honest_estimate_in_2d(name):
    domain = domains()[name]
    problem = poisson(domain)
    ref = convergence_study(problem, 8, levels=4)
    assert ref.order == 2 and "Shortley-Weller" in ref.scheme
    assert ref.values.shape == (65, 65)
    l2, mx = errors(ref, domain, exact2)
    coarse = [errors(solve_fd(problem, n), domain, exact2) for n in (8, 16, 32)]
    l2s, mxs = [e[0] for e in coarse] + [l2], [e[1] for e in coarse] + [mx]
    # the exact errors fall at order 2 on the finer pairs, and the study sees it
    assert all(abs(p - 2) <= 0.2 for p in orders(l2s)[1:]), orders(l2s)
    assert all(abs(p - 2) <= 0.3 for p in orders(mxs)[1:]), orders(mxs)
    assert abs(ref.observed_order - 2) <= 0.2
    # the Richardson estimate and the GCI are within a factor 3 of the true error
    assert l2 / 3 <= ref.estimated_error <= 3 * l2
    assert l2 / 3 <= ref.gci <= 3 * l2


def test_second_order_on_a_ball_in_3d():
    ball = npde.Ball((0.05, 0.0, -0.02), 0.9)
    problem = poisson(ball)
    ref = convergence_study(problem, 8, levels=3)
    l2, _ = errors(ref, ball, exact3)
    l2s = [errors(solve_fd(problem, n), ball, exact3)[0] for n in (8, 16)] + [l2]
    assert abs(orders(l2s)[-1] - 2) <= 0.2, orders(l2s)
    assert abs(ref.observed_order - 2) <= 0.2
    assert l2 / 3 <= ref.estimated_error <= 3 * l2


@pytest.mark.parametrize("k", [3.0, lambda x: 2.0 + x[:, 0]], ids=["constant k", "variable k"])
def test_helmholtz_on_a_disk(k):
    disk = npde.Disk((0.0, 0.0), 1.0)
    ref = convergence_study(helmholtz(disk, k), 8, levels=4)
    l2, _ = errors(ref, disk, exact2)
    assert abs(ref.observed_order - 2) <= 0.2
    assert l2 / 3 <= ref.estimated_error <= 3 * l2
    assert ref.scheme.startswith("helmholtz: Shortley-Weller")


def test_every_node_of_a_polygon_is_solved_exactly_for_a_quadratic():
    """The Shortley–Weller difference is exact for quadratics: a quadratic solution is
    reproduced to rounding, crossings and boundary nodes included."""
    poly = npde.Polygon([(0, 0), (1, 0.1), (0.9, 0.8), (0.35, 1), (0.05, 0.6)])

    def u(x):
        return 1 + x[:, 0] - 2 * x[:, 1] + x[:, 0] ** 2 + 0.5 * x[:, 0] * x[:, 1] - x[:, 1] ** 2

    problem = npde.Problem(poly, npde.Poisson(0.0), [npde.Dirichlet(u)], exact=u)
    _, mx = errors(solve_fd(problem, 13), poly, u)
    assert mx < 1e-11


def test_conditions_by_part_match_one_condition():
    """Dirichlet conditions on separate parts (polygon edges, CSG children) take the value of
    the part each boundary point lies on."""
    lshape = npde.Polygon(L_SHAPE)
    parts = lshape.boundary_parts
    split = [npde.Dirichlet(exact2, on=parts[:2]), npde.Dirichlet(exact2, on=parts[2:])]
    a = solve_fd(poisson(lshape), 16).values
    b = solve_fd(poisson(lshape, split), 16).values
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    holed = domains()["holed"]
    split = [
        npde.Dirichlet(exact2, on=holed.parts_of("outer")),
        npde.Dirichlet(exact2, on=holed.parts_of("hole0")),
    ]
    a = solve_fd(poisson(holed), 16).values
    b = solve_fd(poisson(holed, split), 16).values
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    # different data on the hole: the solution changes near it only
    c = solve_fd(poisson(holed, [*split, npde.Dirichlet(5.0, on=holed.parts_of("hole0"))]), 16)
    assert np.nanmax(np.abs(c.values - a)) > 1


@pytest.mark.parametrize("axis,sign", [(0, 1), (0, -1), (1, 1), (1, -1)])
def test_crossings_by_root_finding_agree_with_the_exact_ones(axis, sign):
    """The signed-distance root-finding (CSG, meshes) finds the crossings the disk's and the
    polygon's closed forms give."""
    rng = np.random.default_rng(axis * 2 + (sign > 0))
    disk = npde.Disk((0.1, 0.05), 0.9)
    ring = disk & npde.Rectangle((-5.0, -5.0), (5.0, 5.0))  # the disk, via CSG
    poly = npde.Polygon(L_SHAPE)
    square_l = SQUARE - npde.Rectangle((0.5, 0.5), (1.5, 1.5))
    for exact, generic, lo, hi in ((disk, ring, -0.5, 0.5), (poly, square_l, 0.05, 0.45)):
        p = rng.uniform(lo, hi, (400, 2))
        h = 0.3
        a = first_crossing(exact, p, axis, sign, h)
        b = first_crossing(generic, p, axis, sign, h)
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-11)
        hit = a < 1
        q = p[hit] + np.outer(a[hit] * sign * h, np.eye(2)[axis])
        np.testing.assert_allclose(exact.distance(q), 0, atol=1e-12)


# -- Neumann and Robin conditions -----------------------------------------------------------------


def grad2(x: torch.Tensor) -> torch.Tensor:
    """The gradient of :func:`exact2`."""
    e = torch.exp(x[:, 1])
    return torch.stack([PI * torch.cos(PI * x[:, 0]) * e, torch.sin(PI * x[:, 0]) * e], dim=1)


def ball3(x: torch.Tensor) -> torch.Tensor:
    """``exp(x + y/2) cos(z)``: :math:`\\Delta u = (1 + 1/4 - 1) u`."""
    return torch.exp(x[:, 0] + 0.5 * x[:, 1]) * torch.cos(x[:, 2])


def grad_ball3(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x[:, 0] + 0.5 * x[:, 1])
    c, s = torch.cos(x[:, 2]), torch.sin(x[:, 2])
    return torch.stack([e * c, 0.5 * e * c, -e * s], dim=1)


def radial_flux(ball: npde.Ball, grad):
    """:math:`\\partial_n u` on the sphere of ``ball`` (any extra columns, e.g. time, kept)."""
    c = torch.as_tensor(ball.center)
    d = len(ball.center)

    def flux(x: torch.Tensor) -> torch.Tensor:
        return (grad(x) * (x[:, :d] - c) / ball.radius).sum(dim=1)

    return flux


def disk_mean(disk: npde.Disk, u) -> float:
    """The mean of ``u`` over ``disk`` by a polar Gauss rule (spectrally accurate)."""
    r, wr = np.polynomial.legendre.leggauss(32)
    r, wr = (r + 1) * disk.radius / 2, wr * disk.radius / 2
    phi = 2 * PI * np.arange(64) / 64
    pts = disk.center + (r[:, None, None] * np.stack([np.cos(phi), np.sin(phi)], -1)).reshape(-1, 2)
    w = (wr[:, None] * r[:, None] * np.full(64, 2 * PI / 64)).ravel()
    return float(w @ u(torch.as_tensor(pts)).numpy()) / float(w.sum())


def check_study(problem, domain, exact, n, levels, error=errors, **settings):
    """The study's observed order is 2 +- 0.2, the true errors of the nested grids fall at
    order 2 +- 0.2, and the GCI is within a factor 3 of the finest grid's true error."""
    ref = convergence_study(problem, n, levels=levels, **settings)
    true = error(ref, domain, exact)[0]
    grids = [n * 2**k for k in range(levels - 1)]
    coarse = [error(solve_fd(problem, m, **settings), domain, exact)[0] for m in grids]
    assert all(abs(p - 2) <= 0.2 for p in orders(coarse + [true])[-2:]), orders(coarse + [true])
    assert abs(ref.observed_order - 2) <= 0.2, ref.observed_order
    assert true / 3 <= ref.gci <= 3 * true, (ref.gci, true)
    return ref, true


def test_neumann_on_a_disk():
    """Helmholtz with k = 1 (not singular) and the flux of the exact solution on the circle."""
    disk = npde.Disk((0.1, 0.05), 0.9)
    flux = radial_flux(disk, grad2)
    problem = npde.Problem(
        disk,
        npde.Helmholtz(k=1.0, f=lambda x: (LAPLACE[2] + 1) * exact2(x)),
        [npde.Neumann(flux)],
        exact=exact2,
    )
    ref, _ = check_study(problem, disk, exact2, 8, 4)
    assert "Neumann by ghost nodes" in ref.scheme and ref.values.shape == (65, 65)


def test_robin_on_part_of_an_l_shape_with_dirichlet_elsewhere():
    """Robin on the bottom and right edges (normals -y, +x), Dirichlet on the others; the
    junctions with Dirichlet edges take the Dirichlet value."""
    lshape = npde.Polygon(L_SHAPE)
    conditions = [
        npde.Dirichlet(exact2, on=["edge2", "edge3", "edge4", "edge5"]),
        npde.Robin(lambda x: exact2(x) - 0.5 * grad2(x)[:, 1], a=1.0, b=0.5, on="edge0"),
        npde.Robin(lambda x: exact2(x) + 0.5 * grad2(x)[:, 0], a=1.0, b=0.5, on="edge1"),
    ]
    problem = poisson(lshape, conditions)
    ref, _ = check_study(problem, lshape, exact2, 8, 4)
    assert "Dirichlet data" in ref.scheme and "Robin by ghost nodes" in ref.scheme


def test_pure_neumann_poisson_on_a_disk_is_the_zero_mean_solution():
    disk = npde.Disk((0.1, 0.05), 0.9)
    mean = disk_mean(disk, exact2)

    def zero_mean(x):
        return exact2(x) - mean

    flux = radial_flux(disk, grad2)
    problem = npde.Problem(
        disk, npde.Poisson(lambda x: -LAPLACE[2] * exact2(x)), [npde.Neumann(flux)], exact=zero_mean
    )
    ref, _ = check_study(problem, disk, zero_mean, 8, 4)
    assert "pure Neumann, zero-mean solution" in ref.scheme
    # the mean by the grid's second-order quadrature is zero
    grid = Grid(Box(*disk.bounds), ref.n)
    w = cell_weights(disk, grid, disk.contains(grid.points()))
    values = ref.values.ravel()
    inside = np.isfinite(values)
    assert abs(w[inside] @ values[inside]) < 1e-12 * (w @ np.abs(np.nan_to_num(values)))
    # incompatible data are refused
    bad = npde.Problem(disk, npde.Poisson(1.0), [npde.Neumann(0.0)])
    with pytest.raises(ValueError, match="compatible: int f \\+ oint g = 0 over the Disk"):
        solve_fd(bad, 8)


def test_neumann_on_a_ball_in_3d():
    ball = npde.Ball((0.05, 0.0, -0.02), 0.9)
    lap = 1.0 + 0.25 - 1.0
    problem = npde.Problem(
        ball,
        npde.Helmholtz(k=3.0, f=lambda x: (lap + 9.0) * ball3(x)),
        [npde.Neumann(radial_flux(ball, grad_ball3))],
        exact=ball3,
    )
    check_study(problem, ball, ball3, 8, 3)


# -- evolution ------------------------------------------------------------------------------------


def spacetime_errors(sol, domain: npde.Domain, exact) -> tuple[float, float]:
    """:func:`errors` over space and the stored time levels."""
    mesh = np.meshgrid(*sol.axes, indexing="ij")
    pts = np.stack([m.ravel() for m in mesh], axis=1)
    inside = domain.contains(pts[:, :-1])
    v = sol.values.ravel()
    assert np.isfinite(v[inside]).all() and np.isnan(v[~inside]).all()
    u = exact(torch.as_tensor(pts[inside])).numpy()
    e = v[inside] - u
    return float(np.linalg.norm(e) / np.linalg.norm(u)), float(np.abs(e).max() / np.abs(u).max())


def test_heat_on_a_disk_with_time_dependent_dirichlet_data():
    disk = npde.Disk((0.1, 0.05), 0.9)
    kappa = 0.5

    def u(x):
        return torch.exp(-x[:, 2]) * exact2(x)

    problem = npde.Problem(
        npde.SpaceTime(disk, (0.0, 0.5)),
        npde.Heat(kappa=kappa, f=lambda x: (-1.0 - kappa * LAPLACE[2]) * u(x)),
        [npde.Dirichlet(u), npde.Initial(u)],
        exact=u,
    )
    ref, _ = check_study(problem, disk, u, 8, 4, error=spacetime_errors, time_samples=3)
    assert ref.values.shape == (65, 65, 3) and ref.scheme.startswith("heat: Crank-Nicolson")


def test_wave_on_a_disk_with_neumann_data():
    disk = npde.Disk((0.1, 0.05), 0.9)

    def u(x):
        return torch.cos(2 * x[:, 2] + 0.3) * exact2(x)

    def grad(x):
        return torch.cos(2 * x[:, 2] + 0.3)[:, None] * grad2(x)

    problem = npde.Problem(
        npde.SpaceTime(disk, (0.0, 0.5)),
        npde.Wave(c=1.0, f=lambda x: (-4.0 - LAPLACE[2]) * u(x)),
        [
            npde.Neumann(radial_flux(disk, grad)),
            npde.Initial(u),
            npde.InitialVelocity(lambda x: -2 * torch.sin(2 * x[:, 2] + 0.3) * exact2(x)),
        ],
        exact=u,
    )
    ref, _ = check_study(problem, disk, u, 8, 4, error=spacetime_errors, time_samples=3)
    assert "leapfrog" in ref.scheme and "spectral radius" in ref.scheme


def test_wave_on_a_disk_with_dirichlet_data_merges_near_crossings():
    """Dirichlet data: Shortley-Weller with merged nodes keeps leapfrog's step at the box's."""
    disk = npde.Disk((0.1, 0.05), 0.9)

    def u(x):
        return torch.cos(2 * x[:, 2] + 0.3) * exact2(x)

    problem = npde.Problem(
        npde.SpaceTime(disk, (0.0, 0.5)),
        npde.Wave(c=1.0, f=lambda x: (-4.0 - LAPLACE[2]) * u(x)),
        [
            npde.Dirichlet(u),
            npde.Initial(u),
            npde.InitialVelocity(lambda x: -2 * torch.sin(2 * x[:, 2] + 0.3) * exact2(x)),
        ],
        exact=u,
    )
    ref, _ = check_study(problem, disk, u, 8, 4, error=spacetime_errors, time_samples=3)
    box = npde.Problem(
        npde.SpaceTime(npde.Rectangle((-0.8, -0.85), (1.0, 0.95)), (0.0, 0.5)),
        npde.Wave(c=1.0),
        [npde.Dirichlet(0.0), npde.Initial(0.0), npde.InitialVelocity(0.0)],
    )
    for n in (16, 32, 64):  # the box's own step, within the spectral radius' 1% margin
        assert solve_fd(problem, n).steps <= 1.1 * solve_fd(box, n).steps
    with pytest.raises(ValueError, match="unstable for leapfrog on this grid of the Disk"):
        solve_fd(problem, 16, dt=0.2)


def test_a_timed_non_box_reference_is_saved_and_loaded(tmp_path):
    disk = npde.Disk((0.0, 0.0), 1.0)
    problem = npde.Problem(
        npde.SpaceTime(disk, (0.0, 0.25)),
        npde.Heat(kappa=1.0, f=1.0),
        [npde.Robin(0.0, a=1.0, b=1.0), npde.Initial(0.0)],
        name="heat_disk",
    )
    ref = convergence_study(problem, 8, levels=3, time_samples=2)
    path = save_reference(ref, tmp_path / "heat.h5", problem=problem)
    back = load_reference(path)
    np.testing.assert_array_equal(back.values, ref.values)  # NaN at the same nodes
    # NaN exactly outside the disk, at every stored time
    inside = nodes_inside(problem.domain.describe(), ref.axes)
    np.testing.assert_array_equal(inside, np.isfinite(ref.values))
    assert ref.values.shape == (33, 33, 2)


# -- files, the command line ---------------------------------------------------------------------


def test_save_and_load_a_non_box_reference(tmp_path):
    holed = domains()["holed"]
    ref = convergence_study(poisson(holed, name="holed"), 8, levels=3)
    path = save_reference(ref, tmp_path / "holed.h5")
    back = load_reference(path)
    np.testing.assert_array_equal(back.values, ref.values)  # NaN at the same nodes
    assert back.estimated_error == ref.estimated_error and back.scheme == ref.scheme
    assert back.settings["order"] == 2
    # a NaN inside the domain is refused as damage
    values = ref.values.copy()
    values[16, 4] = np.nan  # (0.5, 0.125): inside
    bad = dataclasses.replace(ref, values=values)
    save_reference(bad, tmp_path / "bad.h5")
    with pytest.raises(FormatError, match="NaN at 1 .* inside the problem's Difference"):
        load_reference(tmp_path / "bad.h5")


def test_command_line_reference_on_a_polygon(tmp_path, capsys):
    """``neuralpde reference`` picks order 2 on a non-box domain (order 4 needs a box)."""
    problem_file = tmp_path / "lshape.py"
    problem_file.write_text(
        "import math\n"
        "import torch\n"
        "import neuralpde as npde\n\n"
        "def exact(x):\n"
        "    return torch.sin(math.pi * x[:, 0]) * torch.exp(x[:, 1])\n\n"
        "problem = npde.Problem(\n"
        f"    npde.Polygon({L_SHAPE!r}),\n"
        "    npde.Poisson(lambda x: (math.pi ** 2 - 1) * exact(x)),\n"
        "    [npde.Dirichlet(exact)],\n"
        "    exact=exact,\n"
        "    name='lshape',\n"
        ")\n"
    )
    out = tmp_path / "ref.h5"
    assert main(["reference", str(problem_file), "-o", str(out), "--n", "8"]) == 0
    ref = load_reference(out)
    assert ref.order == 2 and abs(ref.observed_order - 2) < 0.3
    assert "Shortley-Weller" in capsys.readouterr().out + ref.scheme


# -- refusals ------------------------------------------------------------------------------------


def test_refusals_say_what_is_supported():
    disk = npde.Disk((0.0, 0.0), 1.0)
    ok = poisson(disk)
    seen = npde.Observations([[0.1, 0.2]], [1.0])
    with pytest.raises(NotImplementedError, match="Observations conditions on a Disk.*Robin"):
        solve_fd(npde.Problem(disk, npde.Poisson(1.0), [npde.Dirichlet(0.0), seen]), 8)
    with pytest.raises(NotImplementedError, match="order=4 needs a Box.*use order=2"):
        solve_fd(ok, 8, order=4)
    with pytest.raises(NotImplementedError, match="order=4 needs a Box"):
        convergence_study(ok, 8, order=4)
    with pytest.raises(NotImplementedError, match="extrapolate=True needs a Box"):
        convergence_study(ok, 8, levels=4, extrapolate=True)
    with pytest.raises(ValueError, match="method='dst' needs a Box"):
        solve_fd(ok, 8, method="dst")
    holed = domains()["holed"]
    with pytest.raises(NotImplementedError, match=r"every boundary part.*'hole0.boundary'"):
        solve_fd(poisson(holed, [npde.Dirichlet(0.0, on=holed.parts_of("outer"))]), 8)
    # Robin coefficients that change with time
    robin = npde.Robin(0.0, a=lambda x: 1.0 + x[:, 2], b=1.0)
    moving = npde.Problem(
        npde.SpaceTime(disk, (0.0, 1.0)), npde.Heat(kappa=1.0), [robin, npde.Initial(0.0)]
    )
    with pytest.raises(NotImplementedError, match="Robin coefficients a and b that change"):
        solve_fd(moving, 8)


def test_a_hole_the_grid_cannot_resolve_is_refused_naming_the_grid_it_needs():
    tiny = SQUARE - npde.Disk((0.52, 0.47), 0.03)
    problem = npde.Problem(tiny, npde.Poisson(1.0), [npde.Dirichlet(0.0)])
    with pytest.raises(ValueError, match=r"n=\[8, 8\].*cannot resolve.*n=\[32, 32\]"):
        solve_fd(problem, 8)
    with pytest.raises(ValueError, match=r"n=\[16, 16\].*leaves it.*n=\[32, 32\]"):
        convergence_study(problem, 16)
    solve_fd(problem, 32)  # resolved
    # a channel narrower than the spacing, between grid lines
    slit = SQUARE - npde.Rectangle((0.2, 0.44), (0.8, 0.46))
    with pytest.raises(ValueError, match=r"n=\[8, 8\].*cannot resolve"):
        solve_fd(npde.Problem(slit, npde.Poisson(1.0), [npde.Dirichlet(0.0)]), 8)


def test_interpolation_inside_a_disk():
    disk = npde.Disk((0.0, 0.0), 1.0)
    problem = npde.Problem(disk, npde.Poisson(1.0), [npde.Dirichlet(0.0)])  # (1 - r^2) / 4
    sol = solve_fd(problem, 16)
    v = sol.interpolate([[0.0, 0.0], [0.5, 0.1], [0.7, 0.7]], method="linear")
    np.testing.assert_allclose(v[:2], [0.25, 0.185], atol=1e-3)
    assert np.isnan(v[2])  # outside
    with pytest.raises(ValueError, match="method='linear'"):
        sol.interpolate([[0.0, 0.0]])


@pytest.mark.slow
def test_a_solution_on_an_l_shape_is_validated_against_its_reference(tmp_path):
    """The reference is NaN outside the L; validate compares the network inside only, and the
    difference it measures is the network's error (the reference's own is far smaller)."""
    p = poisson(npde.Polygon(L_SHAPE), name="lshape_validate")
    ref = convergence_study(p, n=16, levels=3)
    path = save_reference(ref, tmp_path / "ref.h5", problem=p)
    sampler = npde.SobolSampler(n_interior=300, n_boundary=100)
    trainer = npde.Trainer(gauss_newton_steps=30)
    sol = npde.solve(p, npde.Siren(16, 2, w0=3.0), sampler, trainer, constraints=False)
    res = npde.validate.validate(sol, reference=path, tol=1e-2)
    assert res.passed
    exact = sol.errors()["relative_l2"]
    assert 0.5 * exact < res.metrics["relative_l2"] < 2 * exact + 3 * ref.estimated_error
    assert any("not a box" in n for n in res.notes)
    # a NaN planted at a node inside the L is refused, as damage
    bad = dataclasses.replace(
        ref,
        values=np.where(
            np.arange(ref.values.size).reshape(ref.values.shape) == ref.values.size // 4 + 3,
            np.nan,
            ref.values,
        ),
    )
    assert np.isfinite(ref.values.reshape(-1)[ref.values.size // 4 + 3])
    with pytest.raises(ValueError, match="NaN or infinite at 1 of its .* nodes inside the domain"):
        npde.validate.validate(sol, reference=bad)
