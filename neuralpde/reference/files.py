"""Reference files: save a :class:`ReferenceSolution` to HDF5 and load it back.

The layout (``format = "neuralpde-reference"``) is owned by :mod:`neuralpde.io.hdf5` and shares
the grid layout of solution files. Each file carries a ``checksum`` of its inputs (the problem's
description and the settings of the convergence study, see :func:`reference_checksum`), so a
suite can reuse a reference whose inputs did not change.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._arguments import check_path
from ..domains import Domain, SpaceTime
from ..io import FormatError, read_reference, write_reference
from ..io import reference_checksum as _checksum
from ..io.hdf5 import damaged_entries, mesh_of
from ..io.provenance import versions
from ..problem import Problem, differing_mathematics
from ..problem_spec import rebuilt_domain
from . import solution as _solution
from .api import Study
from .irregular import nodes_inside
from .solution import LevelResult, ReferenceSolution

__all__ = [
    "SavedReference",
    "save_reference",
    "load_reference",
    "reference_settings",
    "reference_checksum",
]

log = logging.getLogger("neuralpde.reference")


@dataclass(frozen=True, eq=False)
class SavedReference(ReferenceSolution):
    """A reference loaded from a file: a :class:`ReferenceSolution` plus what the file records.

    ``description`` is the problem's :meth:`~neuralpde.Problem.describe` (``problem`` stays its
    name), ``settings`` the convergence study's inputs, ``checksum`` their
    :func:`reference_checksum`; ``interpolate(points)`` evaluates the finest grid's cubic spline.
    """

    settings: dict = field(default_factory=dict)
    checksum: str = ""
    path: str = ""
    created: str = ""
    versions: dict = field(default_factory=dict)

    @property
    def convergence(self) -> dict[str, Any]:
        """Observed order, error estimates, scheme and the per-level table as plain values."""
        return _convergence(self)


def _convergence(ref: ReferenceSolution) -> dict[str, Any]:
    """A study's error estimates and per-level tables as plain values."""
    keys = ("observed_order", "order_used", "order", "estimated_error", "gci", "ratio", "scheme")
    out: dict[str, Any] = {k: getattr(ref, k) for k in keys}
    out["table"] = [asdict(r) for r in ref.table]
    out["extrapolated"] = bool(getattr(ref, "extrapolated", False))
    out["extrapolated_table"] = [asdict(r) for r in getattr(ref, "extrapolated_table", None) or ()]
    return out


def _space_dims(description: Mapping) -> int:
    domain = description.get("domain", {})
    if "space" in domain:
        return len(domain["space"]["names"])
    return len(domain.get("names", ())) or 1


def reference_settings(
    problem: Problem | Mapping,
    *,
    n: int | Sequence[int],
    levels: int = 3,
    ratio: int = 2,
    order: int = 2,
    dt: float | None = None,
    time_samples: int | None = None,
    extrapolate: bool = False,
    method: str = "auto",
) -> dict[str, Any]:
    """The inputs of :func:`~neuralpde.reference.convergence_study` in a canonical form.

    ``n`` becomes one count per space axis of ``problem`` (a :class:`~neuralpde.Problem` or its
    description), so ``n=32`` and ``n=(32, 32)`` give the same settings and checksum. The
    settings are checked as the study checks them (they make a
    :class:`~neuralpde.reference.Study`); ``method`` is checked but not kept: the linear solver
    does not change the solution.
    """
    study = Study(
        n=n,  # type: ignore[arg-type]
        levels=levels,
        ratio=ratio,
        order=order,
        dt=dt,
        time_samples=time_samples,
        method=method,
        extrapolate=extrapolate,
    )
    return _canonical(problem, study)


def _canonical(problem: Problem | Mapping, study: Study) -> dict[str, Any]:
    """The settings of ``study`` for ``problem`` (or its description), as a file stores them."""
    desc = problem.describe() if isinstance(problem, Problem) else problem
    return study.for_axes(_space_dims(desc)).canonical()


def reference_checksum(
    problem: Problem | Mapping, study: Study | None = None, **settings: Any
) -> str:
    """The checksum a reference of ``problem`` computed with ``study`` (a
    :class:`~neuralpde.reference.Study`), or with ``settings`` (:func:`reference_settings`'
    keywords, ``n`` required), carries in its file.

    Compare it with :attr:`SavedReference.checksum` to decide whether a stored reference can be
    reused. The problem enters through its description: numbers, and the source text of
    callables.
    """
    desc = problem.describe() if isinstance(problem, Problem) else dict(problem)
    if study is None:
        return _checksum(desc, reference_settings(desc, **settings))
    if not isinstance(study, Study):
        raise TypeError(f"study must be a neuralpde.reference.Study, got {type(study).__name__}")
    if settings:
        raise TypeError(
            f"give the settings as a Study or as keywords, not both (got {', '.join(settings)})"
        )
    return _checksum(desc, _canonical(desc, study))


def _inferred_settings(ref: ReferenceSolution) -> dict[str, Any]:
    """Settings read off a study's result."""
    time_samples = ref.time_samples
    coarsest = ref.table[0].steps  # without time_samples, every one of its time levels is kept
    if time_samples is None and coarsest is not None and len(ref.axes[-1]) != coarsest + 1:
        time_samples = len(ref.axes[-1])
    return {
        "n": list(ref.table[0].n),
        "levels": len(ref.table),
        "ratio": ref.ratio,
        "order": ref.order,
        "dt": getattr(ref, "study_dt", None),
        "time_samples": time_samples,
        "extrapolate": bool(getattr(ref, "extrapolated", False)),
    }


def save_reference(
    ref: ReferenceSolution,
    path: str | os.PathLike,
    *,
    problem: Problem | Mapping | None = None,
    settings: Study | Mapping[str, Any] | None = None,
    xdmf: bool = True,
) -> Path:
    """Write ``ref`` (from :func:`~neuralpde.reference.convergence_study`) to an HDF5 file.

    ``problem`` (the :class:`~neuralpde.Problem` or its description) is stored so the file
    describes itself; by default the description ``ref`` carries (every reference from
    :func:`~neuralpde.reference.convergence_study` does), and without either only the problem's
    name is known; a given problem must be the one ``ref`` describes (its domain, equation and
    conditions; loss weights aside). ``settings`` are the
    study's inputs: a :class:`~neuralpde.reference.Study`, or a dict of some of its settings
    (the others read off ``ref``); by default all are read off ``ref``. A finite-element
    reference (:func:`~neuralpde.reference.fem.fem_reference`) records its own (``method``
    ``"fem-p2"``, ``refinements``, the levels, the order and the sampling grid's ``n``) and
    takes none.
    Written atomically; with ``xdmf`` (the default), an XDMF sidecar describing the grid to
    ParaView and VisIt is written beside it (see :mod:`neuralpde.io.xdmf`). A mesh domain (of
    ``problem``, or the one ``ref`` was computed on) is stored with the values, so that
    :func:`load_reference` knows which nodes lie inside it.
    """
    if not isinstance(ref, ReferenceSolution):
        raise TypeError(
            f"ref must be a ReferenceSolution (from convergence_study), got {type(ref).__name__}"
        )
    check_path(path)
    if problem is None and ref.description:
        problem = ref.description
    if problem is None:
        log.warning("save_reference: no problem given; the file records only its name")
        desc: dict = {"name": ref.problem}
    else:
        desc = problem.describe() if isinstance(problem, Problem) else dict(problem)
        if desc.get("name") != ref.problem:
            raise ValueError(
                f"problem is {desc.get('name')!r} but the reference was computed for "
                f"{ref.problem!r}"
            )
        if ref.description and "equation" in ref.description and "equation" in desc:
            differ = differing_mathematics(ref.description, desc)
            if differ:
                raise ValueError(
                    f"problem {ref.problem!r} is not the one the reference was computed for: "
                    f"their {', '.join(differ)} differ; compute the reference again from this "
                    "problem, or save it without problem="
                )
    canonical = _own_settings(ref, settings)
    if canonical is None:
        canonical = _canonical(
            desc if "domain" in desc else _desc_from_axes(ref), _study_of(ref, settings)
        )

    mesh = mesh_of(problem.domain if isinstance(problem, Problem) else ref.domain)
    vers = versions()
    return write_reference(
        path,
        coords=dict(zip(ref.names, ref.axes, strict=True)),
        values=np.asarray(ref.values, dtype=np.float64),
        convergence={**_convergence(ref), "wall_time": ref.wall_time},
        problem=desc,
        settings=canonical,
        provenance={
            "neuralpde": vers["neuralpde"],
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": vers,
            "platform": platform.platform(),
        },
        xdmf=xdmf,
        mesh=mesh,
    )


def _own_settings(ref: ReferenceSolution, settings: object) -> dict[str, Any] | None:
    """The settings of a reference that records its own, not made by a finite-difference
    study: a finite-element reference's (:meth:`~.fem.FEMReference.recorded_settings`), or
    those of a file one wrote (they name its ``method``); ``None`` for a study's."""
    recorded = getattr(ref, "recorded_settings", None)
    if callable(recorded):
        own = dict(recorded())
    elif isinstance(ref, SavedReference) and "method" in ref.settings:
        own = dict(ref.settings)
    else:
        return None
    if settings is not None:
        raise TypeError(
            f"a {own.get('method')} reference records its own settings; save it without settings="
        )
    return own


def _study_of(ref: ReferenceSolution, settings: Study | Mapping[str, Any] | None) -> Study:
    """The :class:`Study` that :func:`save_reference` records for ``ref``: ``settings``, or
    those it leaves out read off ``ref``."""
    if isinstance(settings, Study):
        return settings
    if settings is None and isinstance(ref, SavedReference):
        return Study.from_dict(ref.settings)
    if settings is not None and not isinstance(settings, Mapping):
        raise TypeError(
            "settings must be a neuralpde.reference.Study or a dict of its settings, got "
            f"{type(settings).__name__}"
        )
    # the inferred keys are all known: an unknown key is one of ``settings``
    return Study.from_dict({**_inferred_settings(ref), **dict(settings or {})})


def _desc_from_axes(ref: ReferenceSolution) -> dict:
    """A minimal description for counting space axes when no problem was given."""
    names = list(ref.names[:-1] if ref.steps is not None else ref.names)
    return {"domain": {"names": names}}


def load_reference(path: str | os.PathLike) -> SavedReference:
    """Read a reference file written by :func:`save_reference` (or ``neuralpde reference``).

    Raises ``FileNotFoundError`` for a missing file and :class:`~neuralpde.io.FormatError` for
    a file that is not a readable neuralpde reference: damaged or crafted (see
    :func:`~neuralpde.io.read_reference`), NaN or infinite at nodes inside the problem's domain
    (a mesh domain rebuilt from the file, where it stores one), or with an estimated error that
    is not a finite number >= 0. The reference's ``domain`` is the domain its description
    stands for (:func:`~neuralpde.problem_spec.rebuilt_domain`: a mesh from the file's own
    copy), ``None`` where it cannot be rebuilt.
    """
    rec = read_reference(path, mesh=True)
    with damaged_entries(path, "reference"):  # parts present but not of the expected kind
        _check_error_estimate(rec, path)
        desc = rec["problem"].get("domain") if isinstance(rec["problem"], Mapping) else None
        domain = rebuilt_domain(desc, rec["coordinates"], rec["mesh"], str(path))
        _check_values(rec, path, domain if mesh_of(domain) is not None else None)
        return replace(_saved_reference(rec, path), domain=domain)


def _check_error_estimate(rec: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Refuse a reference whose estimated error is not a finite number >= 0."""
    err = rec["convergence"]["estimated_error"]
    where = f"reference {str(path)!r} has estimated error {err}"
    entry = "(attribute 'estimated_error' of '/convergence')"
    if not math.isfinite(err):
        raise FormatError(
            f"{where}: its levels do not converge, so its own error is unknown and it cannot "
            f"judge a solution {entry}; compute the reference again (refine, or check that the "
            "problem is well posed)"
        )
    if err < 0:
        raise FormatError(
            f"{where}: an error estimate is at least 0 {entry}; the file is damaged or was not "
            "made by a convergence study"
        )


def _check_values(
    rec: Mapping[str, Any], path: str | os.PathLike, mesh: Domain | None = None
) -> None:
    """Refuse a reference that is NaN or infinite at nodes of its grid inside the problem's
    domain: inside its box, inside the domain itself when it (or the space of its
    ``SpaceTime``) is not a box (rebuilt from its description: disks, balls, polygons and CSG
    of them; a mesh from the file's ``/problem/mesh``, and where a file written before meshes
    were stored has none, its NaN nodes are taken as outside), or at every node when the file
    does not describe the domain."""
    values = np.asarray(rec["u"])
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    axes = [np.asarray(rec["coords"][n]) for n in rec["coordinates"]]
    inside = [np.ones(len(a), dtype=bool) for a in axes]  # without a box: every node
    domain = rec["problem"].get("domain") if isinstance(rec["problem"], Mapping) else None
    space = domain.get("space") if isinstance(domain, Mapping) else None
    if isinstance(domain, Mapping) and (
        domain.get("type") not in _BOX_TYPES | {"SpaceTime"}
        or (isinstance(space, Mapping) and space.get("type") not in _BOX_TYPES)
    ):
        _check_region_values(values, axes, dict(domain), path, mesh)
        return
    if isinstance(domain, Mapping):
        try:
            lo = np.asarray(domain.get("lower"), dtype=np.float64)
            hi = np.asarray(domain.get("upper"), dtype=np.float64)
        except (TypeError, ValueError):
            lo = hi = np.zeros(0)
        if lo.shape == hi.shape == (len(axes),) and np.isfinite(hi - lo).all():
            slack = 1e-9 * (hi - lo)
            inside = [
                (a >= low - s) & (a <= high + s)
                for a, low, high, s in zip(axes, lo, hi, slack, strict=True)
            ]
    count = int(np.count_nonzero(bad[np.ix_(*inside)]))
    if count:
        raise FormatError(
            f"{str(path)!r}: '/u' is NaN or infinite at {count} of its {values.size} nodes "
            "inside the problem's domain: a reference has a value at every node it holds"
        )


_BOX_TYPES = {"Box", "Interval", "Rectangle"}


def _domain_name(domain: dict) -> str:
    """``Disk``, or ``SpaceTime of a Disk``."""
    space = domain.get("space")
    if domain.get("type") == "SpaceTime" and isinstance(space, Mapping):
        return f"SpaceTime of a {space.get('type')}"
    return str(domain.get("type"))


def _check_region_values(
    values: np.ndarray,
    axes: list[np.ndarray],
    domain: dict,
    path: str | os.PathLike,
    mesh: Domain | None = None,
) -> None:
    """:func:`_check_values` on a domain that is not a box: NaN only at nodes outside it,
    infinite nowhere; ``mesh`` is the mesh domain (or ``SpaceTime`` of one) rebuilt from the
    mesh the file stores."""
    where = f"{str(path)!r}: '/u'"
    if np.isinf(values).any():
        raise FormatError(f"{where} is infinite at {int(np.isinf(values).sum())} nodes")
    inside = nodes_inside(domain, axes) if mesh is None else _mesh_nodes_inside(mesh, axes)
    if inside is None:
        log.debug("%s: a %s is not rebuilt from its description", path, _domain_name(domain))
        return
    count = int(np.count_nonzero(np.isnan(values) & inside))
    if count:
        raise FormatError(
            f"{where} is NaN at {count} of its {values.size} nodes inside the problem's "
            f"{_domain_name(domain)}: a reference has a value at every node inside its domain"
        )


def _mesh_nodes_inside(domain: Domain, axes: list[np.ndarray]) -> np.ndarray:
    """Which grid nodes lie inside the mesh ``domain`` (or ``SpaceTime`` of one, time last:
    every time level alike), farther than round-off from its boundary."""
    region = mesh_of(domain)
    timed = isinstance(domain, SpaceTime)
    space_axes = axes[:-1] if timed else axes
    grid = np.meshgrid(*space_axes, indexing="ij")
    pts = np.stack([g.ravel() for g in grid], axis=1)
    lo, hi = region.bounds
    # nodes on the boundary (within round-off) may be NaN: the grid's and the mesh's notion of
    # a boundary node differ by round-off, and the reference's values there are its data
    clear = region.distance(pts) > 1e-9 * float(np.max(hi - lo))
    inside = clear.reshape([len(a) for a in space_axes])
    return np.repeat(inside[..., None], len(axes[-1]), axis=-1) if timed else inside


def _saved_reference(rec: dict[str, Any], path: str | os.PathLike) -> SavedReference:
    """The :class:`SavedReference` of a record read by :func:`read_reference`."""
    conv = rec["convergence"]
    table = tuple(
        LevelResult(
            n=tuple(r["n"]),
            h=r["h"],
            dt=r["dt"],
            steps=r["steps"],
            difference=r["difference"],
            wall_time=r["wall_time"],
        )
        for r in conv["table"]
    )
    names = tuple(rec["coordinates"])
    # n, dt and steps of the grid the values are on: the finest level's, or with Richardson
    # extrapolation the one below it (the values live on that grid's nodes)
    extrapolated = conv.get("extrapolated", False)
    finest = table[-2] if extrapolated else table[-1]
    extra: dict[str, Any] = {}
    names_of = {f.name for f in fields(ReferenceSolution)}
    result_cls = getattr(_solution, "ExtrapolatedResult", None)
    if "extrapolated" in names_of:
        extra["extrapolated"] = extrapolated
    if "extrapolated_table" in names_of and result_cls is not None:
        extra["extrapolated_table"] = tuple(
            result_cls(**{**r, "n": tuple(r["n"]), "levels": tuple(r["levels"])})
            for r in conv["extrapolated_table"]
        )
    elif extrapolated:
        raise FormatError(
            f"{str(path)!r} holds a Richardson-extrapolated reference, which this neuralpde "
            "cannot represent: upgrade neuralpde"
        )
    grid_n = finest.n
    if isinstance(rec["settings"], Mapping) and "method" in rec["settings"]:
        # a finite-element reference: its rows are meshes, its values on the sampling grid
        grid_n = tuple(len(rec["coords"][name]) - 1 for name in names)
    return SavedReference(
        axes=tuple(rec["coords"][n] for n in names),
        values=rec["u"],
        names=names,
        scheme=conv["scheme"],
        order=conv["order"],
        n=grid_n,
        dt=finest.dt,
        steps=finest.steps,
        wall_time=conv["wall_time"],
        problem=str(rec["problem"].get("name", "")),
        table=table,
        observed_order=conv["observed_order"],
        order_used=conv["order_used"],
        estimated_error=conv["estimated_error"],
        gci=conv["gci"],
        ratio=conv["ratio"],
        time_samples=rec["settings"].get("time_samples"),
        study_dt=rec["settings"].get("dt"),
        description=rec["problem"],
        settings=rec["settings"],
        checksum=rec["checksum"],
        path=str(path),
        created=rec["created"],
        versions=rec["versions"],
        **extra,
    )
