"""Accuracy benchmark: solve the catalog problems B1-B6 with the defaults, over seeds.

The catalog files hold the problem only, so every solve runs on the settings
:func:`neuralpde.defaults.derive_settings` chooses, as ``neuralpde solve FILE`` would. Each
solve runs in its own process (so peak memory is its own), on the CPU. For each problem: the
median and the range over the seeds of the relative L2 error against the exact solution on the
dense grid (200 points per axis in 2-D, 64 in 3-D, 16 in 5-D), the wall time of the solve,
optimizer steps, peak resident memory, and the targets. The error-versus-time curves go to
``benchmarks/accuracy_<suite>.json``; the table to ``benchmarks/RESULTS.md`` (the section
between the suite's markers is replaced) and standard output.

    python benchmarks/accuracy.py                         # B1-B6, seeds 0, 1, 2
    python benchmarks/accuracy.py --only B1 --seeds 1     # one case (by id or name), not written
    python benchmarks/accuracy.py --suite geometry        # other domains and conditions
    python benchmarks/accuracy.py --suite validation      # V1-V4 against FD references
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from neuralpde.cli import int_at_least

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

# id, catalog name, relative-L2 target, wall-time target (s)
CASES = [
    ("B1", "poisson2d_sine", 1e-7, 60.0),
    ("B2", "helmholtz2d", 1e-5, 120.0),
    ("B3", "heat2d", 1e-5, 300.0),
    ("B4", "wave1d", 1e-4, 600.0),
    ("B5", "heat2d_multiscale", 1e-3, 600.0),
    ("B6", "poisson5d", 1e-5, 600.0),
]

# Geometry and conditions: manufactured solutions on other domains and with other conditions.
GEOMETRY_CASES = [
    ("G1", "neumann_square", 1e-5, 300.0),
    ("G2", "robin_square", 1e-5, 300.0),
    ("G3", "poisson_disk", 1e-5, 300.0),
    ("G4", "poisson_lshape", 1e-5, 300.0),
    ("G5", "poisson_holes", 1e-5, 300.0),
    ("G6", "poisson_mesh", 1e-5, 300.0),
]

# Problems kept out of every choice of the defaults, to check them at the end: written fresh as a
# user would, never tuned for (benchmarks/holdout/).
HOLDOUT_CASES = [
    ("H1", "holdout/laplace_disk", 1e-5, 300.0),
    ("H2", "holdout/helmholtz_disk", 1e-5, 300.0),
    ("H3", "holdout/lshape_corner", 1e-5, 300.0),
    ("H4", "holdout/poisson3d_cube", 1e-5, 600.0),
    ("H5", "holdout/wave2d_standing", 1e-4, 600.0),
    ("H6", "holdout/heat1d_source", 1e-5, 300.0),
    ("H7", "holdout/neumann_box_mixed", 1e-5, 300.0),
]

# No closed form: judged against the finite-difference reference of the problem file's
# ``reference`` settings (cached in validation/references/), at its nodes; the target is
# max(1e-4, 3 x the reference's own estimated error), filled in when the reference is known.
VALIDATION_CASES = [
    ("V1", "poisson2d_bumps", None, 600.0),
    ("V2", "helmholtz2d_source", None, 600.0),
    ("V3", "heat2d_varcoef", None, 600.0),
    ("V4", "wave2d_pulse", None, 600.0),
]


def reference_target(reference_error: float) -> float:
    """The relative-L2 target against a reference whose own error is ``reference_error``."""
    return max(1e-4, 3.0 * reference_error)


def cached_reference(name: str, problem, study):
    """The convergence study of ``problem`` with ``study`` (a ``neuralpde.reference.Study``), from
    ``validation/references/<name>.h5`` when that file holds the same inputs (by checksum),
    else computed and written there."""
    from neuralpde.reference import load_reference, reference_checksum, save_reference

    path = ROOT / "validation" / "references" / f"{name}.h5"
    want = reference_checksum(problem, study)
    if path.exists():
        try:
            ref = load_reference(path)
            if ref.checksum == want:
                return ref
        except (OSError, ValueError):
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    ref = study.run(problem)
    save_reference(ref, path, problem=problem, settings=study)
    return load_reference(path)


# DeepXDE 1.15 by hand (hard constraints, Adam then L-BFGS, float32) on a 2-core machine like
# this one: (relative L2, seconds), from shared/problems.md
DEEPXDE_TUNED = {"B1": (1.7e-6, 72.0), "B2": (6.2e-4, 305.0), "B4": (4.2e-2, 304.0)}

# the best published figure (relative L2) for each, from shared/problems.md
PUBLISHED = {
    "B1": "1.2e-7 (ENGD, float64, GPU, 1000 s)",
    "B2": "1.5e-3 (LRA + modified MLP)",
    "B4": "1.7e-3 (NTK weighting)",
    "B5": "6.2e-2 (PINNacle)",
    "B6": "4.7e-4 (PINNacle, Adam + L-BFGS)",
}


def run_one(name: str, seed: int) -> dict:
    """Solve one catalog problem in this process and return its figures."""
    import torch

    import neuralpde as npde
    from neuralpde.problem_file import load_problem_file

    folder = ROOT / "benchmarks" if name.startswith("holdout/") else ROOT / "problems"
    spec = load_problem_file(str(folder / f"{name}.py"))
    ref = None
    if spec["problem"].exact is None:  # judged against its finite-difference reference
        study = spec["reference"] if spec["reference"] is not None else npde.reference.Study(n=32)
        ref = cached_reference(name, spec["problem"], study)
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
    hist = sol.history
    extra = {}
    if ref is None:
        errs = sol.errors()
    else:
        from neuralpde.validate import validate

        res = validate(sol, reference=ref)
        errs = res.metrics
        extra = {
            "reference_error": res.reference_error,
            "target": reference_target(res.reference_error),
        }
    return {
        **extra,
        "curve": {"time": hist["time"], "error": hist["monitor"]},
        "budget_s": sol.settings["trainer"]["seconds"],
        "name": name,
        "relative_l2": errs["relative_l2"],
        "relative_max": errs["relative_max"],
        "wall_s": wall,
        "steps": sol.result.steps,
        "status": sol.status,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "settings": sol.settings,
    }


def estimate_lines(rows) -> list[str]:
    """A table of each solve's error estimate (``settings.error_estimate``, which ``solve``
    attaches) beside its measured error: an estimate must be within a factor of 3 of it, a
    bound at or above it, and an indicator says nothing of it."""
    out = [
        "",
        "Each solution's own error estimate (`neuralpde.estimate`, attached by `solve`) beside "
        "the error measured above: an estimate passes within a factor of 3, a bound when it is "
        "not below the error; an indicator is not an error and is not judged.",
        "",
        "| id | seed | measured | estimate | kind | ratio | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for cid, _name, *_, runs, _err, _wall, _passed in rows:
        for r in runs:
            est = (r.get("settings") or {}).get("error_estimate")
            true = r["relative_l2"]
            if not est:
                out.append(f"| {cid} | {r['seed']} | {true:.2e} | — | none | — | — |")
                continue
            kind, value = est["kind"], est["value"]
            ratio = value / true if true > 0 else math.inf
            if kind == "estimate":
                verdict = "pass" if 1 / 3 <= ratio <= 3 else "**fail**"
            elif kind == "bound":
                verdict = "pass (cannot tell below)" if value >= true else "**fail**"
            else:
                verdict = "indicator"
            out.append(
                f"| {cid} | {r['seed']} | {true:.2e} | {value:.2e} | {kind} | {ratio:.2f} | "
                f"{verdict} |"
            )
    return out


def first_time_below(curve: dict, level: float) -> float:
    """The first recorded time at which the curve's error is at most ``level`` (inf if never)."""
    for t, e in zip(curve.get("time", []), curve.get("error", []), strict=False):
        if e == e and e <= level:
            return float(t)
    return math.inf


def deepxde_comparison(curves: dict) -> list[str]:
    """Lines of a table: per case with DeepXDE figures, how soon each seed's curve reaches
    DeepXDE's final error (documented settings, from ``time_to_accuracy.json``; by hand, from
    ``DEEPXDE_TUNED``), and the plot ``accuracy_curves.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tta_path = ROOT / "benchmarks" / "time_to_accuracy.json"
    tta = json.loads(tta_path.read_text()) if tta_path.exists() else {}
    cases = [c for c in ("B1", "B2", "B3", "B4") if any(k.startswith(c + " ") for k in curves)]
    lines = [
        "| id | DeepXDE documented: final error (time) | neuralpde reaches it at | speed-up | "
        "DeepXDE by hand: error (time) | neuralpde reaches it at | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    fig, axes = plt.subplots(1, max(len(cases), 1), figsize=(4.2 * max(len(cases), 1), 3.4))
    axes = np.atleast_1d(axes)
    for ax, cid in zip(axes, cases, strict=False):
        ours = {k: v for k, v in curves.items() if k.startswith(cid + " ")}
        for k, v in ours.items():
            ax.semilogy(v["time"], v["error"], label=f"neuralpde defaults, {k.split(' ', 1)[1]}")
        row = [cid]
        dde = tta.get(cid, {}).get("deepxde")
        if dde:
            t, e = zip(*dde["curve"], strict=True)
            ax.semilogy(t, e, "k--", label="DeepXDE documented (time_to_accuracy)")
            final, t_final = dde["final_error"], dde["settings"]["training_time_s"]
            reach = statistics.median(first_time_below(v, final) for v in ours.values())
            row += [f"{final:.1e} ({t_final:.0f} s)", f"{reach:.1f} s", f"{t_final / reach:.0f}x"]
        else:
            row += ["—", "—", "—"]
        if cid in DEEPXDE_TUNED:
            err, secs = DEEPXDE_TUNED[cid]
            ax.plot([secs], [err], "kx", ms=9, label="DeepXDE by hand (problems.md)")
            reach = statistics.median(first_time_below(v, err) for v in ours.values())
            row += [f"{err:.1e} ({secs:.0f} s)", f"{reach:.1f} s", f"{secs / reach:.0f}x"]
        else:
            row += ["—", "—", "—"]
        lines.append("| " + " | ".join(row) + " |")
        ax.set_title(cid)
        ax.set_xlabel("training time (s)")
        ax.set_ylabel("relative L2 error")
        ax.grid(True, which="both", alpha=0.3)
    if cases:
        axes[0].legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(ROOT / "benchmarks" / "accuracy_curves.png", dpi=110)
    plt.close(fig)
    return lines


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
    ap.add_argument(
        "--seeds", type=int_at_least(0), nargs="+", default=[0, 1, 2], help="default: 0 1 2"
    )
    ap.add_argument("--seed", type=int_at_least(0), help=argparse.SUPPRESS)  # with --one
    ap.add_argument(
        "--suite",
        choices=("accuracy", "geometry", "holdout", "validation"),
        default="accuracy",
        help="accuracy: B1-B6; geometry: other domains and boundary conditions; holdout: "
        "problems no default was chosen with (benchmarks/holdout/); validation: V1-V4 against "
        "their finite-difference references",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="reuse the solves recorded in benchmarks/accuracy_<suite>.jsonl by an earlier run",
    )
    ap.add_argument(
        "--journal-only",
        action="store_true",
        help="with --resume: run nothing, tabulate the recorded solves (the seeds each case has)",
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    ap.add_argument(  # the comparison again, from benchmarks/accuracy_accuracy.json
        "--compare-only", action="store_true", help=argparse.SUPPRESS
    )
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.seed or 0)))
        return 0
    if args.compare_only:
        curves = json.loads((ROOT / "benchmarks" / "accuracy_accuracy.json").read_text())
        print("\n".join(deepxde_comparison(curves)))
        return 0

    suites = {
        "accuracy": CASES,
        "geometry": GEOMETRY_CASES,
        "holdout": HOLDOUT_CASES,
        "validation": VALIDATION_CASES,
    }
    suite = suites[args.suite]
    others = "; ".join(
        f"--suite {k} has {', '.join(c[0] for c in v)}"
        for k, v in suites.items()
        if k != args.suite
    )
    cases = select_cases(ap, args.only, suite, f" ({others})")
    journal = ROOT / "benchmarks" / f"accuracy_{args.suite}.jsonl"
    done = {}
    if args.resume and journal.exists():
        for line in journal.read_text().splitlines():
            r = json.loads(line)
            done[r.pop("key")] = r
    elif not args.only:
        journal.write_text("")
    rows, ok, curves = [], True, {}
    for cid, name, tol, limit in cases:
        runs = []
        for seed in args.seeds:
            key = f"{name} seed {seed}"
            if args.journal_only and key not in done:
                continue
            print(f"{cid} {name} seed {seed} ...", flush=True)
            try:
                if key in done:  # --resume: measured by an earlier run of the same suite
                    r = done[key]
                else:
                    r = run_json([sys.executable, __file__, "--one", name, "--seed", str(seed)])
                    with open(journal, "a") as fh:  # one line per solve, kept as it comes
                        fh.write(json.dumps({"key": key, **r}) + "\n")
            except SystemExit:  # its error is on standard error; the others still run
                r = {
                    "relative_l2": math.nan,
                    "relative_max": math.nan,
                    "wall_s": math.nan,
                    "steps": 0,
                    "peak_rss_mb": math.nan,
                    "budget_s": math.nan,
                    "settings": {"derived": "the solve failed"},
                    "curve": {},
                }
            target = r.get("target", tol if tol is not None else math.nan)
            print(
                f"  relative L2 {r['relative_l2']:.2e} (target {target:.1e}), {r['wall_s']:.0f} s "
                f"(target {limit:.0f} s, budget {r['budget_s']:.0f} s), {r['steps']} steps, "
                f"{r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
            runs.append({**r, "seed": seed})
            curves[f"{cid} seed {seed}"] = r["curve"]
        if not runs:
            continue
        if tol is None:  # against a reference: its own error sets the target
            tol = max((r.get("target", math.nan) for r in runs), default=math.nan)
        err = statistics.median(r["relative_l2"] for r in runs)
        wall = statistics.median(r["wall_s"] for r in runs)
        passed = err <= tol and wall <= limit
        ok &= passed
        rows.append((cid, name, tol, limit, runs, err, wall, passed))

    cmd = "python benchmarks/accuracy.py"
    if args.seeds != [0, 1, 2]:
        cmd += " --seeds " + " ".join(map(str, args.seeds))
    if args.suite != "accuracy":
        cmd += f" --suite {args.suite}"
    cmd += only_option(args.only)
    title = {
        "accuracy": "catalog problems with the defaults (files that hold the problem only)",
        "geometry": "other domains and boundary conditions, manufactured solutions, defaults",
        "holdout": "problems written fresh and kept out of every choice of the defaults",
        "validation": "no closed form: against finite-difference references, defaults",
    }[args.suite]
    against = (
        "the finite-difference reference at its nodes (target max(1e-4, 3 x the reference's "
        "own estimated error), the reference's settings from the problem file, cached in "
        "`validation/references/`)"
        if args.suite == "validation"
        else "the exact solution on the dense grid (200 per axis in 2-D, 64 in 3-D, 16 in 5-D)"
    )
    lines = [
        f"## {args.suite}: {title}",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}",
        "",
        f"Median and range over the seeds of each row. Relative L2 against {against}; wall "
        "time of the solve (training, not start-up) against its derived budget; peak resident "
        "memory of the process. Settings: what `neuralpde solve` derives (the first seed's).",
        "",
        "| id | problem | seeds | relative L2 (median) | range | target | wall time (median) | "
        "target | steps | peak memory | published best | settings | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cid, name, tol, limit, runs, err, wall, passed in rows:
        lo = min(r["relative_l2"] for r in runs)
        hi = max(r["relative_l2"] for r in runs)
        steps = "–".join(
            str(v) for v in sorted({min(r["steps"] for r in runs), max(r["steps"] for r in runs)})
        )
        mem = max(r["peak_rss_mb"] for r in runs)
        lines.append(
            f"| {cid} | {name} | {', '.join(str(r['seed']) for r in runs)} | {err:.2e} | "
            f"{lo:.1e}–{hi:.1e} | ≤ {tol:.1e} | {wall:.0f} s | "
            f"≤ {limit:.0f} s | {steps} | {mem:.0f} MB | {PUBLISHED.get(cid, '—')} | "
            f"{runs[0]['settings'].get('derived')} | {'pass' if passed else '**fail**'} |"
        )
    lines += estimate_lines(rows)
    if args.suite == "accuracy" and not args.only:
        lines += [
            "",
            "Error against training time, beside DeepXDE 1.15 (float32): its documented settings "
            "from the `time_to_accuracy` run below (an earlier run, same machine type), and its "
            "hand-tuned figures of `shared/problems.md`; the neuralpde times are the medians over "
            "the seeds of the first recorded time at or below each error "
            "(`benchmarks/accuracy_curves.png`).",
            "",
            *deepxde_comparison(curves),
        ]
    table = "\n".join(lines)
    if not args.no_write and not args.only:
        write_section(table, args.suite)
        out = ROOT / "benchmarks" / f"accuracy_{args.suite}.json"
        out.write_text(json.dumps(curves))
        print(f"wrote {RESULTS.relative_to(ROOT)} and {out.relative_to(ROOT)}")
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
