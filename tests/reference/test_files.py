"""Reference files (:mod:`neuralpde.reference.files`): round trip, shared grid layout,
checksum, content digest, and refusal of the wrong or damaged files."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.io import REFERENCE_FORMAT_VERSION, FormatError, file_kind, read_solution
from neuralpde.reference import (
    SavedReference,
    convergence_study,
    load_reference,
    reference_checksum,
    reference_settings,
    save_reference,
)

from ..crafted import refused, replace

DATA = Path(__file__).parents[1] / "data"
PI = np.pi


def _sines(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


@pytest.fixture(scope="module")
def poisson():
    return npde.Problem(
        npde.Rectangle((0, 0), (1, 1)),
        npde.Poisson(f=lambda x: 2 * PI**2 * _sines(x)),
        [npde.Dirichlet(0.0)],
        exact=_sines,
        name="ref_poisson",
    )


@pytest.fixture(scope="module")
def heat():
    def u0(x):
        return torch.sin(PI * x[:, 0])

    return npde.Problem(
        npde.SpaceTime(npde.Interval(0, 1), t_span=(0, 0.2)),
        npde.Heat(kappa=0.1),
        [npde.Dirichlet(0.0), npde.Initial(u0)],
        name="ref_heat",
    )


@pytest.fixture(scope="module")
def poisson_ref(poisson):
    return convergence_study(poisson, 4, levels=3, order=4)


@pytest.mark.parametrize("path", [None, 5, ["r.h5"]], ids=["None", "int", "list"])
def test_save_reference_refuses_a_path_that_is_not_a_path_by_name(poisson, poisson_ref, path):
    # pathlib's own TypeError named neither the parameter nor the value
    message = f"path must be a file path (a str or os.PathLike), got {type(path).__name__} {path!r}"
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        save_reference(poisson_ref, path, problem=poisson)


def test_round_trip(poisson, poisson_ref, tmp_path):
    path = save_reference(poisson_ref, tmp_path / "r.h5", problem=poisson)
    back = load_reference(path)
    assert isinstance(back, SavedReference)
    assert back.names == ("x", "y")
    for a, b in zip(back.axes, poisson_ref.axes, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.values, poisson_ref.values)
    assert back.table == poisson_ref.table
    for key in ("observed_order", "order_used", "estimated_error", "gci", "ratio", "order"):
        assert getattr(back, key) == getattr(poisson_ref, key), key
    assert back.scheme == poisson_ref.scheme and back.n == (16, 16) and back.steps is None
    assert back.convergence["estimated_error"] == poisson_ref.estimated_error
    assert back.description == json.loads(json.dumps(poisson.describe()))
    assert back.settings == reference_settings(poisson, n=4, levels=3, order=4)
    assert back.checksum == reference_checksum(poisson, n=4, levels=3, order=4)
    pts = back.points()
    np.testing.assert_allclose(back.interpolate(pts), back.values.ravel(), atol=1e-12)
    assert file_kind(path) == "reference"
    # saving the loaded reference keeps its record
    again = load_reference(save_reference(back, tmp_path / "r2.h5"))
    assert again.checksum == back.checksum and again.description == back.description


def test_checksum_tracks_the_inputs(poisson, poisson_ref, tmp_path):
    one = load_reference(save_reference(poisson_ref, tmp_path / "a.h5", problem=poisson))
    two = load_reference(save_reference(poisson_ref, tmp_path / "b.h5", problem=poisson))
    assert one.checksum == two.checksum and len(one.checksum) == 64
    assert reference_checksum(poisson, n=(4, 4), levels=3, order=4) == one.checksum
    assert reference_checksum(poisson, n=8, levels=3, order=4) != one.checksum
    assert reference_checksum(poisson, n=4, levels=4, order=4) != one.checksum
    other = dataclasses.replace(poisson, equation=npde.Poisson(f=1.0))
    assert reference_checksum(other, n=4, levels=3, order=4) != one.checksum


def test_reference_file_has_the_solution_files_grid_layout(poisson, poisson_ref, tmp_path):
    path = save_reference(poisson_ref, tmp_path / "r.h5", problem=poisson)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "neuralpde-reference"
        assert f.attrs["format_version"] == REFERENCE_FORMAT_VERSION
        assert json.loads(f.attrs["neuralpde_coordinates"]) == ["x", "y"]
        for i, name in enumerate(("y", "x")):  # CF's order: the space axes last to first
            assert h5py.h5ds.is_scale(f[name].id)
            assert f["u"].dims[i][0].name == f"/{name}"
        conv = f["convergence"]
        assert conv["n"].shape == (3, 2) and conv["n"][-1].tolist() == [16, 16]
        assert np.isnan(conv["difference"][0]) and np.all(np.isnan(conv["dt"][()]))
        assert conv.attrs["scheme"] == poisson_ref.scheme and conv.attrs["order"] == 4
        assert json.loads(f["problem"].attrs["description"])["name"] == "ref_poisson"
        assert "numpy" in json.loads(f["provenance"].attrs["versions"])
        assert len(f.attrs["checksum"]) == 64
    poisson_sol = npde.solve(
        poisson,
        npde.Siren(width=4, depth=1),
        npde.SobolSampler(n_interior=16, n_boundary=16),
        npde.Trainer(adam_steps=1, lbfgs_steps=0, progress=False),
    )
    sol_path = poisson_sol.save(tmp_path / "s.h5", n=5)
    with h5py.File(sol_path, "r") as sol, h5py.File(path, "r") as ref:
        for f in (sol, ref):  # what a generic reader needs is in the same place in both
            names = json.loads(f.attrs["neuralpde_coordinates"])
            assert [d[0].name for d in f["u"].dims] == [f"/{n}" for n in reversed(names)]
            assert all(h5py.h5ds.is_scale(f[n].id) for n in names)


def test_evolution_round_trip(heat, tmp_path):
    ref = convergence_study(heat, 4, levels=3, time_samples=3)
    back = load_reference(save_reference(ref, tmp_path / "h.h5", problem=heat))
    assert back.names == ("x", "t") and back.values.shape == (17, 3)
    np.testing.assert_array_equal(back.values, ref.values)
    assert back.steps == ref.steps and back.dt == ref.dt
    assert [r.dt for r in back.table] == [r.dt for r in ref.table]
    assert [r.steps for r in back.table] == [r.steps for r in ref.table]
    assert back.settings["time_samples"] == 3 and back.settings["n"] == [4]
    assert back.checksum == reference_checksum(heat, n=4, levels=3, time_samples=3)


def test_settings_read_off_an_evolution_study_without_time_samples(heat, tmp_path):
    """Every time level of the coarsest grid is kept: no time_samples, and the checksum is the
    one reference_checksum gives for the same inputs."""
    for levels, extrapolate in ((3, False), (4, True)):
        ref = convergence_study(heat, 4, levels=levels, extrapolate=extrapolate)
        assert len(ref.axes[-1]) == ref.table[0].steps + 1 < ref.steps + 1
        back = load_reference(save_reference(ref, tmp_path / "h.h5", problem=heat))
        assert back.settings["time_samples"] is None
        want = reference_checksum(heat, n=4, levels=levels, extrapolate=extrapolate)
        assert back.checksum == want


def test_wrong_kinds_and_versions_are_refused(poisson, poisson_ref, tmp_path):
    path = save_reference(poisson_ref, tmp_path / "r.h5", problem=poisson)
    with pytest.raises(FormatError, match="is a neuralpde reference file, not a solution"):
        read_solution(path)
    with pytest.raises(FormatError, match="is a neuralpde reference file, not a solution"):
        npde.load(path)
    with pytest.raises(FormatError, match="is a neuralpde solution file, not a reference"):
        load_reference(DATA / "solution_v1.h5")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["u"] = np.zeros(3)
    with pytest.raises(FormatError, match="not a neuralpde reference file"):
        load_reference(foreign)
    text = tmp_path / "t.h5"
    text.write_text("hello")
    with pytest.raises(FormatError, match="not an HDF5 file"):
        load_reference(text)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_reference(tmp_path / "missing.h5")
    with pytest.raises(FormatError, match="is a directory, not a neuralpde file"):
        load_reference(tmp_path)
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = REFERENCE_FORMAT_VERSION + 1
    with pytest.raises(FormatError, match="upgrade neuralpde"):
        load_reference(path)
    for version in (0, -2, None):
        with h5py.File(path, "a") as f:
            if version is None:
                del f.attrs["format_version"]
            else:
                f.attrs["format_version"] = version
        shown = "no format_version" if version is None else f"format_version {version}"
        with pytest.raises(FormatError, match=f"r.h5' has {shown}; expected an integer >= 1"):
            load_reference(path)
    damaged = save_reference(poisson_ref, tmp_path / "d.h5", problem=poisson)
    with h5py.File(damaged, "a") as f:
        f["convergence"].attrs["settings"] = "[1, 2]"  # JSON, but not a mapping
    with pytest.raises(FormatError, match="is a damaged neuralpde reference file: AttributeError"):
        load_reference(damaged)


def test_failed_write_keeps_the_old_file(poisson, poisson_ref, tmp_path, monkeypatch):
    path = save_reference(poisson_ref, tmp_path / "r.h5", problem=poisson)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_group", boom)
    with pytest.raises(OSError, match="disk full"):
        save_reference(poisson_ref, path, problem=poisson)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5", "r.xdmf"]  # the first save's


def test_settings_take_dt_as_a_numpy_scalar(heat):
    settings = reference_settings(heat, n=4, dt=np.float32(0.25))
    assert settings["dt"] == 0.25 and type(settings["dt"]) is float
    assert reference_checksum(heat, n=4, dt=np.float32(0.25)) == reference_checksum(
        heat, n=4, dt=0.25
    )
    with pytest.raises(ValueError, match="dt must be a positive finite number"):
        reference_settings(heat, n=4, dt=-1.0)


def test_a_study_saved_without_settings_keeps_its_dt(heat, tmp_path):
    """The file's settings, and so its checksum, are those of the study that ran: a study
    given dt is not taken for one with the default dt (they differ in their time steps)."""
    given = convergence_study(heat, 4, levels=3, dt=0.05)
    assert given.study_dt == 0.05
    saved = load_reference(save_reference(given, tmp_path / "g.h5"))
    assert saved.settings["dt"] == 0.05 and saved.study_dt == 0.05
    assert saved.checksum == reference_checksum(heat, n=4, levels=3, dt=0.05)
    assert saved.checksum != reference_checksum(heat, n=4, levels=3)
    default = convergence_study(heat, 4, levels=3)
    assert default.study_dt is None and default.table[0].steps != given.table[0].steps
    again = load_reference(save_reference(default, tmp_path / "d.h5"))
    assert again.checksum == reference_checksum(heat, n=4, levels=3)
    # a saved reference saved again keeps them too
    assert load_reference(save_reference(saved, tmp_path / "s.h5")).checksum == saved.checksum


def test_bad_arguments_are_named(poisson, poisson_ref, heat, tmp_path):
    with pytest.raises(TypeError, match="ref must be a ReferenceSolution"):
        save_reference(poisson_ref.values, tmp_path / "r.h5")
    with pytest.raises(ValueError, match="computed for 'ref_poisson'"):
        save_reference(poisson_ref, tmp_path / "r.h5", problem=heat)
    with pytest.raises(ValueError, match=r"settings has unknown key\(s\) \['m'\]"):
        save_reference(poisson_ref, tmp_path / "r.h5", problem=poisson, settings={"m": 1})
    with pytest.raises(ValueError, match="n must be an int or 2 ints"):
        reference_settings(poisson, n=(4, 4, 4))
    with pytest.raises(ValueError, match="levels must be an int >= 3"):
        reference_checksum(poisson, n=4, levels=2)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_reference(poisson_ref, tmp_path / "no" / "r.h5", problem=poisson)


def test_a_problem_of_the_same_name_that_changed_is_not_stored_as_the_references(
    poisson, poisson_ref, tmp_path
):
    """The file would describe (and its checksum name) a problem its values do not solve."""
    changed = npde.Problem(
        poisson.domain, npde.Poisson(f=1.0), poisson.conditions, name=poisson.name
    )
    with pytest.raises(ValueError, match=r"not the one the reference was computed for: their "):
        save_reference(poisson_ref, tmp_path / "r.h5", problem=changed)
    assert not (tmp_path / "r.h5").exists()
    heavier = npde.Problem(  # loss weights do not change the solution
        poisson.domain, poisson.equation, [npde.Dirichlet(0.0, weight=7.0)], name=poisson.name
    )
    saved = load_reference(save_reference(poisson_ref, tmp_path / "r.h5", problem=heavier))
    assert saved.description == json.loads(json.dumps(heavier.describe(), default=str))


def test_interpolate_checks_points_as_a_field_does(poisson_ref):
    from neuralpde.fields import build_field

    architecture = {"field": npde.Siren(width=8, depth=1).describe(), "in_features": 2}
    field = npde.NeuralField(build_field(architecture).double(), ("x", "y"), architecture)
    one = poisson_ref.interpolate([0.5, 0.25])  # a single flat point, as a field takes it
    assert one.shape == field([0.5, 0.25]).shape == (1,)
    np.testing.assert_array_equal(one, poisson_ref.interpolate([[0.5, 0.25]]))
    assert np.isfinite(one).all()
    for call in (poisson_ref.interpolate, field):
        with pytest.raises(ValueError, match="^points contain NaN or inf"):
            call([[0.5, np.nan]])
        with pytest.raises(TypeError, match="^points must be real coordinates, got complex"):
            call(np.array([[0.5 + 1j, 0.5]]))
        with pytest.raises(ValueError, match=r"^points must be an \(N, 2\) .*'0.5' is a str"):
            call([["0.5", "0.5"]])
        with pytest.raises(ValueError, match=r"^points must have shape \(N, 2\) with columns"):
            call([0.5, 0.5, 0.5])


def test_extrapolated_round_trip(poisson, tmp_path):
    ref = convergence_study(poisson, 4, levels=4, order=2, extrapolate=True)
    back = load_reference(save_reference(ref, tmp_path / "e.h5", problem=poisson))
    assert back.extrapolated and back.extrapolated_table == ref.extrapolated_table
    assert back.n == ref.n and back.values.shape == ref.values.shape
    np.testing.assert_array_equal(back.values, ref.values)
    assert back.estimated_error == ref.estimated_error and back.scheme == ref.scheme
    assert back.settings["extrapolate"] is True
    assert back.checksum == reference_checksum(poisson, n=4, levels=4, extrapolate=True)
    assert back.checksum != reference_checksum(poisson, n=4, levels=4)
    with h5py.File(tmp_path / "e.h5", "r") as f:
        assert f["convergence"].attrs["extrapolated"]
        assert f["convergence/extrapolated/levels"][()].tolist() == [[0, 1], [1, 2], [2, 3]]


# -- reference files read as untrusted data --------------------------------------------------------
# Crafted or damaged reference files are refused with a FormatError naming the file and the
# entry, before anything large is allocated.


@pytest.fixture(scope="module")
def study():
    problem = npde.Problem(
        npde.Interval(0, 1), npde.Poisson(1.0), [npde.Dirichlet(0.0)], name="untrusted_1d"
    )
    return problem, convergence_study(problem, 4, levels=3)


@pytest.fixture
def reference(tmp_path, study) -> Path:
    problem, ref = study
    return save_reference(ref, tmp_path / "r.h5", problem=problem)


def test_a_reference_file_round_trips_with_its_digest(reference, study):
    back = load_reference(reference)
    np.testing.assert_array_equal(back.values, study[1].values)
    with h5py.File(reference, "r") as f:
        assert re.fullmatch(r"[0-9a-f]{64}", f.attrs["content_sha256"])


def test_an_altered_reference_breaks_its_digest(reference):
    with h5py.File(reference, "a") as f:
        f["u"][0] += 1.0
    refused(load_reference, reference, r"content digest does not match")
    with h5py.File(reference, "a") as f:
        f["u"][0] -= 1.0
        f["convergence/h"][0] *= 2  # the table is covered too
    refused(load_reference, reference, r"content digest does not match")


def test_a_reference_with_nan_nodes_inside_the_domain_is_refused(tmp_path, study):
    problem, ref = study
    holed = np.array(ref.values, dtype=float)
    holed[[5, 7]] = np.nan
    path = save_reference(
        dataclasses.replace(ref, values=holed), tmp_path / "r.h5", problem=problem
    )
    refused(load_reference, path, r"'/u' is NaN or infinite at 2 of its 17 nodes inside")
    with h5py.File(path, "a") as f:  # the domain made [0, 0.25]: the NaN nodes lie outside it
        desc = json.loads(f["problem"].attrs["description"])
        desc["domain"]["upper"] = [0.25]
        f["problem"].attrs["description"] = json.dumps(desc)
    assert np.isnan(load_reference(path).values).sum() == 2


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (-1.0, r"has estimated error -1.0: an error estimate is at least 0"),
        (np.nan, r"has estimated error nan: its levels do not converge"),
        (np.inf, r"has estimated error inf: its levels do not converge"),
    ],
)
def test_a_reference_whose_error_estimate_is_not_a_finite_number_is_refused(
    reference, value, pattern
):
    with h5py.File(reference, "a") as f:
        f["convergence"].attrs["estimated_error"] = value
    refused(load_reference, reference, pattern, r"'estimated_error' of '/convergence'")


def test_a_reference_is_checked_as_a_solution_is(reference, tmp_path):
    with h5py.File(reference, "a") as f:
        replace(f, "convergence/n", shape=(2**40, 1), chunks=(4096, 1), dtype="i8")
        f["convergence"].attrs["settings"] = "{" * 100 + "}" * 100
    refused(load_reference, reference, r"'/convergence/n' declares 1099511627776 elements")
    with h5py.File(reference, "a") as f:
        del f["convergence/n"]
        f["convergence/n"] = h5py.SoftLink("/convergence/h")
    refused(load_reference, reference, r"'/convergence/n' is a soft link")
    assert main(["info", str(reference)]) == 2


def _l_mesh(n: int = 8):
    """The unit square less its top-right quarter, in right triangles of side 1/n."""
    import meshio

    xs = np.linspace(0.0, 1.0, n + 1)
    X, Y = np.meshgrid(xs, xs, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel()])
    tris = []
    for i in range(n):
        for j in range(n):
            if i >= n // 2 and j >= n // 2:
                continue
            a, b, c, d = (
                i * (n + 1) + j,
                (i + 1) * (n + 1) + j,
                (i + 1) * (n + 1) + j + 1,
                i * (n + 1) + j + 1,
            )
            tris += [[a, b, c], [a, c, d]]
    return npde.MeshDomain(meshio.Mesh(pts, [("triangle", np.array(tris))]))


@pytest.fixture(scope="module")
def mesh_study():
    mesh = _l_mesh()
    problem = npde.Problem(mesh, npde.Poisson(1.0), [npde.Dirichlet(0.0)], name="l_mesh")
    return mesh, convergence_study(problem, 8, levels=3)


def test_a_mesh_reference_stores_its_mesh_and_knows_its_inside(mesh_study, tmp_path):
    mesh, ref = mesh_study
    path = save_reference(ref, tmp_path / "m.h5")  # the mesh comes with the study's values
    with h5py.File(path, "r") as f:
        assert f["problem/mesh"].attrs["sha256"] == mesh.digest
        assert f["problem/mesh/cells"].shape == (len(mesh.cells), 3)
    back = load_reference(path)
    np.testing.assert_array_equal(back.values, ref.values)
    nodes = np.stack([m.ravel() for m in np.meshgrid(*ref.axes, indexing="ij")], axis=1)
    outside = ~mesh.contains(nodes).reshape(ref.values.shape)
    assert outside.any() and np.isnan(back.values[outside]).all()
    assert np.isfinite(back.values[~outside]).all()
    assert back.domain.digest == mesh.digest  # and saved again, it keeps its mesh
    again = load_reference(save_reference(back, tmp_path / "again.h5"))
    assert again.domain.digest == mesh.digest

    holed = np.array(ref.values, dtype=float)
    i, j = (len(a) // 4 for a in ref.axes)  # (0.25, 0.25): inside the L
    holed[i, j] = np.nan
    bad = save_reference(dataclasses.replace(ref, values=holed), tmp_path / "bad.h5")
    refused(load_reference, bad, r"'/u' is NaN at 1 of its \d+ nodes inside the problem's Mesh")
    with h5py.File(bad, "a") as f:  # a file written before meshes were stored: NaN is outside
        del f["problem/mesh"]
    assert np.isnan(load_reference(bad).values).sum() == np.isnan(holed).sum()


def test_an_altered_mesh_in_a_reference_is_refused(mesh_study, tmp_path):
    _, ref = mesh_study
    path = save_reference(ref, tmp_path / "m.h5")
    with h5py.File(path, "a") as f:
        f["problem/mesh/points"][0, 0] += 0.01
    refused(load_reference, path, r"does not match its digest")


def test_a_space_time_mesh_reference_keeps_its_mesh(tmp_path):
    mesh = _l_mesh()
    problem = npde.Problem(
        npde.SpaceTime(mesh, t_span=(0.0, 0.1)),
        npde.Heat(kappa=0.1, f=1.0),
        [npde.Dirichlet(0.0), npde.Initial(0.0)],
        name="l_mesh_heat",
    )
    ref = convergence_study(problem, 8, levels=3, time_samples=3)
    back = load_reference(save_reference(ref, tmp_path / "h.h5"))
    assert isinstance(back.domain, npde.SpaceTime)
    assert back.domain.space.digest == mesh.digest and (back.domain.t0, back.domain.t1) == (
        0.0,
        0.1,
    )
    holed = np.array(ref.values, dtype=float)
    holed[2, 2, -1] = np.nan  # (0.25, 0.25) at the last time: inside the L
    bad = save_reference(dataclasses.replace(ref, values=holed), tmp_path / "bad.h5")
    refused(load_reference, bad, r"'/u' is NaN at 1 of its \d+ nodes inside the problem's Space")
