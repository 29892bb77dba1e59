"""Validation (:mod:`neuralpde.validate`) against references and exact solutions."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil

import h5py
import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.problem_file import load_problem_file
from neuralpde.reference import convergence_study, load_reference, save_reference
from neuralpde.validate import validate

from .conftest import ROOT


def test_against_exact(files):
    res = validate(files["sol"], exact=True)
    field = npde.load(files["sol"])
    assert res.against == "exact" and res.reference_error == 0.0 and res.passed is None
    assert res.metrics["relative_l2"] == pytest.approx(field.record["metrics"]["relative_l2"])
    assert res.u.shape == res.ref.shape == (33, 33) and res.names == ("x", "y")
    bands = sum(res.metrics[f"frmse_{b}"] ** 2 for b in ("low", "mid", "high"))
    trimmed = res.error[:-1, :-1]  # the FFT leaves out the repeated last node of each axis
    assert bands == pytest.approx(np.mean(trimmed**2), rel=1e-10)
    assert "relative L2:" in res.summary() and "not judged" in res.summary()
    # the same from a loaded field and from the in-memory solution
    loaded = validate(field, exact=True)
    assert loaded.metrics == res.metrics and loaded.solution_path == files["sol"]
    assert "stored in the solution file" in loaded.summary()
    mem = validate(files["solution"], exact=True)
    assert mem.metrics["relative_l2"] == pytest.approx(files["solution"].error(), rel=1e-10)
    # no file is involved in memory, and the output does not claim one
    assert "stored in the solution file" in res.summary()
    assert "against:            the exact solution\n" in mem.summary()


def test_against_exact_on_a_disk_leaves_out_the_points_outside(tmp_path):
    problem = load_problem_file(str(ROOT / "problems" / "poisson_disk.py"))["problem"]
    sol = npde.solve(
        problem,
        npde.Siren(width=16, depth=2, w0=1.0),
        npde.SobolSampler(n_interior=128, n_boundary=64),
        npde.Trainer(adam_steps=10, lbfgs_steps=0, progress=False),
    )
    mem = validate(sol, exact=True)
    assert mem.metrics["relative_l2"] == pytest.approx(sol.error(), rel=1e-10)
    saved = validate(str(sol.save(tmp_path / "disk.h5")), exact=True)
    assert saved.metrics["relative_l2"] == pytest.approx(sol.error(), rel=1e-10)
    assert all("the domain is not a box" in " ".join(r.notes) for r in (mem, saved))


def test_a_free_constant_is_removed_before_comparing(tmp_path):
    """Pure Neumann: u is fixed up to a constant, so shifting the field changes nothing."""
    import torch

    exact = lambda x: torch.cos(np.pi * x[:, 0]) * torch.cos(np.pi * x[:, 1])  # noqa: E731
    problem = npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(f=lambda x: 2 * np.pi**2 * exact(x)),
        [npde.Neumann(0.0)],
        exact=exact,
    )
    with pytest.warns(npde.checks.ProblemWarning, match="pure Neumann"):
        sol = npde.solve(
            problem,
            npde.Siren(width=8, depth=1),
            npde.SobolSampler(n_interior=64, n_boundary=32),
            npde.Trainer(adam_steps=5, lbfgs_steps=0, progress=False),
        )
    res = validate(sol, exact=True)
    assert any("up to an additive constant" in n for n in res.notes)
    with torch.no_grad():
        sol.net.net.out.bias += 5.0
    shifted = validate(sol, exact=True)
    assert shifted.metrics["relative_l2"] == pytest.approx(res.metrics["relative_l2"], rel=1e-9)
    # the solution's own errors, and those stored in its file, are the same comparison
    assert sol.error() == pytest.approx(res.metrics["relative_l2"], rel=1e-9)
    path = sol.save(tmp_path / "n.h5")
    stored = npde.load(path).record["metrics"]["relative_l2"]
    assert stored == pytest.approx(res.metrics["relative_l2"], rel=1e-9)
    assert validate(str(path), exact=True).metrics["relative_l2"] == pytest.approx(stored)


def test_a_reference_of_another_problem_is_refused(files, tmp_path):
    other = dataclasses.replace(files["reference"], problem="poisson2d_bumps")
    with pytest.raises(ValueError, match="was computed for problem 'poisson2d_bumps', but the"):
        validate(files["sol"], reference=other, tol=1e3)
    changed = files["problem"].describe()
    changed["equation"] = {**changed["equation"], "f": "something else"}
    path = save_reference(files["reference"], tmp_path / "r.h5", problem=files["problem"])
    with h5py.File(path, "r+") as f:
        f["problem"].attrs["description"] = json.dumps(changed)
    with pytest.raises(ValueError, match=r"their problems' equation differ"):
        validate(files["sol"], reference=str(path))


def test_an_in_memory_reference_of_a_changed_problem_of_the_same_name_is_refused(files, tmp_path):
    problem = files["problem"]
    changed = npde.Problem(
        problem.domain, npde.Poisson(f=2.0), problem.conditions, name=problem.name
    )
    ref = convergence_study(changed, 8, levels=3, order=4)
    assert ref.description == changed.describe()
    with pytest.raises(ValueError, match=r"their problems' equation differ"):
        validate(files["sol"], reference=ref, tol=1e3)
    # saved without problem=, the file still describes the problem, with the same checksum
    path = save_reference(files["reference"], tmp_path / "r.h5")
    saved = load_reference(path)
    assert saved.description == problem.describe()
    assert saved.checksum == load_reference(files["ref"]).checksum
    # a reference that does not describe its problem is matched by name, and says so
    bare = dataclasses.replace(files["reference"], description={})
    res = validate(files["sol"], reference=bare, tol=1e3)
    assert any("matched to the solution by the name 'poisson2d_sine' alone" in n for n in res.notes)
    assert "by the name 'poisson2d_sine' alone" in res.summary()


def test_problem_descriptions_compare_as_a_file_stores_them():
    from neuralpde.problem import mathematics

    live = {
        "domain": {"type": "Rectangle", "lower": (0.0, 0.0), "upper": (1.0, 1.0)},
        "equation": {"type": "Custom", "time_order": np.int64(1)},
        "conditions": [{"type": "Dirichlet", "on": ("x_min",), "weight": 100.0}],
    }
    stored = json.loads(json.dumps(live, default=str))  # tuples as lists, np.int64 as "1"
    stored["conditions"][0]["weight"] = 1.0  # loss weights do not define the solution
    assert mathematics(live) == mathematics(stored)
    stored["equation"]["time_order"] = "2"
    assert mathematics(live) != mathematics(stored)


def test_against_reference(files):
    res = validate(files["sol"], reference=files["ref"], tol=10.0)
    ref = files["reference"]
    assert res.against == "reference" and res.passed is True and res.tol == 10.0
    assert res.reference_error == ref.estimated_error
    assert res.observed_order == pytest.approx(ref.observed_order)
    field = npde.load(files["sol"])
    # the network is evaluated at the reference's nodes, not interpolated
    np.testing.assert_array_equal(res.u, field.on_grid(ref.axes))
    np.testing.assert_array_equal(res.ref, ref.values)
    exact = files["problem"].exact_values(ref.points()).reshape(ref.values.shape)
    want = np.linalg.norm(res.u - exact) / np.linalg.norm(exact)
    assert res.metrics["relative_l2"] == pytest.approx(want, rel=1e-3)
    assert res.notes == ()
    text = res.summary()
    assert f"{ref.estimated_error:.3e}" in text and "PASS" in text
    fail = validate(files["sol"], reference=ref, tol=1e-9)
    assert fail.passed is False and "FAIL" in fail.summary()
    assert any("below the reference's estimated error" in n for n in fail.notes)


def test_note_when_the_solution_beats_the_reference(files):
    coarse = dataclasses.replace(files["reference"], estimated_error=10.0)
    res = validate(files["sol"], reference=coarse)
    assert any("cannot resolve" in n for n in res.notes)
    assert "cannot resolve" in res.summary()
    # within a factor 3 of the estimate, above it: still not resolved; beyond: resolved
    err = res.metrics["relative_l2"]
    near = dataclasses.replace(files["reference"], estimated_error=err / 2)
    assert any("within 3 times" in n for n in validate(files["sol"], reference=near).notes)
    far = dataclasses.replace(files["reference"], estimated_error=err / 4)
    assert not any("cannot resolve" in n for n in validate(files["sol"], reference=far).notes)


def test_a_reference_whose_levels_do_not_converge_judges_nothing(files, tmp_path, capsys):
    """Its error is unknown: no tolerance can be passed against it."""
    diverging = dataclasses.replace(files["reference"], estimated_error=math.inf, gci=math.inf)
    with pytest.raises(ValueError, match="has estimated error inf: its levels do not converge"):
        validate(files["sol"], reference=diverging, tol=1e3)
    path = save_reference(diverging, tmp_path / "r.h5", problem=files["problem"])
    with pytest.raises(ValueError, match=r"reference '.*r\.h5' has estimated error inf"):
        validate(files["sol"], reference=path, tol=1e3)
    assert main(["validate", files["sol"], "--reference", str(path), "--tol", "1e3", "-q"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.startswith("neuralpde: error: reference ") and len(cap.err.splitlines()) == 1
    assert "its levels do not converge" in cap.err


def test_mismatched_grids_are_refused(files):
    ref = files["reference"]
    wide = dataclasses.replace(ref, axes=(ref.axes[0] * 2, ref.axes[1]))
    with pytest.raises(ValueError, match=r"covers x in \[0, 2\].*sol\.h5.*x in \[0, 1\]"):
        validate(files["sol"], reference=wide)
    renamed = dataclasses.replace(ref, names=("x", "t"))
    with pytest.raises(ValueError, match=r"coordinates \('x', 't'\).*\('x', 'y'\)"):
        validate(files["sol"], reference=renamed)
    inner = dataclasses.replace(ref, axes=(ref.axes[0] * 0.5, ref.axes[1]))
    assert any("only part" in n for n in validate(files["sol"], reference=inner).notes)


def test_bad_arguments(files, tmp_path):
    with pytest.raises(ValueError, match="exactly one of"):
        validate(files["sol"])
    with pytest.raises(ValueError, match="exactly one of"):
        validate(files["sol"], reference=files["ref"], exact=True)
    with pytest.raises(ValueError, match="tol must be a positive"):
        validate(files["sol"], exact=True, tol=-1)
    with pytest.raises(ValueError, match="exact must be True or False, got 'no'"):
        validate(files["sol"], exact="no")
    with pytest.raises(TypeError, match="solution must be"):
        validate(42, exact=True)
    no_exact = tmp_path / "no_exact.h5"
    shutil.copy(files["sol"], no_exact)
    with h5py.File(no_exact, "a") as f:
        del f["exact"]
        del f.attrs["content_sha256"]  # as a file written before digests (else: altered)
    with pytest.raises(ValueError, match="has no 'exact' dataset"):
        validate(no_exact, exact=True)


def test_a_solution_that_is_nan_inside_the_domain_fails(files, tmp_path, monkeypatch):
    """NaN marks grid points outside a domain; a NaN of the field itself, inside, is not left
    out of the errors: they are NaN, and the solution fails its tolerance."""
    sol = files["solution"]
    on_grid = type(sol)._on_grid

    def with_nans(self, axes, **kwargs):  # the field NaN on one edge of the grid
        values = on_grid(self, axes, **kwargs)
        values[0] = np.nan
        return values

    monkeypatch.setattr(type(sol), "_on_grid", with_nans)
    path = sol.save(tmp_path / "nan.h5", n=17)
    for res in (
        validate(sol, exact=True, tol=1.0),
        validate(sol, reference=files["reference"], tol=1.0),
    ):
        assert math.isnan(res.metrics["relative_l2"]) and res.passed is False
        edge = len(res.axes[1])  # the grid points of the edge x = x_min
        assert any(f"NaN or infinite at {edge} grid point(s)" in n for n in res.notes), res.notes
        assert not any("not a box" in n for n in res.notes)
    assert math.isnan(npde.load(path).record["metrics"]["relative_l2"])


def test_the_network_is_judged_not_the_stored_grid(files, monkeypatch):
    """A file's stored grid ``/u`` replaced by its ``/exact`` does not pass at 0: ``validate``
    evaluates the network itself at the grid's nodes."""
    honest = validate(files["sol"], exact=True)
    assert honest.metrics["relative_l2"] > 1e-4
    grid = npde.solution.SavedField.grid

    def forged(self):
        coords, _ = grid.fget(self)
        return coords, np.array(self.record["exact"])

    monkeypatch.setattr(npde.solution.SavedField, "grid", property(forged))
    res = validate(files["sol"], exact=True, tol=1e-6)
    assert res.metrics["relative_l2"] == pytest.approx(honest.metrics["relative_l2"], rel=1e-12)
    assert res.passed is False


def test_a_solution_and_its_file_answer_validate_alike(files):
    """``validate`` asks a live Solution and a loaded SavedField the same questions
    (:class:`~neuralpde.solution.SolvedField`), and they answer alike."""
    live, saved = files["solution"], npde.load(files["sol"])
    assert isinstance(live, npde.solution.SolvedField)
    assert isinstance(saved, npde.solution.SolvedField)
    for name in ("names", "problem_name", "time_axis", "determined_up_to_a_constant"):
        assert getattr(live, name) == getattr(saved, name), name
    for a, b in zip(live.bounds, saved.bounds, strict=True):
        np.testing.assert_allclose(a, b)
    assert npde.problem.mathematics(live.description) == npde.problem.mathematics(saved.description)
    assert live.path is None and saved.path == files["sol"]
    axes, u, exact = saved.exact_on_grid()
    assert [len(a) for a in axes] == [33, 33] and u.shape == exact.shape == (33, 33)
    axes, u, exact = live.exact_on_grid()
    assert u.shape == exact.shape == tuple(len(a) for a in axes)


@pytest.mark.parametrize("kind", ["live", "saved"])
def test_an_extrapolation_warning_of_validate_names_its_caller(files, kind, monkeypatch):
    field = files["solution"] if kind == "live" else npde.load(files["sol"])
    box = {"lower": [0.0, 0.0], "upper": [0.5, 0.5]}  # smaller than the domain: extrapolated
    monkeypatch.setitem(field.architecture, "input_scaling", box)
    with pytest.warns(npde.ExtrapolationWarning) as record:
        validate(field, exact=True)
    assert record[0].filename == __file__


def test_a_reference_with_holes_or_a_negative_error_estimate_judges_nothing(files):
    ref = files["reference"]
    holed = np.array(ref.values, dtype=float)
    holed.reshape(-1)[:: max(holed.size // 38, 1)] = np.nan  # nodes left out
    with pytest.raises(ValueError, match=r"NaN or infinite at \d+ of its \d+ nodes"):
        validate(files["sol"], reference=dataclasses.replace(ref, values=holed), tol=1.0)
    negative = dataclasses.replace(ref, estimated_error=-1e-6)
    with pytest.raises(ValueError, match="estimated error -1e-06: an error estimate is at least 0"):
        validate(files["sol"], reference=negative, tol=1.0)


def test_problems_from_one_closure_with_other_captured_values_are_told_apart(files):
    """Identity by what a problem computes: ``f = lambda x: A * q(x)`` with another ``A`` has the
    same text, and a reference of one does not judge a solution of the other."""

    def family(a: float) -> npde.Problem:
        def q(x):
            return 2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1])

        base = files["problem"]
        return npde.Problem(
            base.domain, npde.Poisson(f=lambda x: a * q(x)), base.conditions, name=base.name
        )

    one, two = family(1.0), family(2.0)
    assert one.describe()["equation"] == two.describe()["equation"]  # the same text
    assert one.fingerprint != two.fingerprint and one.fingerprint == family(1.0).fingerprint
    ref = convergence_study(two, 8, levels=3, order=4)
    sol = npde.solve(
        one,
        npde.Siren(width=4, depth=1),
        npde.SobolSampler(n_interior=16, n_boundary=16),
        npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False),
    )
    with pytest.raises(ValueError, match="values at the probe points"):
        validate(sol, reference=ref, tol=1.0)
    assert validate(sol, reference=convergence_study(one, 8, levels=3, order=4)).passed is None
