"""Accuracy benchmark: solve the catalog problems B1-B4 and B6 with their default settings.

Each problem runs in its own process (so peak memory is its own), on the CPU, with the settings
its catalog file defines. For each: relative L2 error against the exact solution on the dense
grid (200 points per axis in 2-D, 64 in 3-D, 16 in 5-D), wall time of the solve, optimizer
steps, peak resident memory, and the target it must reach. The table is written to
``benchmarks/RESULTS.md`` (the section between the ``accuracy`` markers is replaced) and printed.

    python benchmarks/accuracy.py                  # all of B1-B4 and B6
    python benchmarks/accuracy.py --only B1 --seed 1  # one case (by id or name), not written
    python benchmarks/accuracy.py --suite geometry   # other domains and conditions
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from neuralpde.cli import int_at_least

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

# id, catalog name, relative-L2 target, wall-time target (s)
CASES = [
    ("B1", "poisson2d_sine", 1e-3, 120.0),
    ("B2", "helmholtz2d", 1e-2, 300.0),
    ("B3", "heat2d", 1e-2, 300.0),
    ("B4", "wave1d", 5e-2, 600.0),
    ("B6", "poisson5d", 1e-3, 300.0),
]

# Geometry and conditions: manufactured solutions on other domains and with other conditions.
GEOMETRY_CASES = [
    ("G1", "neumann_square", 1e-3, 300.0),
    ("G2", "robin_square", 1e-3, 300.0),
    ("G3", "poisson_disk", 1e-3, 300.0),
    ("G4", "poisson_lshape", 1e-3, 300.0),
    ("G5", "poisson_holes", 1e-3, 300.0),
    ("G6", "poisson_mesh", 1e-3, 300.0),
]


def run_one(name: str, seed: int) -> dict:
    """Solve one catalog problem in this process and return its figures."""
    import torch

    import neuralpde as npde
    from neuralpde.cli import load_problem_file

    spec = load_problem_file(str(ROOT / "problems" / f"{name}.py"))
    t0 = time.perf_counter()
    sol = npde.solve(
        spec["problem"],
        spec["field"],
        spec["sampler"],
        spec["trainer"],
        seed=seed,
        dtype=spec["dtype"] or torch.float64,
    )
    wall = time.perf_counter() - t0
    errs = sol.errors()
    return {
        "name": name,
        "relative_l2": errs["relative_l2"],
        "relative_max": errs["relative_max"],
        "wall_s": wall,
        "steps": sol.result.steps,
        "status": sol.status,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "settings": sol.settings,
    }


def machine(device: str = "cpu") -> str:
    """Processor, cores, PyTorch and OS; with the GPU's name when ``device`` is a CUDA one."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    gpu = ""
    if device.startswith("cuda") and torch.cuda.is_available():
        gpu = f"{torch.cuda.get_device_name(torch.device(device))} (CUDA {torch.version.cuda}), "
    return (
        f"{gpu}{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def select_cases(
    ap: argparse.ArgumentParser, only: list[str] | None, cases: list, hint: str = ""
) -> list:
    """The cases that ``--only`` names, by id (``B1``) or catalog name (``poisson2d_sine``); all
    of them when it names none. An unknown name is a usage error that lists the known ones,
    followed by ``hint`` (where the other cases are, say)."""
    if not only:
        return list(cases)
    known = [s for case in cases for s in case[:2]]
    unknown = [o for o in only if o not in known]
    if unknown:
        ap.error(
            f"--only: unknown case {', '.join(map(repr, unknown))}; expected ids or catalog names "
            f"among {', '.join(known)}{hint}"
        )
    return [case for case in cases if case[0] in only or case[1] in only]


def only_option(only: list[str] | None) -> str:
    """``--only``'s part of a printed command line: empty when it named no case."""
    return f" --only {' '.join(only)}" if only else ""


def run_json(cmd: list[str]) -> dict:
    """Run ``cmd`` and parse the last line of its standard output as JSON; on failure, show
    its standard error and exit with status 1."""
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(1)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_section(text: str, key: str) -> None:
    """Replace (or append) the section between ``<!-- key:start -->`` and ``<!-- key:end -->``."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    new = (
        pattern.sub(lambda _: block, old) if pattern.search(old) else old.rstrip() + "\n\n" + block
    )
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(new)
    os.replace(tmp, RESULTS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only", nargs="+", help="case ids or catalog names to run (default: all); no RESULTS.md"
    )
    ap.add_argument("--seed", type=int_at_least(0), default=0)
    ap.add_argument(
        "--suite",
        choices=("accuracy", "geometry"),
        default="accuracy",
        help="accuracy: B1-B4, B6; geometry: other domains and boundary conditions",
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.seed)))
        return 0

    suite = CASES if args.suite == "accuracy" else GEOMETRY_CASES
    other = "geometry" if args.suite == "accuracy" else "accuracy"
    ids = ", ".join(c[0] for c in (GEOMETRY_CASES if other == "geometry" else CASES))
    cases = select_cases(ap, args.only, suite, f" (--suite {other} has {ids})")
    rows, ok = [], True
    for cid, name, tol, limit in cases:
        print(f"{cid} {name} ...", flush=True)
        r = run_json([sys.executable, __file__, "--one", name, "--seed", str(args.seed)])
        passed = r["relative_l2"] <= tol and r["wall_s"] <= limit
        ok &= passed
        print(
            f"  relative L2 {r['relative_l2']:.2e} (target {tol:.0e}), {r['wall_s']:.0f} s "
            f"(target {limit:.0f} s), {r['steps']} steps, {r['peak_rss_mb']:.0f} MB: "
            f"{'pass' if passed else 'FAIL'}",
            flush=True,
        )
        rows.append((cid, name, tol, limit, r, passed))

    cmd = "python benchmarks/accuracy.py" + (f" --seed {args.seed}" if args.seed else "")
    if args.suite != "accuracy":
        cmd += f" --suite {args.suite}"
    cmd += only_option(args.only)
    title = {
        "accuracy": "catalog problems with default settings",
        "geometry": "other domains and boundary conditions, manufactured solutions",
    }[args.suite]
    lines = [
        f"## {args.suite}: {title}",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}",
        "",
        "Relative L2 against the exact solution on the dense grid (200 per axis in 2-D, "
        "64 in 3-D, 16 in 5-D); wall time of the solve (training, not start-up); peak "
        "resident memory of the process.",
        "",
        "| id | problem | relative L2 | target | wall time | target | steps | peak memory | "
        "field | precision | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cid, name, tol, limit, r, passed in rows:
        f = r["settings"]["field"]
        field = f"{f['type']} {f['depth']}x{f['width']}"
        lines.append(
            f"| {cid} | {name} | {r['relative_l2']:.2e} | ≤ {tol:.0e} | {r['wall_s']:.0f} s | "
            f"≤ {limit:.0f} s | {r['steps']} | {r['peak_rss_mb']:.0f} MB | {field} | "
            f"{r['settings']['dtype']} | {'pass' if passed else '**fail**'} |"
        )
    table = "\n".join(lines)
    if not args.no_write and not args.only:
        write_section(table, args.suite)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
