"""Bounded inputs: every size, count and path is checked, and a wrong one refused with a message
naming the parameter, before anything large is allocated or trained (see docs/limits.md)."""

from __future__ import annotations

import os
import re
import textwrap

import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde import limits
from neuralpde._arguments import (
    check_grid_nodes,
    check_path,
    check_seconds,
    check_steps,
    check_threads,
)
from neuralpde.checks import check_problem
from neuralpde.cli import main
from neuralpde.reference import convergence_study, solve_fd

SQUARE = npde.Rectangle((0, 0), (1, 1))
LONG_NAME = "a" * 300 + ".h5"


def _poisson(f: object = 1.0, conditions: object = None, exact: object = None) -> npde.Problem:
    return npde.Problem(
        SQUARE,
        npde.Poisson(f),
        [npde.Dirichlet(0.0)] if conditions is None else conditions,
        exact=exact,
        name="bounds",
    )


def _circle(n: int) -> np.ndarray:
    angle = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([np.cos(angle), np.sin(angle)])


# (what, call, exception, a pattern the message must match: the parameter, expected and got)
CONSTRUCTORS = [
    (
        "conditions None",
        lambda: npde.Problem(SQUARE, npde.Poisson(), conditions=None),
        TypeError,
        r"conditions must be a Condition or a sequence of Conditions .* got NoneType None",
    ),
    (
        "conditions not iterable",
        lambda: npde.Problem(SQUARE, npde.Poisson(), conditions=3),
        TypeError,
        r"conditions must be .* got int 3",
    ),
    (
        "too many conditions",
        lambda: _poisson(conditions=[npde.Dirichlet(0.0)] * (limits.MAX_CONDITIONS + 1)),
        ValueError,
        r"conditions must hold at most 1024",
    ),
    (
        "long problem name",
        lambda: npde.Problem(SQUARE, npde.Poisson(), name="p" * 1000),
        ValueError,
        r"name must be a non-empty string of at most 256 characters .* \(1000 characters\)",
    ),
    (
        "polygon of a string",
        lambda: npde.Polygon("abc"),
        ValueError,
        r"vertices must be a sequence of \(x, y\) pairs of numbers, got str",
    ),
    (
        "polygon of None",
        lambda: npde.Polygon(None),
        ValueError,
        r"vertices must be .* got NoneType",
    ),
    (
        "polygon of too many vertices",
        lambda: npde.Polygon(_circle(limits.MAX_VERTICES + 2)),
        ValueError,
        r"vertices must hold at most 2048 points.* got 2050",
    ),
    (
        "box of 33 dimensions",
        lambda: npde.Box([0.0] * 33, [1.0] * 33),
        ValueError,
        r"lower must hold at most 32 coordinates.* got 33",
    ),
    (
        "ball of 40 dimensions",
        lambda: npde.Ball([0.0] * 40, 1.0),
        ValueError,
        r"center must hold at most 32 coordinates.* got 40",
    ),
    (
        "space-time of 33 coordinates",
        lambda: npde.SpaceTime(npde.Box([0.0] * 32, [1.0] * 32), (0, 1)),
        ValueError,
        r"space must have at most 31 coordinates.* got 32",
    ),
    (
        "long coordinate name",
        lambda: npde.Interval(0, 1, name="x" * 300),
        ValueError,
        r"names must be a non-empty string of at most 256 characters",
    ),
    (
        "union of 65 disks",
        lambda: npde.Union(*[npde.Disk((0, 0), 1.0)] * 65),
        ValueError,
        r"Union takes at least two domains and at most 64, got 65",
    ),
    (
        "n_interior 2**40",
        lambda: npde.SobolSampler(n_interior=2**40),
        ValueError,
        r"n_interior must be an integer from 1 to 16,777,216, got int 1099511627776",
    ),
    (
        "n_boundary 0",
        lambda: npde.UniformSampler(n_boundary=0),
        ValueError,
        r"n_boundary must be an integer from 1 to .* got int 0",
    ),
    (
        "n_initial a string",
        lambda: npde.LatinHypercubeSampler(n_initial="many"),
        ValueError,
        r"n_initial must be an integer from 1 to .* got str 'many'",
    ),
    (
        "resample_every 10**10",
        lambda: npde.SobolSampler(resample_every=10**10),
        ValueError,
        r"resample_every must be an integer from 0 to 1,000,000,000, got int 10000000000",
    ),
    (
        "Siren width 10**6",
        lambda: npde.Siren(width=10**6),
        ValueError,
        r"Siren.width must be an integer from 1 to 4,096, got int 1000000",
    ),
    (
        "Siren depth 10**5",
        lambda: npde.Siren(depth=10**5),
        ValueError,
        r"Siren.depth must be an integer from 1 to 64, got int 100000",
    ),
    (
        "Siren of too many parameters",
        lambda: npde.Siren(width=4096, depth=64),
        ValueError,
        r"Siren.width and Siren.depth: .* holds 1,0\d\d,\d{3},\d{3} parameters, more than the "
        r"67,108,864",
    ),
    (
        "Siren w0 1e7",
        lambda: npde.Siren(w0=1e7),
        ValueError,
        r"Siren.w0 and w0_hidden must be positive and finite, at most 1e\+06, got 10000000.0",
    ),
    (
        "Siren w0_inputs 1e7",
        lambda: npde.Siren(w0_inputs=[1.0, 1e7]),
        ValueError,
        r"Siren.w0_inputs must be .*\(at most 1e\+06\).* got \[1.0, 10000000.0\]",
    ),
    (
        "Siren built on 33 inputs",
        lambda: npde.Siren(width=8, depth=1).build(33),
        ValueError,
        r"in_features must be an integer from 1 to 32, got int 33",
    ),
    (
        "MLP width 10**6",
        lambda: npde.MLP(width=10**6),
        ValueError,
        r"MLP.width must be an integer from 1 to 4,096",
    ),
    (
        "MLP depth 0",
        lambda: npde.MLP(depth=0),
        ValueError,
        r"MLP.depth must be an integer from 1 to 64, got int 0",
    ),
    (
        "grid data of a string",
        lambda: npde.GridData([np.linspace(0, 1, 3)], "abc"),
        ValueError,
        r"values must be an array of numbers, got str",
    ),
    (
        "grid data of no axes",
        lambda: npde.GridData(None, np.zeros(3)),
        TypeError,
        r"axes must be a sequence of 1-D coordinate arrays, got NoneType",
    ),
    (
        "grid data column a string",
        lambda: npde.GridData([np.linspace(0, 1, 3)], np.zeros(3), columns=["x"]),
        ValueError,
        r"columns must be an integer from -32 to 31, got str 'x'",
    ),
    (
        "grid of 10**5 x 10**5 points",
        lambda: SQUARE.grid(10**5),
        ValueError,
        r"n=\[100000, 100000\] gives a grid of 10,000,000,000 nodes in 2-D, more than the "
        r"67,108,864 allowed",
    ),
]


@pytest.mark.parametrize(
    ("call", "kind", "pattern"),
    [c[1:] for c in CONSTRUCTORS],
    ids=[c[0] for c in CONSTRUCTORS],
)
def test_constructors_refuse_out_of_bounds_arguments(call, kind, pattern):
    with pytest.raises(kind, match=pattern):
        call()


def test_the_limits_themselves_are_accepted():
    assert npde.SobolSampler(n_interior=limits.MAX_POINTS).n_interior == 2**24
    assert npde.Siren(width=limits.MAX_WIDTH, depth=4).width == 4096
    assert npde.MLP(width=8, depth=limits.MAX_DEPTH).depth == 64
    assert npde.Siren(w0=limits.MAX_W0).w0 == 1e6
    assert npde.Box([0.0] * 32, [1.0] * 32).dim == 32
    assert len(npde.Polygon(_circle(limits.MAX_VERTICES)).vertices) == 2048
    assert check_grid_nodes([8191, 8191], plus_one=False) == 8191**2


# the coefficient, how a callable may misbehave, and the name the message must carry
RETURNS = [
    ("source returns a string", lambda r: _poisson(f=lambda x: r), "Poisson.f"),
    (
        "Dirichlet data return it",
        lambda r: _poisson(conditions=[npde.Dirichlet(lambda x: r)]),
        r"conditions\[0\] \(Dirichlet\).value",
    ),
    ("exact solution returns it", lambda r: _poisson(exact=lambda x: r), "exact"),
    (
        "diffusivity returns it",
        lambda r: npde.Problem(
            npde.SpaceTime(npde.Interval(0, 1), (0, 1)),
            npde.Heat(kappa=lambda x: r),
            [npde.Dirichlet(0.0), npde.Initial(0.0)],
        ),
        "Heat.kappa",
    ),
]


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        ("abc", "str 'abc'"),
        (None, "NoneType None"),
        (object(), "object <object object"),
        ([1.0, "x"], "list"),
    ],  # fmt: skip
    ids=["str", "None", "object", "list with a string"],
)
@pytest.mark.parametrize(("make", "name"), [r[1:] for r in RETURNS], ids=[r[0] for r in RETURNS])
def test_a_callable_returning_no_numbers_is_named_by_the_probe(make, name, returned, shown):
    problem = make(returned)
    with pytest.raises(TypeError, match=rf"{name} returned {shown}.*; expected 64 real numbers"):
        check_problem(problem)


def test_solve_refuses_such_a_callable_before_training(monkeypatch):
    trained = []
    monkeypatch.setattr(npde.Trainer, "fit", lambda *a, **k: trained.append(1))
    with pytest.raises(TypeError, match=r"Poisson.f returned NoneType None"):
        npde.solve(_poisson(f=lambda x: None), trainer=npde.Trainer(adam_steps=1, lbfgs_steps=0))
    assert not trained


def test_coefficients_that_return_numbers_still_work():
    ok = [
        lambda x: 1.0,
        lambda x: x[:, 0] > 0.5,
        lambda x: x[:, 0].numpy(),
        lambda x: x[:, 0].tolist(),
    ]
    for f in ok:
        check_problem(_poisson(f=f))


# reference studies: the finest grid (and time steps) from the settings alone, before solving
HEAT = npde.Problem(
    npde.SpaceTime(npde.Interval(0, 1), (0, 1)),
    npde.Heat(kappa=0.1),
    [npde.Dirichlet(0.0), npde.Initial(lambda x: torch.sin(np.pi * x[:, 0]))],
    name="heat_bounds",
)
STUDIES = [
    (
        "levels 20",
        lambda: convergence_study(_poisson(), 32, levels=20),
        r"n=\[32, 32\], levels=20 and ratio=2 give a finest grid of 16,777,217 x 16,777,217 = "
        r"2.81e\+14 nodes in 2-D, more than the 67,108,864 allowed; lower levels or n",
    ),
    (
        "levels 10**9",
        lambda: convergence_study(_poisson(), 4, levels=10**9),
        r"levels=1000000000 .* far more nodes",
    ),
    (
        "ratio 10**4",
        lambda: convergence_study(_poisson(), 4, levels=3, ratio=10**4),
        r"ratio=10000 give a finest grid",
    ),
    ("one grid of n 10**5", lambda: solve_fd(_poisson(), 10**5), r"n=\[100000, 100000\]"),
    (
        "a time step too small",
        lambda: convergence_study(HEAT, 8, levels=3, dt=1e-300),
        r"dt=1e-300 would take 1e\+300 time steps .* more than the 16,777,216 allowed",
    ),
    (
        "too many time steps on the finest level",
        lambda: convergence_study(HEAT, 8, levels=3, dt=1e-7),
        r"dt, n and levels: the finest of 3 levels would take 40,000,000 time steps",
    ),
]


@pytest.mark.parametrize(("call", "pattern"), [s[1:] for s in STUDIES], ids=[s[0] for s in STUDIES])
def test_reference_grids_are_bounded_before_solving(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# paths: refused by what they are, before anything is read or written
@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("a\0b.h5", r"path must be a file path without NUL characters, got str 'a\\x00b.h5'"),
        (LONG_NAME, r"names between '/' hold at most \d+ bytes .* got a name of 303 bytes"),
        ("d/" * 3000 + "x.h5", r"path must be a file path of at most \d+ bytes, got one of 6004"),
        ("", r"path must be a file path, got an empty path"),
    ],
    ids=["NUL", "long name", "long path", "empty"],
)
def test_check_path(path, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_path(path)


def test_check_path_types_and_good_paths(tmp_path):
    with pytest.raises(TypeError, match=r"path must be a file path \(a str or os.PathLike\), got"):
        check_path(3)
    good = tmp_path / ("b" * 200 + ".h5")
    assert check_path(good) is good
    assert check_path("relative/not/yet/there.h5") == "relative/not/yet/there.h5"


def test_load_refuses_bad_paths_before_reading():
    with pytest.raises(ValueError, match=r"path must be a file path without NUL characters"):
        npde.load("x\0.h5")
    with pytest.raises(ValueError, match=r"got a name of 303 bytes"):
        npde.load(LONG_NAME)


@pytest.fixture(scope="module")
def solution() -> npde.Solution:
    """A solution of a few steps, to save."""
    return npde.solve(
        _poisson(),
        npde.Siren(width=4, depth=1),
        npde.SobolSampler(n_interior=16, n_boundary=16),
        npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False),
        monitor=False,
        constraints=False,
    )


def test_save_checks_its_path_and_grid(solution, tmp_path):
    with pytest.raises(ValueError, match=r"path must be a file path without NUL characters"):
        solution.save(str(tmp_path / "a\0.h5"))
    with pytest.raises(ValueError, match=r"got a name of 303 bytes"):
        solution.save(tmp_path / LONG_NAME)
    with pytest.raises(FileNotFoundError, match=r"output directory .*missing.* does not exist"):
        solution.save(tmp_path / "missing" / "s.h5")
    with pytest.raises(ValueError, match=r"n=\[100000, 100000\] gives a grid of 10,000,000,000"):
        solution.save(tmp_path / "s.h5", n=10**5)
    assert not os.listdir(tmp_path)


def test_helpers_for_budgets():
    assert check_steps(10**9, "adam_steps") == 10**9
    with pytest.raises(ValueError, match=r"adam_steps must be an integer from 0 to 1,000,000,000"):
        check_steps(10**9 + 1, "adam_steps")
    assert check_seconds(1e7) == 1e7
    for bad in (0, -1.0, float("inf"), float("nan"), 1e7 + 1, "60", None):
        with pytest.raises(ValueError, match=r"seconds must be a finite number of seconds above 0"):
            check_seconds(bad)
    assert check_threads(1) == 1
    with pytest.raises(ValueError, match=r"threads must be an integer from 1 to \d+, got int 3000"):
        check_threads(3000)


# the command line: argparse's error (exit 2, usage above it) or one line (exit 2) naming the
# option, before the problem is loaded or anything is solved
@pytest.fixture
def problem_file(tmp_path):
    f = tmp_path / "problem.py"
    f.write_text(
        textwrap.dedent("""
        import neuralpde as npde
        problem = npde.Problem(
            npde.Rectangle((0, 0), (1, 1)), npde.Poisson(1.0), [npde.Dirichlet(0.0)], name="tiny"
        )
    """)
    )
    return str(f)


ARGPARSE = [
    ("reference --levels 200", ["reference", "{p}", "-o", "{d}/r.h5", "--levels", "200"],
     r"argument --levels: expected an integer from 3 to 25, got '200'"),
    ("reference --n 10**9", ["reference", "{p}", "-o", "{d}/r.h5", "--n", "1000000000"],
     r"argument --n: expected an integer from 2 to 67108864, got '1000000000'"),
    ("reference --time-samples 10**9",
     ["reference", "{p}", "-o", "{d}/r.h5", "--time-samples", "1000000000"],
     r"argument --time-samples: expected an integer from 2 to 16777216"),
    ("solve --threads 3000", ["solve", "{p}", "-o", "{d}/s.h5", "--threads", "3000"],
     r"argument --threads: expected an integer from 1 to \d+, got '3000'"),
    ("solve --threads 0", ["solve", "{p}", "-o", "{d}/s.h5", "--threads", "0"],
     r"argument --threads: expected an integer from 1 to \d+, got '0'"),
    ("solve --steps 10**10", ["solve", "{p}", "-o", "{d}/s.h5", "--steps", "10000000000"],
     r"argument --steps: expected an integer from 1 to 1000000000, got '10000000000'"),
    ("solve --seconds 1e8", ["solve", "{p}", "-o", "{d}/s.h5", "--seconds", "1e8"],
     r"argument --seconds: expected a positive number of at most 1e\+07, got '1e8'"),
    ("solve --seconds nan", ["solve", "{p}", "-o", "{d}/s.h5", "--seconds", "nan"],
     r"argument --seconds: expected a positive number of at most 1e\+07, got 'nan'"),
    ("solve -o with NUL", ["solve", "{p}", "-o", "{d}/s\0.h5"],
     r"argument -o/--output: the path must be a file path without NUL characters"),
    ("solve -o 300 characters", ["solve", "{p}", "-o", "{d}/" + LONG_NAME],
     r"argument -o/--output: .* got a name of 303 bytes"),
    ("solve -o without room for .ckpt", ["solve", "{p}", "-o", "{d}/" + "c" * 252 + ".h5"],
     r"argument -o/--output: .* got a name of 260 bytes .*with '.ckpt' appended"),
    ("reference -o 300 characters", ["reference", "{p}", "-o", "{d}/" + LONG_NAME],
     r"argument -o/--output: .* got a name of 303 bytes"),
    ("problem file with NUL", ["solve", "{p}\0", "-o", "{d}/s.h5"],
     r"argument PROBLEM_FILE: the path must be a file path without NUL characters"),
    ("validate --report with NUL", ["validate", "{d}/s.h5", "--exact", "--report", "{d}/r\0"],
     r"argument --report: the path must be a directory path without NUL characters"),
    ("validate --reference 300 characters",
     ["validate", "{d}/s.h5", "--reference", "{d}/" + LONG_NAME],
     r"argument --reference: .* got a name of 303 bytes"),
    ("info 300 characters", ["info", LONG_NAME], r"argument FILE.h5: .* got a name of 303 bytes"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "pattern"), [a[1:] for a in ARGPARSE], ids=[a[0] for a in ARGPARSE]
)
def test_cli_options_out_of_bounds_are_usage_errors(argv, pattern, problem_file, tmp_path, capsys):
    argv = [a.format(p=problem_file, d=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: neuralpde")
    lines = err.strip().splitlines()
    assert any(re.search(pattern, line) for line in lines), err
    assert not any(tmp_path.glob("*.h5"))


USAGE = [
    ("reference --levels 20", ["reference", "{p}", "-o", "{d}/r.h5", "--levels", "20"],
     r"--n/--levels .*: n=\[32, 32\], levels=20 and ratio=2 give a finest grid of 16,777,217 x "
     r"16,777,217 = 2.81e\+14 nodes in 2-D, more than the 67,108,864 allowed; lower levels or n"),
    ("reference --n 10**5", ["reference", "{p}", "-o", "{d}/r.h5", "--n", "100000"],
     r"--n/--levels .*: n=\[100000, 100000\], levels=3"),
    ("solve -o in a missing folder", ["solve", "{p}", "-o", "{d}/missing/s.h5"],
     r"-o/--output: output directory '.*missing' does not exist"),
    ("reference -o in a missing folder", ["reference", "{p}", "-o", "{d}/missing/r.h5"],
     r"-o/--output: output directory '.*missing' does not exist"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "pattern"), [u[1:] for u in USAGE], ids=[u[0] for u in USAGE])
def test_cli_settings_checked_against_the_problem_are_usage_errors(
    argv, pattern, problem_file, tmp_path, capsys, monkeypatch
):
    import neuralpde.reference as reference

    solved = []
    monkeypatch.setattr(reference, "convergence_study", lambda *a, **k: solved.append(1))
    argv = [a.format(p=problem_file, d=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("neuralpde: error: "), err
    assert re.search(pattern, err), err
    assert not solved and not any(tmp_path.rglob("*.h5"))


def test_cli_names_a_coefficient_that_returns_no_numbers(tmp_path, capsys):
    f = tmp_path / "bad.py"
    f.write_text(
        "import neuralpde as npde\n"
        "problem = npde.Problem(npde.Rectangle((0, 0), (1, 1)), "
        "npde.Poisson(lambda x: 'one'), [npde.Dirichlet(0.0)])\n"
    )
    assert main(["solve", str(f), "-o", str(tmp_path / "s.h5"), "--steps", "1"]) == 1
    err = capsys.readouterr().err
    assert "Poisson.f returned str 'one'; expected 64 real numbers" in err
    assert not (tmp_path / "s.h5").exists()


def test_mesh_cells_are_counted_before_the_mesh_is_analysed(monkeypatch):
    import meshio

    import neuralpde.geometry.meshes as meshes

    monkeypatch.setattr(meshes, "MAX_MESH_CELLS", 1)  # a mesh of millions, without the memory
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    mesh = meshio.Mesh(pts, [("triangle", np.array([[0, 1, 2], [0, 2, 3]]))])
    with pytest.raises(ValueError, match=r"path_or_mesh must hold at most 1 triangle cells, got 2"):
        npde.MeshDomain(mesh)


def test_observations_are_counted(monkeypatch):
    import neuralpde.conditions as conditions

    monkeypatch.setattr(conditions, "MAX_POINTS", 2)
    with pytest.raises(ValueError, match=r"Observations.points must hold at most 2 points, got 3"):
        npde.Observations(np.zeros((3, 2)), np.zeros(3))
