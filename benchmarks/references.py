"""Finite-difference reference benchmark: cost and own error of each catalog reference.

For every catalog problem: the convergence study with the settings of the problem file's
``reference`` dict (wall time, observed order, Richardson estimate of the stored solution's
relative error), and the time of one 2-D Poisson solve on a 1025 x 1025 grid (B1's problem,
median of 3, second and fourth order). Results go to ``benchmarks/RESULTS.md`` (the section
between the ``references`` markers) and are printed.

    python benchmarks/references.py
    python benchmarks/references.py --only V1 V3    # some cases: printed, not written
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from accuracy import machine, only_option, select_cases, write_section  # noqa: E402

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only", nargs="+", help="case ids or catalog names (default: all); no RESULTS.md"
    )
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    rows, ok = [], True
    for cid, name in select_cases(ap, args.only, CASES):
        spec = load_problem_file(str(ROOT / "problems" / f"{name}.py"))
        settings = spec["reference"]
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. the near-resonance warning of V2 is expected
            ref = convergence_study(spec["problem"], **settings)
        wall = time.perf_counter() - t0
        passed = ref.estimated_error <= ERROR_TARGET and wall <= TIME_TARGET
        ok &= passed or cid.startswith("B")
        grid = "x".join(str(len(a)) for a in ref.axes)
        rows.append((cid, name, settings, ref, wall, grid, passed))
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

    lines = [
        "## references: finite-difference references and their own error",
        "",
        f"Command: `python benchmarks/references.py{only_option(args.only)}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}",
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
    for cid, name, settings, ref, wall, grid, passed in rows:
        s = ", ".join(f"{k}={v}" for k, v in settings.items())
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
    table = "\n".join(lines)
    if not args.no_write and not args.only:
        write_section(table, "references")
        print("wrote benchmarks/RESULTS.md")
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
