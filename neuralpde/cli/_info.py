"""``neuralpde info``: what a solution or reference file holds."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ._reference import convergence_lines
from ._types import estimate_text


def info_command(args: argparse.Namespace) -> int:
    """Run ``neuralpde info``; returns the exit status."""
    from ..io import file_kind, read_solution
    from ..io.hdf5 import damaged_entries

    if file_kind(args.file) == "reference":
        return _info_reference(args)
    rec = read_solution(args.file, grid=False)
    rec.pop("parameters")
    if args.json:
        rec["training"]["history"] = {
            k: list(map(_plain, v)) for k, v in rec["training"]["history"].items()
        }
        rec["coords"] = {
            k: [float(v.min()), float(v.max()), len(v)] for k, v in rec["coords"].items()
        }
        print(_json(rec))
        return 0
    with damaged_entries(args.file, "solution"):  # reads, but cannot be described
        lines = _solution_lines(args.file, rec)
    print("\n".join(lines))
    return 0


def _solution_lines(path: str, rec: dict[str, Any]) -> list[str]:
    """What ``neuralpde info`` says about the solution file ``path`` read into ``rec``."""
    prob, tr, arch = rec["problem"], rec["training"], rec["architecture"]
    lines = [
        f"file:        {path} (neuralpde solution, format {rec['format_version']}, "
        f"written by neuralpde {rec['neuralpde_version']} on {rec['created']})",
        f"problem:     {prob['name']}: {prob['equation'].get('latex') or prob['equation']['type']}"
        f" on {prob['domain']['type']}",
        f"equation:    {_equation_text(prob['equation'])}",
        "grid:        "
        + " x ".join(f"{n}[{v.min():g}, {v.max():g}]:{len(v)}" for n, v in rec["coords"].items())
        + " -> dataset 'u'",
        f"field:       {_field_text(arch['field'])}, {rec['dtype']}, inputs "
        f"({', '.join(rec['coordinates'])})",
        f"training:    {tr['steps']} steps, {tr['timings'].get('total', float('nan')):.1f} s, "
        f"final loss {tr['history']['loss'][-1]:.3e}, status {tr['status']}, seed {tr['seed']}"
        + (
            f", derivatives {tr['settings']['derivatives_used']}"
            if "derivatives_used" in tr.get("settings", {})
            else ""
        ),
    ]
    mesh = _mesh_text(prob["domain"])
    if mesh:
        lines.insert(2, f"mesh:        {mesh}")
    c = arch.get("constraint")
    if c:
        built = ", ".join(f"conditions[{i}]" for i in c.get("built_in", [])) or "none"
        lift = c.get("lift")
        lift_text = "zero lift" if not lift else f"lift: Chebyshev series of {lift['terms']} terms"
        fit = tr.get("settings", {}).get("lift_fit") or {}
        if "relative_defect" in fit:
            lift_text += f", data met to {fit['relative_defect']:.1e} of their size"
        lines.append(f"built in:    {built} (hard constraint; {lift_text})")
    derived = tr.get("settings", {}).get("derived")
    if derived:
        lines.append(f"defaults:    {derived}")
    if rec["metrics"]:
        m = rec["metrics"]
        lines.append(
            "error:       "
            + ", ".join(f"{k.replace('_', ' ')} {v:.3e}" for k, v in m.items())
            + " (vs the exact solution, on the stored grid)"
        )
    est = tr.get("settings", {}).get("error_estimate")
    if est is not None:
        try:
            lines.append(f"estimate:    {estimate_text(est)}")
        except (TypeError, ValueError) as exc:
            lines.append(f"estimate:    unreadable ({exc})")
    lines.append("versions:    " + ", ".join(f"{k} {v}" for k, v in rec["versions"].items()))
    return lines


def _mesh_text(domain: dict[str, Any]) -> str:
    """A mesh domain's (or its space's) file, cell count, parts and digest, as its description
    gives them; ``""`` for another domain."""
    mesh = domain.get("space") if domain.get("type") == "SpaceTime" else domain
    if not isinstance(mesh, dict) or mesh.get("type") != "MeshDomain":
        return ""
    parts = mesh.get("parts")
    return (
        f"{mesh.get('source', '?')}: {mesh.get('cells', '?')} cells, boundary parts "
        f"{', '.join(map(str, parts)) if isinstance(parts, list) else '?'}; sha256 "
        f"{mesh.get('sha256', '?')}"
    )


def _info_reference(args: argparse.Namespace) -> int:
    from ..io import read_reference
    from ..io.hdf5 import damaged_entries

    rec = read_reference(args.file, grid=False)
    if args.json:
        rec["coords"] = {
            k: [float(v.min()), float(v.max()), len(v)] for k, v in rec["coords"].items()
        }
        print(_json(rec))
        return 0
    with damaged_entries(args.file, "reference"):
        lines = _reference_lines(args.file, rec)
    print("\n".join(lines))
    return 0


def _reference_lines(path: str, rec: dict[str, Any]) -> list[str]:
    """What ``neuralpde info`` says about the reference file ``path`` read into ``rec``."""
    prob, conv = rec["problem"], rec["convergence"]
    eq = prob.get("equation", {})
    what = eq.get("latex") or eq.get("type") or "?"
    where = prob.get("domain", {}).get("type", "?")
    settings = ", ".join(f"{k}={v}" for k, v in rec["settings"].items())
    return [
        f"file:        {path} (neuralpde reference, format {rec['format_version']}, "
        f"written by neuralpde {rec['neuralpde_version']} on {rec['created']})",
        f"problem:     {prob.get('name', '?')}: {what} on {where}",
        f"equation:    {_equation_text(eq)}",
        f"scheme:      {conv['scheme']} (formal order {conv['order']})",
        "grid:        "
        + " x ".join(f"{n}[{v.min():g}, {v.max():g}]:{len(v)}" for n, v in rec["coords"].items())
        + " -> dataset 'u'",
        f"settings:    {settings}, total {conv['wall_time']:.3g} s",
        f"checksum:    {rec['checksum']}",
        "convergence:",
        *("  " + line for line in convergence_lines(conv)),
        "versions:    " + ", ".join(f"{k} {v}" for k, v in rec["versions"].items()),
    ]


def _equation_text(eq: dict) -> str:
    """The equation's type and parameters, e.g. ``Heat, kappa=[[0.1, 0.0], [0.0, 0.05]], f=0.0``;
    a function's source is shown as ``(function)``."""
    parts = [str(eq.get("type", "?"))]
    for k, v in eq.items():
        if k in ("type", "latex"):
            continue
        if isinstance(v, str) and not v.startswith("GridData(") and ("\n" in v or len(v) > 40):
            v = "(function)"
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def _field_text(f: dict) -> str:
    text = f"{f['type']} {f['depth']}x{f['width']}"
    if "w0" in f:
        text += f" w0={f['w0']}"
    return text


def _json(record: dict) -> str:
    """``record`` as strict JSON: NaN and infinities (a history without a monitor, an unknown
    error estimate) become ``null``, which every JSON reader accepts."""

    def strict(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: strict(x) for k, x in v.items()}
        if isinstance(v, list):
            return [strict(x) for x in v]
        return v

    loose = json.loads(json.dumps(record, default=_plain))  # numbers as Python floats
    return json.dumps(strict(loose), indent=2, allow_nan=False)


def _plain(v: Any) -> Any:
    try:
        return v.item()
    except AttributeError:
        return str(v)
