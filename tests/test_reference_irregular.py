"""Finite-difference references on domains that are not boxes (Shortley–Weller): second-order
convergence to manufactured solutions on a disk, an L-shape, a square with a hole and a 3-D
ball, honest error estimates, Helmholtz, files, the command line and clear refusals."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.io import FormatError
from neuralpde.reference import convergence_study, load_reference, save_reference, solve_fd
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
    with pytest.raises(NotImplementedError, match="Neumann conditions on a Disk.*Dirichlet"):
        solve_fd(npde.Problem(disk, npde.Poisson(1.0), [npde.Neumann(0.0)]), 8)
    with pytest.raises(NotImplementedError, match="Robin conditions on a Disk"):
        solve_fd(npde.Problem(disk, npde.Poisson(1.0), [npde.Robin(0.0)]), 8)
    with pytest.raises(NotImplementedError, match="order=4 needs a Box.*use order=2"):
        solve_fd(ok, 8, order=4)
    with pytest.raises(NotImplementedError, match="order=4 needs a Box"):
        convergence_study(ok, 8, order=4)
    with pytest.raises(NotImplementedError, match="extrapolate=True needs a Box"):
        convergence_study(ok, 8, levels=4, extrapolate=True)
    with pytest.raises(ValueError, match="method='dst' needs a Box"):
        solve_fd(ok, 8, method="dst")
    heat = npde.Problem(
        npde.SpaceTime(disk, (0.0, 1.0)),
        npde.Heat(kappa=1.0),
        [npde.Dirichlet(0.0), npde.Initial(0.0)],
    )
    with pytest.raises(NotImplementedError, match="SpaceTime of a Disk.*SpaceTime of a Box"):
        solve_fd(heat, 8)
    holed = domains()["holed"]
    with pytest.raises(NotImplementedError, match=r"every boundary part.*'hole0.boundary'"):
        solve_fd(poisson(holed, [npde.Dirichlet(0.0, on=holed.parts_of("outer"))]), 8)


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
