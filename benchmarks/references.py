"""Finite-difference reference benchmark: cost and own error of each catalog reference.

For every catalog problem: the convergence study with the settings of the problem file's
``reference`` study (wall time, observed order, Richardson estimate of the stored solution's
relative error), and the time of one 2-D Poisson solve on a 1025 x 1025 grid (B1's problem,
median of 3, second and fourth order). Then the references on domains that are not boxes
(Shortley-Weller, second order; cases G1-G5: a disk (Poisson, Helmholtz), an L-shape, a square
with two holes, a 3-D ball, with Dirichlet data; G6-G9: Neumann on a disk (Helmholtz), Robin on
two edges of an L-shape, heat (Crank-Nicolson, time-dependent Dirichlet data) and wave
(leapfrog, Neumann data) on a disk, the Neumann and Robin parts by ghost nodes; G10, G11: the
square with two holes to a 512 x 512 grid and the ball to 64^3, for the size figures: 2-D to an
estimated 1e-5 within 60 s, 3-D to 1e-4 within 300 s; G12-G15: the catalog's disk, L-shape,
holes and mesh problems as their files define them), each with an exact solution, so that the
Richardson estimate is compared with the true error of the stored solution. Results go to
``benchmarks/RESULTS.md`` (the section between the ``references`` markers) and are printed.

    python benchmarks/references.py
    python benchmarks/references.py --only V1 V3    # some cases: printed, not written
    python benchmarks/references.py --only G1 G2    # non-box cases only (quick)
    python benchmarks/references.py --only G6 G7 G8 G9    # Neumann, Robin, heat, wave
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from accuracy import machine, only_option, select_cases, write_section  # noqa: E402

import neuralpde as npde  # noqa: E402
from neuralpde.problem_file import load_problem_file  # noqa: E402
from neuralpde.reference import convergence_study, solve_fd  # noqa: E402

CASES = [
    ("B1", "poisson2d_sine"),
    ("B2", "helmholtz2d"),
    ("B3", "heat2d"),
    ("B4", "wave1d"),
    ("V1", "poisson2d_bumps"),
    ("V2", "helmholtz2d_source"),
    ("V3", "heat2d_varcoef"),
    ("V4", "wave2d_pulse"),
]
ERROR_TARGET, TIME_TARGET = 1e-5, 60.0
POISSON_TARGET = 5.0


def _exact2(x: torch.Tensor) -> torch.Tensor:
    """``sin(pi x) exp(y)``: Delta u = (1 - pi^2) u."""
    return torch.sin(math.pi * x[:, 0]) * torch.exp(x[:, 1])


def _exact3(x: torch.Tensor) -> torch.Tensor:
    """``exp(x) sin(2y) cos(1.5z)``: Delta u = -5.25 u."""
    return torch.exp(x[:, 0]) * torch.sin(2 * x[:, 1]) * torch.cos(1.5 * x[:, 2])


def _manufactured(domain: npde.Domain, name: str, helmholtz_k: float | None = None):
    """Poisson (or Helmholtz with ``helmholtz_k``) on ``domain`` with the exact solution above
    and Dirichlet data from it."""
    exact, lap = (_exact2, 1 - math.pi**2) if domain.dim == 2 else (_exact3, -5.25)
    if helmholtz_k is None:
        equation = npde.Poisson(lambda x: -lap * exact(x))
    else:
        equation = npde.Helmholtz(k=helmholtz_k, f=lambda x: (lap + helmholtz_k**2) * exact(x))
    return npde.Problem(domain, equation, [npde.Dirichlet(exact)], exact=exact, name=name)


def _grad2(x: torch.Tensor) -> torch.Tensor:
    """The gradient of :func:`_exact2`."""
    e = torch.exp(x[:, 1])
    return torch.stack(
        [math.pi * torch.cos(math.pi * x[:, 0]) * e, torch.sin(math.pi * x[:, 0]) * e], dim=1
    )


def _radial(disk: npde.Disk, grad):
    """:math:`\\partial_n u` on the circle of ``disk`` from ``grad`` (extra columns kept)."""
    c = torch.as_tensor(disk.center)

    def flux(x: torch.Tensor) -> torch.Tensor:
        return (grad(x) * (x[:, :2] - c) / disk.radius).sum(dim=1)

    return flux


def _flux_cases(disk: npde.Disk, lshape: npde.Polygon) -> dict:
    """Neumann, Robin, heat and wave cases (G6-G9): manufactured from ``sin(pi x) exp(y)``
    (times ``exp(-t)`` for heat, ``cos(2t + 0.3)`` for wave)."""
    lap = 1 - math.pi**2
    neumann = npde.Problem(
        disk,
        npde.Helmholtz(k=1.0, f=lambda x: (lap + 1.0) * _exact2(x)),
        [npde.Neumann(_radial(disk, _grad2))],
        exact=_exact2,
        name="disk_neumann",
    )
    robin = npde.Problem(
        lshape,
        npde.Poisson(lambda x: -lap * _exact2(x)),
        [
            npde.Dirichlet(_exact2, on=["edge2", "edge3", "edge4", "edge5"]),
            npde.Robin(lambda x: _exact2(x) - 0.5 * _grad2(x)[:, 1], a=1.0, b=0.5, on="edge0"),
            npde.Robin(lambda x: _exact2(x) + 0.5 * _grad2(x)[:, 0], a=1.0, b=0.5, on="edge1"),
        ],
        exact=_exact2,
        name="lshape_robin",
    )

    def heat_u(x):
        return torch.exp(-x[:, 2]) * _exact2(x)

    heat = npde.Problem(
        npde.SpaceTime(disk, (0.0, 0.5)),
        npde.Heat(kappa=0.5, f=lambda x: (-1.0 - 0.5 * lap) * heat_u(x)),
        [npde.Dirichlet(heat_u), npde.Initial(heat_u)],
        exact=heat_u,
        name="disk_heat",
    )

    def wave_u(x):
        return torch.cos(2 * x[:, 2] + 0.3) * _exact2(x)

    def wave_grad(x):
        return torch.cos(2 * x[:, 2] + 0.3)[:, None] * _grad2(x)

    wave = npde.Problem(
        npde.SpaceTime(disk, (0.0, 0.5)),
        npde.Wave(c=1.0, f=lambda x: (-4.0 - lap) * wave_u(x)),
        [
            npde.Neumann(_radial(disk, wave_grad)),
            npde.Initial(wave_u),
            npde.InitialVelocity(lambda x: -2 * torch.sin(2 * x[:, 2] + 0.3) * _exact2(x)),
        ],
        exact=wave_u,
        name="disk_wave",
    )
    timed = {"n": 16, "levels": 4, "time_samples": 5}
    return {
        "disk_neumann": (neumann, {"n": 16, "levels": 4}),
        "lshape_robin": (robin, {"n": 16, "levels": 4}),
        "disk_heat": (heat, timed),
        "disk_wave": (wave, timed),
    }


CATALOG_GEOMETRY = ("poisson_disk", "poisson_lshape", "poisson_holes", "poisson_mesh")


def _irregular_cases() -> dict:
    """The non-box cases: ``name -> (problem, study settings)``, built when run."""
    square = npde.Rectangle((0.0, 0.0), (1.0, 1.0))
    lshape = npde.Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)])
    holes = square - npde.Disk((0.3, 0.35), 0.15) - npde.Disk((0.7, 0.6), 0.2)
    coarse = {"n": 16, "levels": 4}
    return {
        **_flux_cases(npde.Disk((0.1, 0.05), 0.9), lshape),
        "disk": (_manufactured(npde.Disk((0.1, 0.05), 0.9), "disk"), {"n": 16, "levels": 4}),
        "disk_helmholtz": (
            _manufactured(npde.Disk((0.0, 0.0), 1.0), "disk_helmholtz", helmholtz_k=6.0),
            {"n": 16, "levels": 4},
        ),
        "lshape": (_manufactured(lshape, "lshape"), {"n": 16, "levels": 4}),
        "square_two_holes": (_manufactured(holes, "square_two_holes"), {"n": 16, "levels": 4}),
        "ball3d": (
            _manufactured(npde.Ball((0.05, 0.0, -0.02), 0.9), "ball3d"),
            {"n": 8, "levels": 4},
        ),
        # the catalog's own geometry problems, as their files define them (a mesh file among them)
        **{
            name: (load_problem_file(str(ROOT / "problems" / f"{name}.py"))["problem"], coarse)
            for name in CATALOG_GEOMETRY
        },
        # the size figures: a 2-D reference to 1e-5 within 60 s, a 3-D one to 1e-4 within 300 s
        "holes_fine": (_manufactured(holes, "holes_fine"), {"n": 64, "levels": 4}),
        "ball3d_fine": (
            _manufactured(npde.Ball((0.05, 0.0, -0.02), 0.9), "ball3d_fine"),
            {"n": 16, "levels": 3},
        ),
    }


IRREGULAR = [
    ("G1", "disk"),
    ("G2", "disk_helmholtz"),
    ("G3", "lshape"),
    ("G4", "square_two_holes"),
    ("G5", "ball3d"),
    ("G6", "disk_neumann"),
    ("G7", "lshape_robin"),
    ("G8", "disk_heat"),
    ("G9", "disk_wave"),
    ("G10", "holes_fine"),
    ("G11", "ball3d_fine"),
    ("G12", "poisson_disk"),
    ("G13", "poisson_lshape"),
    ("G14", "poisson_holes"),
    ("G15", "poisson_mesh"),
]


def _true_error(ref, problem: npde.Problem) -> tuple[float, int]:
    """The stored solution's relative L2 error against the exact solution over the nodes
    inside the domain (where it has values; space and the stored time levels for an
    evolution problem), and their count."""
    pts = ref.points()
    v = ref.values.ravel()
    inside = problem.domain.contains(pts)
    u = problem.exact(torch.as_tensor(pts[inside])).numpy()
    return float(np.linalg.norm(v[inside] - u) / np.linalg.norm(u)), int(inside.sum())


def _run_irregular(selected: list) -> list:
    """The non-box studies of ``selected``: printed, and their table rows."""
    cases = _irregular_cases()
    rows = []
    for cid, name in selected:
        problem, settings = cases[name]
        t0 = time.perf_counter()
        ref = convergence_study(problem, **settings)
        wall = time.perf_counter() - t0
        true, inside = _true_error(ref, problem)
        ratio = ref.estimated_error / true
        print(
            f"{cid} {name}: observed order {ref.observed_order:.2f}, estimated error "
            f"{ref.estimated_error:.2e}, true error {true:.2e} (ratio {ratio:.2f}), "
            f"{wall:.1f} s",
            flush=True,
        )
        grid = "x".join(str(len(a)) for a in ref.axes)
        dom = problem.domain
        domain = (
            f"SpaceTime({type(dom.space).__name__})"
            if isinstance(dom, npde.SpaceTime)
            else type(dom).__name__
        )
        equation = type(problem.equation).__name__
        s = ", ".join(f"{k}={v}" for k, v in settings.items())
        rows.append(
            f"| {cid} | {name} | {domain} | {equation} | {s} | {grid} ({inside} inside) | "
            f"{ref.observed_order:.2f} | {ref.estimated_error:.1e} | {true:.1e} | {ratio:.2f} | "
            f"{wall:.1f} s |"
        )
    return rows


def _shown(study: npde.reference.Study) -> str:
    """A study's settings as ``n=32, levels=3, order=4``: those three, and the others where
    they are not at their defaults."""
    default = npde.reference.Study(n=study.n).describe()
    return ", ".join(
        f"{k}={v}"
        for k, v in study.describe().items()
        if k in ("n", "levels", "order") or v != default[k]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only", nargs="+", help="case ids or catalog names (default: all); no RESULTS.md"
    )
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    rows, ok = [], True
    selected = select_cases(ap, args.only, CASES + IRREGULAR)
    for cid, name in [c for c in selected if c in CASES]:
        spec = load_problem_file(str(ROOT / "problems" / f"{name}.py"))
        study = spec["reference"]
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. the near-resonance warning of V2 is expected
            ref = study.run(spec["problem"])
        wall = time.perf_counter() - t0
        passed = ref.estimated_error <= ERROR_TARGET and wall <= TIME_TARGET
        ok &= passed or cid.startswith("B")
        grid = "x".join(str(len(a)) for a in ref.axes)
        rows.append((cid, name, study, ref, wall, grid, passed))
        print(
            f"{cid} {name}: estimated error {ref.estimated_error:.2e}, observed order "
            f"{ref.observed_order:.2f}, {wall:.1f} s",
            flush=True,
        )

    b1 = load_problem_file(str(ROOT / "problems" / "poisson2d_sine.py"))["problem"]
    poisson = {}
    for order in () if args.only else (2, 4):  # the large solves time a full run only
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            solve_fd(b1, 1024, order=order)
            times.append(time.perf_counter() - t0)
        poisson[order] = statistics.median(times)
        print(f"Poisson 2-D 1025x1025, order {order}: {poisson[order]:.2f} s", flush=True)
    ok &= not poisson or poisson[2] <= POISSON_TARGET

    irregular = _run_irregular([c for c in selected if c in IRREGULAR])
    lines = [
        "## references: finite-difference references and their own error",
        "",
        f"Command: `python benchmarks/references.py{only_option(args.only)}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}",
    ]
    catalog = [
        "",
        "Convergence study with each problem file's `reference` settings: wall time, observed "
        "order of the last levels (of the extrapolated sequence when extrapolated), and the "
        "Richardson estimate of the stored solution's relative L2 error. Targets for V1-V4: "
        f"estimated error ≤ {ERROR_TARGET:.0e} in ≤ {TIME_TARGET:.0f} s.",
        "",
        "| id | problem | settings | stored grid | scheme | observed order | estimated error | "
        "wall time | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if rows:
        lines += catalog
    for cid, name, study, ref, wall, grid, passed in rows:
        s = _shown(study)
        verdict = "pass" if passed else ("**fail**" if cid.startswith("V") else "—")
        lines.append(
            f"| {cid} | {name} | {s} | {grid} | {ref.scheme.split(';')[0]} | "
            f"{ref.observed_order:.2f} | {ref.estimated_error:.1e} | {wall:.1f} s | {verdict} |"
        )
    if poisson:
        lines += [
            "",
            f"Poisson 2-D on a 1025 x 1025 grid (B1, `solve_fd(problem, 1024, order=...)`, "
            f"median of 3; target ≤ {POISSON_TARGET:.0f} s): second order {poisson[2]:.2f} s, "
            f"fourth order {poisson[4]:.2f} s (sine-transform solver for constant coefficients).",
        ]
    if irregular:
        lines += [
            "",
            "Domains that are not boxes (Shortley-Weller, second order; Dirichlet data in "
            "G1-G5, Neumann/Robin parts by ghost nodes in G6, G7, G9; heat by Crank-Nicolson, "
            "wave by leapfrog; manufactured solutions sin(πx)·exp(y) in 2-D (times exp(-t), "
            "cos(2t+0.3) in time), exp(x)·sin(2y)·cos(1.5z) in 3-D): observed order of the "
            "last levels, the Richardson estimate of the stored solution's relative L2 error, "
            "its true error over the nodes inside the domain (and stored time levels), and "
            "their ratio.",
            "",
            "| id | problem | domain | equation | settings | stored grid | observed order | "
            "estimated error | true error | estimated / true | wall time |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *irregular,
        ]
    table = "\n".join(lines)
    if not args.no_write and not args.only:
        write_section(table, "references")
        print("wrote benchmarks/RESULTS.md")
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
