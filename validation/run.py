"""Run the validation suite: references, solves, comparisons, and ``validation/REPORT.md``.

    python validation/run.py                 # every case
    python validation/run.py --only B1 V1    # some cases
    python validation/run.py --reuse         # keep existing solution files

For each case: the finite-difference reference is computed with the settings in the problem
file's ``reference`` dict, or reused when ``validation/references/<name>.h5`` carries the same
checksum of its inputs and is newer than the finite-difference code; the problem is solved with
its default settings; the solution is compared with the reference (and, for problems with a
closed form, with the exact solution on the reference's nodes, where the two relative errors
must agree to within the reference's estimated error). Per-case reports with figures go to
``validation/reports/<name>/``. Exit status 0 when every case passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sys
import time
from pathlib import Path

import torch

import neuralpde as npde
from neuralpde import metrics
from neuralpde.cli import int_at_least
from neuralpde.problem_file import load_problem_file
from neuralpde.reference import (
    convergence_study,
    load_reference,
    reference_checksum,
    save_reference,
)
from neuralpde.report import write_report
from neuralpde.solution import grid_points
from neuralpde.validate import validate

ROOT = Path(__file__).resolve().parents[1]
HERE = Path("validation")  # paths relative to the repository root, which main() changes to
sys.path.insert(0, str(ROOT / "validation"))
from cases import CASES, Case  # noqa: E402

log = logging.getLogger("neuralpde.validation")


def reference_for(case: Case, problem: npde.Problem, settings: dict) -> tuple[Path, str, float]:
    """Path of an up-to-date reference file (computed if needed), how it was had, seconds."""
    path = HERE / "references" / f"{case.name}.h5"
    path.parent.mkdir(exist_ok=True)
    want = reference_checksum(problem, **settings)
    solvers = Path(npde.reference.__file__).parent.glob("*.py")
    if path.exists() and path.stat().st_mtime > max(p.stat().st_mtime for p in solvers):
        try:
            if load_reference(path).checksum == want:
                return path, "reused", 0.0
        except (OSError, ValueError):
            pass
    t0 = time.perf_counter()
    ref = convergence_study(problem, **settings)
    seconds = time.perf_counter() - t0
    save_reference(ref, path, problem=problem, settings=settings)
    return path, "computed", seconds


def run_case(case: Case, seed: int, reuse: bool) -> dict:
    spec = load_problem_file(str(ROOT / "problems" / f"{case.name}.py"))
    problem = spec["problem"]
    ref_path, how, ref_seconds = reference_for(case, problem, spec["reference"] or {"n": 32})
    sol_path = HERE / "solutions" / f"{case.name}.h5"
    sol_path.parent.mkdir(exist_ok=True)
    reused = reuse and sol_path.exists()
    if not reused:
        sol = npde.solve(
            problem,
            spec["field"],
            spec["sampler"],
            spec["trainer"],
            seed=seed,
            dtype=spec["dtype"] or torch.float64,
        )
        sol.save(sol_path)
    field = npde.load(sol_path)
    solve_seconds = field.record["training"]["timings"]["total"]
    try:
        res = validate(sol_path, reference=ref_path, tol=case.tol)
    except ValueError as exc:  # a reference that cannot judge: this case fails, the rest run
        return {
            "case": case,
            "solve_seconds": solve_seconds,
            "vs_ref": None,
            "ref_error": None,
            "observed_order": None,
            "passed": False,
            "vs_exact": None,
            "agree": None,
            "error": str(exc),
        }
    write_report(res, HERE / "reports" / case.name)
    row = {
        "case": case,
        "ref_how": how,
        "ref_seconds": ref_seconds,
        "solve_seconds": solve_seconds,
        "reused": reused,
        "vs_ref": res.metrics["relative_l2"],
        "ref_error": res.reference_error,
        "observed_order": res.observed_order,
        "passed": bool(res.passed),
        "vs_exact": None,
        "agree": None,
    }
    if case.exact:
        # The exact solution on the reference's own nodes: the two errors then differ only by
        # the reference's own error.
        pts = grid_points(res.axes)
        row["vs_exact"] = metrics.relative_l2(field(pts), problem.exact_values(pts))
        row["agree"] = abs(row["vs_exact"] - row["vs_ref"]) <= res.reference_error
        row["passed"] = row["passed"] and row["vs_exact"] <= case.tol and row["agree"]
    return row


def fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.2e}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="ID", help="case ids or names (default: all)")
    ap.add_argument("--seed", type=int_at_least(0), default=0)
    ap.add_argument("--reuse", action="store_true", help="keep existing solution files")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    os.chdir(ROOT)  # so that reports name files relative to the repository
    known = [s for c in CASES for s in (c.id, c.name)]
    unknown = [o for o in args.only or () if o not in known]
    if unknown:
        ap.error(f"--only: unknown case {', '.join(map(repr, unknown))}; the cases are {known}")
    cases = [c for c in CASES if not args.only or c.id in args.only or c.name in args.only]
    rows = []
    for case in cases:
        print(f"{case.id} {case.name} ...", flush=True)
        row = run_case(case, args.seed, args.reuse)
        rows.append(row)
        if row.get("error"):
            print(f"  FAIL: {row['error']}", flush=True)
            continue
        print(
            f"  vs reference {fmt(row['vs_ref'])} (reference's own error "
            f"{fmt(row['ref_error'])}), vs exact {fmt(row['vs_exact'])}, tol "
            f"{case.tol:.0e}: {'pass' if row['passed'] else 'FAIL'}",
            flush=True,
        )
    lines = [
        "# Validation report",
        "",
        "Command: `python validation/run.py"
        + (f" --seed {args.seed}" if args.seed else "")
        + (
            " --reuse` (the solution files of an earlier full run; reports made anew)"
            if args.reuse
            else "`"
        )
        + "  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "",
        "Relative L2 errors of the default solves. *vs reference*: on the finite-difference "
        "reference's nodes; *reference error*: the reference's own estimated relative error "
        "(Richardson, from its convergence study); *vs exact*: the exact solution on the same "
        "nodes. For B-cases the two must agree to within the reference's error (*difference*). "
        "*solve*: training wall time recorded in the solution file.",
        "",
        "| case | problem | vs reference | reference error | observed order | vs exact | "
        "difference | tol | solve | result | report |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["case"]
        order = "—" if r["observed_order"] is None else f"{r['observed_order']:.2f}"
        agree = "—"
        if r["agree"] is not None:
            gap = abs(r["vs_exact"] - r["vs_ref"])
            agree = f"{gap:.1e} " + ("≤" if r["agree"] else "**>**") + " ref. error"
        solve = f"{r['solve_seconds']:.0f} s"
        lines.append(
            f"| {c.id} | {c.name} | {fmt(r['vs_ref'])} | {fmt(r['ref_error'])} | {order} | "
            f"{fmt(r['vs_exact'])} | {agree} | {c.tol:.0e} | {solve} | "
            f"{'pass' if r['passed'] else '**fail**'} | "
            + ("—" if r.get("error") else f"[report](reports/{c.name}/report.md)")
            + " |"
        )
    if not args.only:
        (HERE / "REPORT.md").write_text("\n".join(lines) + "\n")
        print("wrote validation/REPORT.md")
    print("\n".join(lines))
    ok = all(r["passed"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
