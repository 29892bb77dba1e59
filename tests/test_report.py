"""Validation reports (:mod:`neuralpde.report`): ``report.md`` and its figures for every kind of
grid, a failed write that keeps the earlier report, and colour scales that leave out the points
outside the domain."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralpde import metrics
from neuralpde.report import write_report
from neuralpde.validate import ValidationResult, validate


def _png_ok(path) -> None:
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 200
        im.verify()


def test_report_files(files, tmp_path):
    res = validate(files["sol"], reference=files["ref"], tol=10.0)
    md = write_report(res, tmp_path / "rep")
    text = md.read_text()
    assert "**PASS**" in text and "Reference convergence" in text
    assert f"{files['reference'].estimated_error:.3e}" in text
    for name in ("fields.png", "bands.png"):
        assert f"]({name})" in text
        _png_ok(tmp_path / "rep" / name)


def test_a_failed_report_write_keeps_the_earlier_report(files, tmp_path, monkeypatch):
    res = validate(files["sol"], exact=True)
    md = write_report(res, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def half(self, text, *args, **kwargs):  # a disk that fills up halfway through
        with open(self, "w", encoding="utf-8") as f:
            f.write(text[: len(text) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half)
    changed = dataclasses.replace(res, u=2 * res.u, tol=1.0, passed=True)  # other figures too
    with pytest.raises(OSError, match="No space left"):
        write_report(changed, tmp_path)
    # the earlier report whole, text and figures; no temporary file left
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert md.name in before


def _synthetic(names, shape, time_axis):
    axes = tuple(np.linspace(0, 1, n) for n in shape)
    mesh = np.meshgrid(*axes, indexing="ij")
    ref = np.sin(np.pi * mesh[0]) * (1 + sum(mesh[1:]))
    u = ref + 0.01 * np.cos(3 * np.pi * mesh[0])
    return ValidationResult(
        against="exact",
        metrics={**metrics.summary(u, ref), **metrics.band_errors(u, ref)},
        reference_error=0.0,
        tol=None,
        passed=None,
        names=names,
        axes=axes,
        u=u,
        ref=ref,
        time_axis=time_axis,
        problem="synthetic",
    )


@pytest.mark.parametrize(
    ("names", "shape", "time_axis", "figure"),
    [
        (("x",), (40,), None, "fields.png"),
        (("x", "t"), (30, 20), 1, "fields_xt.png"),
        (("x", "y", "t"), (20, 24, 7), 2, "snapshots.png"),
        (("x", "y", "z"), (12, 14, 9), None, "fields.png"),
    ],
)
def test_report_figures_for_every_kind_of_grid(tmp_path, names, shape, time_axis, figure):
    md = write_report(_synthetic(names, shape, time_axis), tmp_path)
    assert f"]({figure})" in md.read_text()
    _png_ok(tmp_path / figure)


@pytest.mark.parametrize("directory", [None, 5, b"rep"], ids=["None", "int", "bytes"])
def test_report_directory_that_is_not_a_path_is_refused_by_name(directory):
    # pathlib's own TypeError named neither the parameter nor the value
    message = (
        "directory must be a directory path (a str or os.PathLike), got "
        f"{type(directory).__name__} {directory!r}"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        write_report(_synthetic(("x",), (5,), None), directory)


def test_a_report_replaces_the_figures_of_an_earlier_one_of_another_kind(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")  # not a report's file: kept
    write_report(_synthetic(("x", "y", "t"), (20, 24, 7), 2), tmp_path)
    assert (tmp_path / "snapshots.png").exists()
    write_report(_synthetic(("x", "y"), (20, 24), None), tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["bands.png", "fields.png", "notes.txt", "report.md"]


def test_report_colour_scales_leave_out_the_points_outside_the_domain(tmp_path, monkeypatch):
    import neuralpde.report as report

    res = _synthetic(("x", "y"), (21, 21), None)
    x, y = np.meshgrid(*res.axes, indexing="ij")
    outside = (x - 0.5) ** 2 + (y - 0.5) ** 2 > 0.25  # a disk: NaN at the grid's corners
    u, ref = np.where(outside, np.nan, res.u), np.where(outside, np.nan, res.ref)
    res = dataclasses.replace(res, u=u, ref=ref)
    figures = {}
    monkeypatch.setattr(report._Staged, "save", lambda self, fig, name: figures.update({name: fig}))
    write_report(res, tmp_path)
    sol_ax, ref_ax, err_ax = figures["fields.png"].axes[:3]
    low, high = np.nanmin([u, ref]), np.nanmax([u, ref])
    assert sol_ax.images[0].get_clim() == ref_ax.images[0].get_clim() == (low, high)
    assert err_ax.images[0].get_clim() == (0.0, np.nanmax(np.abs(u - ref)))
