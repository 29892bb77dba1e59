"""Run the validation suite: references, solves, comparisons, and ``validation/REPORT.md``.

    python validation/run.py                       # every case
    python validation/run.py --only B1 V1 G3       # some cases (ids or problem names)
    python validation/run.py --reuse               # keep existing solution files
    python validation/run.py --only G3 --seconds 5 --out /tmp/val   # a quick try, elsewhere

For each case: the finite-difference reference is computed with the settings in the problem
file's ``reference`` dict (else those ``neuralpde reference FILE`` takes: n=32, 3 levels, order 4
on a box with Dirichlet data only, else 2), or reused when ``references/<name>.h5`` carries the
same checksum of its inputs and is newer than the finite-difference code; the problem is solved
with its default settings, as ``neuralpde solve FILE`` solves it (``--seconds``: within that
training budget); the solution is compared with the reference and passes when its relative L2
difference is at most the case's tolerance plus 3 times the reference's estimated error (a
smaller difference cannot be resolved). For problems with a closed form, on the reference's nodes
inside the domain, also: the error against the exact solution must meet the tolerance, the two
errors must agree to within 3 times the reference's estimated error, and the reference's own
error against the exact solution must be at most 3 times its estimate. A case whose reference
cannot be made or cannot judge, or whose training gives no result, fails with the reason and the
other cases run. Per-case reports with figures go to ``reports/<name>/``. Everything goes to
``validation/`` (``--out DIR``: to DIR); ``REPORT.md`` is written when every case runs, or with
``--out``. Exit status 0 when every case passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import logging
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import neuralpde as npde
from neuralpde import limits, metrics
from neuralpde.cli import int_at_least, positive_number
from neuralpde.conditions import Dirichlet
from neuralpde.defaults import derive_settings
from neuralpde.domains import Box
from neuralpde.problem_file import load_problem_file
from neuralpde.reference import Study, load_reference, reference_checksum, save_reference
from neuralpde.report import write_report
from neuralpde.solution import grid_points
from neuralpde.validate import ValidationResult, validate

ROOT = Path(__file__).resolve().parents[1]
#: where references, solutions, reports and REPORT.md go, relative to the repository root (which
#: main() changes to); ``--out`` replaces it
HERE = Path("validation")
sys.path.insert(0, str(ROOT / "validation"))
from cases import CASES, Case  # noqa: E402

log = logging.getLogger("neuralpde.validation")

#: a difference under this multiple of the reference's estimated error is not resolved by it
#: (as in neuralpde.validate); the reference's own true error must be within it too
RESOLVE = 3.0
#: relative L2 errors below this are round-off: an estimate under it is taken as it
ROUND_OFF = 1e-13


def reference_settings(spec: dict[str, Any]) -> Study:
    """The problem file's ``reference`` study, else the defaults of ``neuralpde reference``."""
    if spec["reference"] is not None:
        return spec["reference"]
    problem = spec["problem"]
    compact = (  # the compact fourth-order scheme: steady, on a box, Dirichlet data only
        problem.time_index is None
        and isinstance(problem.domain, Box)
        and all(isinstance(c, Dirichlet) for c in problem.conditions)
    )
    return Study(n=32, levels=3, order=4 if compact else 2)


def reference_for(case: Case, problem: npde.Problem, study: Study) -> tuple[Path, str, float]:
    """Path of an up-to-date reference file (computed if needed), how it was had, seconds.

    Raises ``NotImplementedError`` or ``ValueError`` when the reference cannot be made."""
    path = HERE / "references" / f"{case.name}.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    want = reference_checksum(problem, study)
    solvers = Path(npde.reference.__file__).parent.glob("*.py")
    if path.exists() and path.stat().st_mtime > max(p.stat().st_mtime for p in solvers):
        try:
            if load_reference(path).checksum == want:
                return path, "reused", 0.0
        except (OSError, ValueError):
            pass
    t0 = time.perf_counter()
    ref = study.run(problem)
    seconds = time.perf_counter() - t0
    save_reference(ref, path, problem=problem, settings=study)
    return path, "computed", seconds


def solve_case(spec: dict[str, Any], seed: int, seconds: float | None) -> npde.Solution:
    """Solve the problem file's problem as ``neuralpde solve FILE [--seconds N]`` does: its own
    field, sampler, trainer and dtype where it sets them, else the derived ones."""
    problem = spec["problem"]
    trainer = spec["trainer"] or derive_settings(problem).trainer
    if seconds is not None:
        trainer = trainer.with_budget(seconds=seconds)
    return npde.solve(
        problem,
        spec["field"],
        spec["sampler"],
        trainer,
        seed=seed,
        dtype=spec["dtype"] or torch.float64,
    )


def exact_checks(field: Any, problem: npde.Problem, res: ValidationResult) -> dict[str, Any]:
    """The solution's and the reference's relative L2 errors against the exact solution on the
    reference's nodes inside the domain (a reference is NaN outside one that is not a box),
    whether the solution's errors against the two agree, and whether the reference's error is
    within its estimate."""
    inside = np.isfinite(res.ref).ravel()
    pts = grid_points(res.axes)[inside]
    exact = np.asarray(problem.exact_values(pts), dtype=np.float64)
    u = np.asarray(field(pts), dtype=np.float64)
    ref = res.ref.ravel()[inside]  # as validate compared it (less its mean where it did so)
    exact_u = exact_r = exact
    if problem.determined_up_to_a_constant:  # compared less the means, as validate does
        u, exact_u = metrics.without_means(u, exact)
        ref, exact_r = metrics.without_means(ref, exact)
    vs_exact = metrics.relative_l2(u, exact_u)
    ref_true = metrics.relative_l2(ref, exact_r)
    slack = RESOLVE * max(res.reference_error, ROUND_OFF)
    return {
        "vs_exact": vs_exact,
        "agree": abs(vs_exact - res.metrics["relative_l2"]) <= slack,
        "ref_true": ref_true,
        "ref_ok": ref_true <= slack,
    }


def run_case(case: Case, seed: int, reuse: bool, seconds: float | None = None) -> dict:
    """Reference, solve and comparisons of one case: its row of the report."""
    spec = load_problem_file(str(ROOT / "problems" / f"{case.name}.py"))
    problem = spec["problem"]
    row: dict[str, Any] = {
        "case": case,
        "solve_seconds": None,
        "reused": False,
        "vs_ref": None,
        "ref_error": None,
        "observed_order": None,
        "vs_exact": None,
        "agree": None,
        "ref_true": None,
        "ref_ok": None,
        "passed": False,
        "error": None,
    }
    try:
        ref_path, how, ref_seconds = reference_for(case, problem, reference_settings(spec))
    except (NotImplementedError, ValueError) as exc:  # this case fails, the rest run
        return {**row, "error": f"no reference: {exc}"}
    row.update(ref_how=how, ref_seconds=ref_seconds)
    sol_path = HERE / "solutions" / f"{case.name}.h5"
    sol_path.parent.mkdir(parents=True, exist_ok=True)
    reused = reuse and sol_path.exists()
    if not reused:
        sol = solve_case(spec, seed, seconds)
        if not sol.status.is_result:
            sol_path.unlink(missing_ok=True)  # never an older solution judged in its place
            return {**row, "error": f"no solution: training {sol.status} ({sol.result.message})"}
        sol.save(sol_path)
    field = npde.load(sol_path)
    row.update(solve_seconds=field.record["training"]["timings"]["total"], reused=reused)
    try:  # a reference that cannot judge (load_reference or validate says why): this case
        # fails, the rest run
        estimate = load_reference(ref_path).estimated_error
        # a reference cannot resolve a difference under a few times its own error
        finite = math.isfinite(estimate) and estimate >= 0
        bound = case.tol + RESOLVE * estimate if finite else case.tol
        res = validate(sol_path, reference=ref_path, tol=bound)
    except ValueError as exc:
        return {**row, "error": str(exc)}
    write_report(res, HERE / "reports" / case.name)
    row.update(
        vs_ref=res.metrics["relative_l2"],
        ref_error=res.reference_error,
        observed_order=res.observed_order,
        passed=bool(res.passed),
    )
    if case.exact:
        row.update(exact_checks(field, problem, res))
        row["passed"] = (
            row["passed"] and row["vs_exact"] <= case.tol and row["agree"] and row["ref_ok"]
        )
    return row


def fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.2e}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line, its case ids and names checked."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="ID", help="case ids or names (default: all)")
    ap.add_argument("--seed", type=int_at_least(0), default=0)
    ap.add_argument("--reuse", action="store_true", help="keep existing solution files")
    ap.add_argument(
        "--seconds",
        type=functools.partial(positive_number, at_most=limits.MAX_SECONDS),
        metavar="N",
        help="training budget of every solve, in seconds (default: the derived budget)",
    )
    ap.add_argument(
        "--out",
        metavar="DIR",
        help="folder for REPORT.md, reports/, references/ and solutions/ (default: validation/, "
        "where REPORT.md is written only when every case runs)",
    )
    args = ap.parse_args(argv)
    known = [s for c in CASES for s in (c.id, c.name)]
    unknown = [o for o in args.only or () if o not in known]
    if unknown:
        ap.error(f"--only: unknown case {', '.join(map(repr, unknown))}; the cases are {known}")
    return args


def report_lines(rows: list[dict], command: str, note: str = "") -> list[str]:
    """REPORT.md: the command (and ``note`` on it), the machine, the table, the reasons of the
    cases that could not be judged."""
    lines = [
        "# Validation report",
        "",
        f"Command: `{command}`{note}  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "",
        "Relative L2 errors of the default solves. *vs reference*: on the finite-difference "
        "reference's nodes; *reference error*: the reference's own estimated relative error "
        "(Richardson, from its convergence study); the solution passes against it when *vs "
        f"reference* ≤ *tol* + {RESOLVE:g} × *reference error* (a smaller difference cannot be "
        "resolved). *vs exact*: the exact solution on the same nodes (inside the domain), which "
        "must meet *tol*; there, the two errors must agree to within "
        f"{RESOLVE:g} × the reference's error (*difference*), and the reference's own error "
        f"against the exact solution must be at most {RESOLVE:g} times its estimate (*ref. "
        "true/est*). *solve*: training wall time recorded in the solution file.",
        "",
        "| case | problem | vs reference | reference error | observed order | vs exact | "
        "difference | ref. true/est | tol | solve | result | report |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["case"]
        order = "—" if r["observed_order"] is None else f"{r['observed_order']:.2f}"
        agree = ratio = "—"
        if r["agree"] is not None:
            gap = abs(r["vs_exact"] - r["vs_ref"])
            agree = f"{gap:.1e} " + ("≤" if r["agree"] else "**>**") + f" {RESOLVE:g}× ref. error"
        if r["ref_ok"] is not None:
            est = max(r["ref_error"], ROUND_OFF)
            ratio = (
                f"{r['ref_true'] / est:.2f}" if r["ref_ok"] else f"**{r['ref_true'] / est:.2f}**"
            )
        solve = "—" if r["solve_seconds"] is None else f"{r['solve_seconds']:.0f} s"
        lines.append(
            f"| {c.id} | {c.name} | {fmt(r['vs_ref'])} | {fmt(r['ref_error'])} | {order} | "
            f"{fmt(r['vs_exact'])} | {agree} | {ratio} | {c.tol:.0e} | {solve} | "
            f"{'pass' if r['passed'] else '**fail**'} | "
            + ("—" if r["error"] else f"[report](reports/{c.name}/report.md)")
            + " |"
        )
    failed = [r for r in rows if r["error"]]
    if failed:
        lines += ["", "Cases that could not be judged:", ""]
        lines += [f"- {r['case'].id} {r['case'].name}: {r['error']}" for r in failed]
    if any(r.get("ref_error") is not None and r["ref_error"] < ROUND_OFF for r in rows):
        lines += [
            "",
            f"A reference error below {ROUND_OFF:g} is round-off (the scheme is exact for the "
            f"solution): *ref. true/est* and *difference* then take it as {ROUND_OFF:g}.",
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the cases of the command line ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    global HERE
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.out is not None:  # named relative to where the command was given
        out = Path(args.out).resolve()
        HERE = Path(os.path.relpath(out, ROOT)) if out.is_relative_to(ROOT) else out
    os.chdir(ROOT)  # so that reports name files relative to the repository
    cases = [c for c in CASES if not args.only or c.id in args.only or c.name in args.only]
    rows = []
    for case in cases:
        print(f"{case.id} {case.name} ...", flush=True)
        row = run_case(case, args.seed, args.reuse, args.seconds)
        rows.append(row)
        if row["error"]:
            print(f"  FAIL: {row['error']}", flush=True)
            continue
        ref = "" if row["ref_true"] is None else f", reference vs exact {fmt(row['ref_true'])}"
        print(
            f"  vs reference {fmt(row['vs_ref'])} (reference's own error "
            f"{fmt(row['ref_error'])}{ref}), vs exact {fmt(row['vs_exact'])}, tol "
            f"{case.tol:.0e}: {'pass' if row['passed'] else 'FAIL'}",
            flush=True,
        )
    command = " ".join(["python validation/run.py", *map(shlex.quote, argv)])
    note = " (the solution files of an earlier run; reports made anew)" if args.reuse else ""
    lines = report_lines(rows, command, note)
    if not args.only or args.out is not None:
        HERE.mkdir(parents=True, exist_ok=True)
        (HERE / "REPORT.md").write_text("\n".join(lines) + "\n")
        print(f"wrote {HERE / 'REPORT.md'}")
    print("\n".join(lines))
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
