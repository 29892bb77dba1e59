"""``neuralpde plot`` and :mod:`neuralpde.plots`: the figure of every kind of solution and
reference file, blank outside the domain, with the error against the exact solution or a
reference; the usage errors; and ``validate --report`` on a domain that is not a box."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.image import imread  # what pyplot.imread is

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.plots import PlotArgumentError, plot_figure
from neuralpde.reference import convergence_study, save_reference
from neuralpde.report import plot_file, write_report
from neuralpde.validate import validate

PI = math.pi
L_SHAPE = [(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)]


def _sines(x: torch.Tensor, d: int) -> torch.Tensor:
    out = torch.ones_like(x[:, 0])
    for i in range(d):
        out = out * torch.sin(PI * x[:, i])
    return out


def _problems() -> dict[str, npde.Problem]:
    def l_exact(x):
        return _sines(x, 2) + x[:, 0] + x[:, 1]

    def heat1(x):
        return torch.exp(-x[:, 1]) * torch.sin(PI * x[:, 0])

    def heat2(x):
        return torch.exp(-x[:, 2]) * _sines(x, 2)

    return {
        # no exact solution: --exact is refused
        "box2d": npde.Problem(
            npde.Rectangle((0, 0), (1, 2)),
            npde.Poisson(f=1.0),
            [npde.Dirichlet(0.0)],
            name="box2d",
        ),
        "lshape": npde.Problem(
            npde.Polygon(L_SHAPE),
            npde.Poisson(f=lambda x: 2 * PI**2 * _sines(x, 2)),
            [npde.Dirichlet(l_exact)],
            exact=l_exact,
            name="lshape",
        ),
        "heat1d": npde.Problem(
            npde.SpaceTime(npde.Interval(0, 1), t_span=(0, 0.5)),
            npde.Heat(kappa=1 / PI**2),
            [npde.Dirichlet(0.0), npde.Initial(heat1)],
            exact=heat1,
            name="heat1d",
        ),
        "heat2d": npde.Problem(
            npde.SpaceTime(npde.Rectangle((0, 0), (1, 1)), t_span=(0, 0.5)),
            npde.Heat(kappa=1 / (2 * PI**2)),
            [npde.Dirichlet(0.0), npde.Initial(heat2)],
            exact=heat2,
            name="heat2d",
        ),
        "box3d": npde.Problem(
            npde.Box((0, 0, 0), (1, 1, 1)),
            npde.Poisson(f=lambda x: 3 * PI**2 * _sines(x, 3)),
            [npde.Dirichlet(0.0)],
            exact=lambda x: _sines(x, 3),
            name="box3d",
        ),
    }


_GRIDS = {"box2d": (17, 25), "lshape": 33, "heat1d": (17, 9), "heat2d": (9, 9, 6), "box3d": 9}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """Briefly trained solution files (a few Levenberg-Marquardt steps) of every kind, and
    small references of the L-shape, the 2-D heat problem and the 3-D box."""
    d = tmp_path_factory.mktemp("plot")
    out: dict = {"dir": d}
    for name, problem in _problems().items():
        timed = problem.time_index is not None
        sol = npde.solve(
            problem,
            npde.Siren(width=8, depth=1, w0=2.0),
            npde.SobolSampler(n_interior=64, n_boundary=32, **({"n_initial": 32} if timed else {})),
            npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=3, progress=False),
            seed=0,
        )
        out[name] = str(sol.save(d / f"{name}.h5", n=_GRIDS[name]))
        out[name + "_solution"] = sol
        if name in ("lshape", "heat2d", "box3d"):
            ref = convergence_study(problem, n=8, levels=3)
            out[name + "_ref"] = str(save_reference(ref, d / f"{name}_ref.h5", problem=problem))
    return out


def _maps(fig: Figure) -> list:
    """The panels that hold an image (colour bars excluded)."""
    return [ax for ax in fig.axes if ax.images]


def _png_size(fig: Figure, dpi: int) -> tuple[int, int]:
    w, h = fig.get_size_inches()
    return round(h * dpi), round(w * dpi)


# -- every kind of file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "panels", "titles"),
    [
        ("box2d", 1, ["u"]),
        ("lshape", 1, ["u"]),
        ("lshape_ref", 1, ["u"]),
        ("heat1d", 1, ["u"]),
        ("heat2d", 4, ["u, t = 0", "u, t = 0.167", "u, t = 0.333", "u, t = 0.5"]),
        ("heat2d_ref", 4, None),
        ("box3d", 3, ["u, x = 0.5", "u, y = 0.5", "u, z = 0.5"]),
        ("box3d_ref", 3, ["u, x = 0.5", "u, y = 0.5", "u, z = 0.5"]),
    ],
)
def test_every_kind_of_file_writes_a_png_of_its_figure(files, tmp_path, key, panels, titles):
    fig = plot_figure(files[key])
    maps = _maps(fig)
    assert len(maps) == panels
    if titles is not None:
        assert [ax.get_title() for ax in maps] == titles
    assert key.split("_")[0] in fig.get_suptitle()  # the problem's name
    # one colour scale for every panel
    assert len({ax.images[0].get_clim() for ax in maps}) == 1
    out = plot_file(files[key], tmp_path / "fig.png", dpi=40)
    assert out == tmp_path / "fig.png"
    image = imread(out)
    assert image.shape[:2] == _png_size(fig, 40)


def test_axes_are_labelled_by_the_coordinates_and_time_is_vertical(files):
    (ax,) = _maps(plot_figure(files["box2d"]))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    (xt,) = _maps(plot_figure(files["heat1d"]))
    assert (xt.get_xlabel(), xt.get_ylabel()) == ("x", "t")
    assert xt.images[0].get_array().shape == (9, 17)  # rows: the time levels
    slices = _maps(plot_figure(files["box3d"]))
    assert [(a.get_xlabel(), a.get_ylabel()) for a in slices] == [
        ("y", "z"),
        ("x", "z"),
        ("x", "y"),
    ]


def test_a_steady_1d_solution_is_a_curve(tmp_path):
    problem = npde.Problem(
        npde.Interval(0, 1),
        npde.Poisson(f=lambda x: PI**2 * torch.sin(PI * x[:, 0])),
        [npde.Dirichlet(0.0)],
        exact=lambda x: torch.sin(PI * x[:, 0]),
        name="line",
    )
    sol = npde.solve(
        problem,
        npde.Siren(width=8, depth=1),
        npde.SobolSampler(n_interior=32, n_boundary=2),
        npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=2, progress=False),
    )
    path = sol.save(tmp_path / "line.h5", n=21)
    fig = plot_figure(path, exact=True)
    curve, error = fig.axes
    assert curve.get_xlabel() == "x" and error.get_yscale() == "log"
    np.testing.assert_allclose(curve.lines[0].get_ydata(), npde.load(path).grid[1])


# -- blank outside the domain ---------------------------------------------------------------------


def _pixel(fig: Figure, ax, x: float, y: float) -> np.ndarray:
    """The RGBA colour drawn at the point ``(x, y)`` of ``ax``."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    return rgba[int(rgba.shape[0] - py), int(px)]


@pytest.mark.parametrize("key", ["lshape", "lshape_ref"])
def test_the_l_shapes_notch_is_blank(files, key):
    fig = plot_figure(files[key])
    (ax,) = _maps(fig)
    shown = ax.images[0].get_array()  # transposed: rows are y
    assert isinstance(shown, np.ma.MaskedArray) and shown.shape == (33, 33)
    ys, xs = np.meshgrid(np.linspace(0, 1, 33), np.linspace(0, 1, 33), indexing="ij")
    notch = (xs > 0.5 + 1e-9) & (ys > 0.5 + 1e-9)
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), notch)
    assert list(_pixel(fig, ax, 0.75, 0.75)) == [255, 255, 255, 255]  # the background
    assert list(_pixel(fig, ax, 0.25, 0.25)) != [255, 255, 255, 255]


def test_a_slice_between_the_nodes_evaluates_the_field(files):
    field = npde.load(files["box3d"])
    fig = plot_figure(files["box3d"], slices=["z=0.3"])
    (ax,) = _maps(fig)
    assert ax.get_title() == "u, z = 0.3"
    axes = [np.linspace(0, 1, 9)] * 2 + [np.array([0.3])]
    expected = field.on_grid(axes)[:, :, 0]
    np.testing.assert_allclose(ax.images[0].get_array().T, expected, rtol=1e-12)


def test_times_between_the_stored_levels_are_evaluated_too(files):
    field = npde.load(files["heat2d"])
    maps = _maps(plot_figure(files["heat2d"], times=[0.05, 0.5]))
    assert [ax.get_title() for ax in maps] == ["u, t = 0.05", "u, t = 0.5"]
    grid = np.linspace(0, 1, 9)
    expected = field.on_grid([grid, grid, np.array([0.05])])[..., 0]
    np.testing.assert_allclose(maps[0].images[0].get_array().T, expected, rtol=1e-12)


# -- error maps -----------------------------------------------------------------------------------


def test_error_against_the_exact_solution_beside_the_field(files, tmp_path):
    fig = plot_figure(files["lshape"], exact=True)
    field_ax, error_ax = _maps(fig)
    assert error_ax.get_title() == "|u − u_exact|"
    norm = error_ax.images[0].norm
    assert isinstance(norm, LogNorm)
    result = validate(files["lshape"], exact=True)
    err = np.abs(result.u - result.ref)
    shown = error_ax.images[0].get_array().T
    # the same errors, the smallest clipped to the bottom of the log scale; NaN (blank) outside
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), np.isnan(err))
    inside = ~np.isnan(err)
    np.testing.assert_allclose(shown[inside], np.maximum(err[inside], norm.vmin), rtol=1e-12)
    assert norm.vmax == pytest.approx(np.nanmax(err))
    assert list(_pixel(fig, error_ax, 0.75, 0.75)) == [255, 255, 255, 255]
    out = plot_file(files["lshape"], tmp_path / "e.png", exact=True, dpi=40)
    assert imread(out).shape[:2] == _png_size(fig, 40)


def test_error_against_a_reference_on_its_grid(files):
    _, error_ax = _maps(plot_figure(files["lshape"], reference=files["lshape_ref"]))
    result = validate(files["lshape"], reference=files["lshape_ref"])
    shown = error_ax.images[0].get_array().T
    assert shown.shape == result.u.shape == (33, 33)
    assert error_ax.get_title() == "|u − u_ref|"


def test_snapshots_and_slices_have_a_row_of_errors_on_one_scale(files):
    maps = _maps(plot_figure(files["heat2d"], reference=files["heat2d_ref"]))
    assert len(maps) == 8  # four fields, then their four errors
    fields, errors = maps[:4], maps[4:]
    assert all(ax.get_title().startswith("u, t = ") for ax in fields)
    assert all(ax.get_title().startswith("|u − u_ref|, t = ") for ax in errors)
    # the reference's time levels (0, 0.125, ..., 0.5): the nearest to each time asked, as the
    # titles say
    assert [ax.get_title() for ax in errors] == [
        f"|u − u_ref|, t = {t:.3g}" for t in (0, 0.125, 0.375, 0.5)
    ]
    # on the compared grid, two times at one level make one panel
    maps = _maps(plot_figure(files["heat2d"], reference=files["heat2d_ref"], times="0.12,0.13"))
    assert [ax.get_title() for ax in maps] == ["u, t = 0.125", "|u − u_ref|, t = 0.125"]
    assert len({(ax.images[0].norm.vmin, ax.images[0].norm.vmax) for ax in errors}) == 1
    maps = _maps(plot_figure(files["box3d"], exact=True, slices={"z": 0.5}))
    assert [ax.get_title() for ax in maps] == ["u, z = 0.5", "|u − u_exact|, z = 0.5"]


# -- the command line ----------------------------------------------------------------------------


def test_command_writes_beside_the_file_and_prints_the_path(files, capsys):
    assert main(["plot", files["heat2d"], "--times", "0,0.25", "--dpi", "30", "-q"]) == 0
    out = Path(files["heat2d"]).with_suffix(".png")
    assert capsys.readouterr().out.strip() == str(out)
    fig = plot_figure(files["heat2d"], times=[0, 0.25])
    assert imread(out).shape[:2] == _png_size(fig, 30)
    target = files["dir"] / "three.png"
    args = ["plot", files["box3d"], "-o", str(target), "--exact", "--slice", "z=0.25", "-q"]
    assert main([*args, "--slice", "x=0.75", "--dpi", "30"]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    fig = plot_figure(files["box3d"], exact=True, slices=["z=0.25", "x=0.75"])
    assert imread(target).shape[:2] == _png_size(fig, 30)
    args = ["plot", files["lshape"], "-o", str(target), "--reference", files["lshape_ref"]]
    assert main([*args, "-q"]) == 0


def _usage_error(capsys, argv: list[str]) -> str:
    assert main(["plot", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    return err[-1]


def test_usage_errors_name_the_option(files, tmp_path, capsys):
    text = tmp_path / "text.h5"
    text.write_text("not HDF5")
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["u"] = np.zeros(3)
    for path in (text, plain):
        err = _usage_error(capsys, [str(path)])
        assert err.startswith("neuralpde: error: FILE.h5: ")
        assert "solution file" in err and "reference file" in err
    cases = [
        ([files["box2d"], "--exact"], "--exact: box2d.h5 has no exact solution"),
        ([files["lshape_ref"], "--exact"], "--exact: lshape_ref.h5 is a reference file"),
        ([files["box3d"], "--slice", "w=0.5"], "--slice: box3d.h5 has no axis 'w'"),
        ([files["box3d"], "--slice", "z=1.5"], "--slice: z = 1.5 is outside the domain"),
        ([files["box2d"], "--slice", "x=0.5"], "--slice: slices cut a domain of three or more"),
        ([files["heat2d"], "--times", "0,0.6"], "--times: t = 0.6 is outside the time span"),
        ([files["box2d"], "--times", "0"], "--times: box2d.h5 holds a steady problem"),
        ([files["box2d"], "--reference", files["lshape_ref"]], "--reference: reference"),
        ([files["lshape_ref"], "--reference", files["lshape_ref"]], "--reference: lshape_ref"),
        ([files["box2d"], "-o", files["box2d"]], "-o/--output: "),
        ([files["box2d"], "-o", str(tmp_path / "no" / "f.png")], "-o/--output: "),
    ]
    for argv, start in cases:
        assert _usage_error(capsys, argv).startswith(f"neuralpde: error: {start}"), argv
    # what argparse itself refuses, with the option's name
    for argv, option in [
        ([files["box3d"], "--slice", "z"], "--slice"),
        ([files["heat2d"], "--times", "0,a"], "--times"),
        ([files["lshape"], "--exact", "--reference", files["lshape_ref"]], "--reference"),
        ([files["box2d"], "--dpi", "5"], "--dpi"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(["plot", *argv])
        assert exc.value.code == 2
        assert f"argument {option}" in capsys.readouterr().err


def test_python_errors_name_the_argument(files):
    with pytest.raises(PlotArgumentError, match=r"^times: ") as exc:
        plot_figure(files["heat2d"], times=[2.0])
    assert exc.value.option == "times" and isinstance(exc.value, ValueError)
    with pytest.raises(PlotArgumentError, match=r"^slices: "):
        plot_figure(files["box3d"], slices={"t": 0.5})
    with pytest.raises(PlotArgumentError, match=r"^output: "):
        plot_file(files["box3d_solution"])  # in memory: no file to put it beside
    for dpi in (1e6, math.nan, 72.5, True):
        with pytest.raises(PlotArgumentError, match=r"^dpi: "):
            plot_file(files["box3d"], dpi=dpi)


def test_an_in_memory_solution_plots_as_its_file(files, tmp_path):
    fig = plot_figure(files["lshape_solution"], exact=True)
    assert len(_maps(fig)) == 2 and "lshape" in fig.get_suptitle()
    assert plot_file(files["lshape_solution"], tmp_path / "m.png").is_file()


# -- the validation report on a domain that is not a box ------------------------------------------


@pytest.mark.parametrize("against", ["exact", "reference"])
def test_report_on_a_domain_that_is_not_a_box(files, tmp_path, against):
    kw = {"exact": True} if against == "exact" else {"reference": files["lshape_ref"]}
    result = validate(files["lshape"], **kw)
    md = write_report(result, tmp_path)
    text = md.read_text()
    # the frequency bands are not defined there: no band figure and no NaN in the table
    assert "nan" not in text and "bands.png" not in text and "](fields.png)" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fields.png", "report.md"]
    assert imread(tmp_path / "fields.png").shape[:2] == (420, 1500)
