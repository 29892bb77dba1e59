"""Time to accuracy: neuralpde's defaults against DeepXDE 1.15, side by side in the same run.

For each of B1-B4, three solvers get the same wall-time budget (default 300 s) on the same
machine, one after the other, each in its own process:

* neuralpde: the catalog problem (``problems/<name>.py``, which holds the problem only) on the
  settings neuralpde derives from it, as ``neuralpde solve FILE`` and ``benchmarks/accuracy.py``
  use them, its derived time budget capped at the common budget; the error is recorded during
  training on 4096 fixed random points in the domain, and at the end on the dense grid. The
  curve's times include the set-up before its first step (the fit of the lift of the
  boundary/initial data).
* DeepXDE, documented: ``benchmarks/deepxde_cases.py --settings documented``, the settings of
  DeepXDE's documented examples (FNN, soft conditions, float32, Adam then L-BFGS).
* DeepXDE, tuned: ``benchmarks/deepxde_cases.py --settings tuned``, the settings a skilled user
  would choose by hand (hard constraints through ``net.apply_output_transform``, tanh FNN 4 x 50
  (B2: sine 3 x 150), float64, Adam then L-BFGS).

DeepXDE's errors are recorded on the dense grid. Times are training wall time, excluding the time
spent measuring errors. For each problem and DeepXDE variant the benchmark reports DeepXDE's final
error E and time, the first time each solver reached E, and their ratio; and whether neuralpde's
curve lies below that variant's at every time the variant recorded from 10 s on (neuralpde's
curve held at its last recorded value before each such time, its final value after its run
ended). It writes ``benchmarks/time_to_accuracy.png`` (error against time, the three curves) and
the section ``time_to_accuracy`` of ``benchmarks/RESULTS.md``, and keeps the raw curves in
``benchmarks/time_to_accuracy.json``. It needs DeepXDE:

    pip install -e ".[peers]"
    python benchmarks/time_to_accuracy.py                   # B1-B4, 300 s each solver
    python benchmarks/time_to_accuracy.py --only B1 --seconds 60 --no-write
    python benchmarks/time_to_accuracy.py --only B1 --deepxde tuned --no-write

On a machine with other CPU load, set OMP_WAIT_POLICY=PASSIVE (see deepxde_cases.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import CASES as ACCURACY_CASES  # noqa: E402
from accuracy import (  # noqa: E402
    ROOT,
    machine,
    only_option,
    run_json,
    select_cases,
    write_section,
)

from neuralpde.cli import int_at_least, positive_number  # noqa: E402

CASES = [(cid, name) for cid, name, *_ in ACCURACY_CASES if cid in ("B1", "B2", "B3", "B4")]
PLOT = ROOT / "benchmarks" / "time_to_accuracy.png"
CURVES = ROOT / "benchmarks" / "time_to_accuracy.json"
VARIANTS = ("documented", "tuned")  # DeepXDE's settings (deepxde_cases.py --settings)
LABEL = {"documented": "DeepXDE documented", "tuned": "DeepXDE tuned"}
BELOW_FROM = 10.0  # s: neuralpde's curve is compared with tuned DeepXDE's from this time on


def run_neuralpde(name: str, seconds: float, seed: int) -> dict:
    """Solve one catalog problem with neuralpde's defaults (as ``accuracy.run_one``), its budget
    capped at ``seconds``; the error curve."""
    import resource
    import time

    import torch

    import neuralpde as npde
    from neuralpde.api import for_size
    from neuralpde.defaults import derive_settings
    from neuralpde.problem_file import load_problem_file

    spec = load_problem_file(str(ROOT / "problems" / f"{name}.py"))
    problem = spec["problem"]
    trainer = spec["trainer"]  # None for a catalog file: the derived one, as solve() takes it
    if trainer is None:
        derived = derive_settings(problem)
        field = spec["field"] or derived.field
        default = for_size(derived.trainer, field, problem.domain.dim)
    else:
        default = trainer
    if default.seconds is None or default.seconds > seconds:
        trainer = default.with_budget(seconds=seconds)
    t0 = time.perf_counter()
    sol = npde.solve(
        problem,
        spec["field"],
        spec["sampler"],
        trainer,
        seed=seed,
        dtype=spec["dtype"] or torch.float64,
    )
    wall = time.perf_counter() - t0
    # the set-up before training (the lift's fit) counts: it is part of solve's budget
    setup = max(wall - sol.result.timings.get("total", wall), 0.0)
    h = sol.result.history
    curve = [[setup + t, m] for t, m in zip(h["train_time"], h["monitor"], strict=True)]
    return {
        "curve": curve,
        "final_error": sol.errors()["relative_l2"],
        "steps": sol.result.steps,
        "seconds": min(seconds, default.seconds or math.inf),
        "setup_s": setup,
        "wall_s": wall,
        "settings": sol.settings,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def first_time_below(curve: list, target: float) -> float | None:
    """The first time at which the curve is at or below ``target``."""
    for t, e in curve:
        if e <= target:
            return t
    return None


def held(curve: list, t: float) -> float:
    """The curve's value at time ``t``, held from its last record at or before ``t`` (and its
    last value after it ends); NaN before its first record."""
    value = math.nan
    for ti, e in curve:
        if ti > t:
            break
        value = e
    return value


def below_from(ours: list, theirs: list, start: float = BELOW_FROM) -> tuple[str, float | None]:
    """Whether ``ours`` lies strictly below ``theirs`` at every time ``theirs`` recorded from
    ``start`` on (``ours`` held, :func:`held`): ("yes", None), ("no", first time it does not),
    or ("no records", None) when ``theirs`` recorded nothing from ``start`` on."""
    times = [(t, e) for t, e in theirs if t >= start]
    if not times:
        return "no records", None
    for t, e in times:
        if not held(ours, t) < e:  # a NaN (no record of ours yet) counts as not below
            return "no", t
    return "yes", None


def compare(npd: dict, dxd: dict) -> dict:
    """DeepXDE's final error E and time; the first time each solver reached E; their ratio;
    and whether neuralpde's curve lies below DeepXDE's from BELOW_FROM s on."""
    target = dxd["final_error"]
    t_d = first_time_below(dxd["curve"], target)
    t_n = first_time_below(npd["curve"], target)
    below, not_below_at = below_from(npd["curve"], dxd["curve"])
    return {
        "target": target,
        "deepxde_time": dxd["curve"][-1][0],
        "deepxde_reached": t_d,
        "neuralpde_reached": t_n,
        "ratio": None if t_n is None or t_d is None else t_d / max(t_n, 1e-9),
        "below": below,
        "not_below_at": not_below_at,
    }


def plot(results: list, path: Path, seconds: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6), squeeze=False)
    styles = {"neuralpde": ("-", "C0"), "documented": ("--", "C1"), "tuned": ("-.", "C3")}
    for ax, (cid, name, npd, dxds, _) in zip(axes[0], results, strict=True):
        runs = [("neuralpde", "neuralpde defaults", npd)]
        runs += [(v, f"{LABEL[v]} 1.15", dxds[v]) for v in VARIANTS if v in dxds]
        for key, label, r in runs:
            style, color = styles[key]
            pts = [(max(t, 1e-2), e) for t, e in r["curve"] if math.isfinite(e)]
            ax.loglog(*zip(*pts, strict=True), style, color=color, label=label)
            if key != "neuralpde":
                ax.axhline(r["final_error"], color=color, lw=0.6, ls=":")
        ax.axvline(BELOW_FROM, color="0.7", lw=0.6, ls=":")
        ax.set_title(f"{cid} {name}")
        ax.set_xlabel("training time (s)")
        ax.set_xlim(1e-1, seconds * 1.1)
        ax.grid(True, which="both", lw=0.3)
    axes[0][0].set_ylabel("relative L2 error")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _when(t: float | None) -> str:
    return "not reached" if t is None else f"{t:.1f} s"


def _below(c: dict) -> str:
    if c["below"] == "yes":
        return "yes"
    if c["below"] == "no records":
        return f"— (DeepXDE recorded nothing after {BELOW_FROM:g} s)"
    return f"no, from {c['not_below_at']:.1f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only", nargs="+", help="case ids or catalog names, e.g. B1 B3 (default: all)"
    )
    ap.add_argument(
        "--seconds", type=positive_number, default=300.0, help="budget of each solver (default 300)"
    )
    ap.add_argument("--seed", type=int_at_least(0), default=0, help="random seed (default 0)")
    ap.add_argument(
        "--deepxde",
        choices=(*VARIANTS, "both"),
        default="both",
        help="DeepXDE's settings to run: documented (its examples'), tuned (by hand: hard "
        "constraints, float64) or both (default); the plot, curves and RESULTS.md are written "
        "only for a full run of both",
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: catalog name, neuralpde side
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    cases = select_cases(ap, args.only, CASES)
    if args.one:
        print(json.dumps(run_neuralpde(args.one, args.seconds, args.seed)))
        return 0
    try:
        import deepxde  # noqa: F401
    except ImportError:
        print('DeepXDE is not installed: pip install -e ".[peers]"', file=sys.stderr)
        return 2
    variants = VARIANTS if args.deepxde == "both" else (args.deepxde,)

    results = []
    for cid, name in cases:
        common = ["--seconds", str(args.seconds), "--seed", str(args.seed)]
        print(f"{cid} {name}: neuralpde ...", flush=True)
        npd = run_json([sys.executable, __file__, "--one", name, *common])
        print(
            f"  neuralpde final {npd['final_error']:.2e} (dense grid) after "
            f"{npd['curve'][-1][0]:.0f} s",
            flush=True,
        )
        dxds, comps = {}, {}
        for v in variants:
            print(f"{cid} {name}: {LABEL[v]} ...", flush=True)
            dxds[v] = run_json(
                [
                    sys.executable,
                    str(ROOT / "benchmarks" / "deepxde_cases.py"),
                    "--case",
                    cid,
                    "--settings",
                    v,
                    *common,
                ]
            )
            c = comps[v] = compare(npd, dxds[v])
            print(
                f"  {LABEL[v]} final {c['target']:.2e} after {c['deepxde_time']:.0f} s (first "
                f"reached at {_when(c['deepxde_reached'])}); neuralpde "
                + (
                    "never reached it"
                    if c["neuralpde_reached"] is None
                    else f"reached it at {_when(c['neuralpde_reached'])}"
                )
                + (f", {c['ratio']:.1f}x sooner" if c["ratio"] else "")
                + f"; neuralpde below it from {BELOW_FROM:g} s on: {_below(c)}",
                flush=True,
            )
        results.append((cid, name, npd, dxds, comps))

    write = not args.no_write and not args.only and args.deepxde == "both"
    if write:  # the plot, the raw curves and the table describe the full run only
        plot(results, PLOT, args.seconds)
        raw = {
            cid: {
                "problem": name,
                "neuralpde": npd,
                # "deepxde" (documented settings) is read by benchmarks/accuracy.py
                "deepxde": dxds["documented"],
                "deepxde_tuned": dxds["tuned"],
                "target": comps["documented"]["target"],
                "comparison": comps,
            }
            for cid, name, npd, dxds, comps in results
        }
        CURVES.write_text(json.dumps(raw, indent=1) + "\n")
    options = "".join(
        [
            "" if args.seconds == 300 else f" --seconds {args.seconds:g}",
            "" if args.seed == 0 else f" --seed {args.seed}",
            "" if args.deepxde == "both" else f" --deepxde {args.deepxde}",
            only_option(args.only),
        ]
    )
    lines = [
        "## time_to_accuracy: neuralpde defaults vs DeepXDE 1.15, same run",
        "",
        f"Command: `python benchmarks/time_to_accuracy.py{options}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}" + ("  " if write else ""),
        *(["Plot: [time_to_accuracy.png](time_to_accuracy.png)"] if write else []),
        "",
        f"Budget {args.seconds:g} s of training per solver and problem, each solver in its own "
        "process, one after the other on the same machine. neuralpde: the catalog file (the "
        "problem only) on the settings `neuralpde solve` derives from it (listed below), "
        "stopping earlier when its derived budget is smaller; its curve "
        "is the error on 4096 random points, its final error on the dense grid, and its times "
        "include its set-up before the first step. DeepXDE 1.15 (PyTorch backend), errors on "
        "the dense grid, in two variants: **documented**: the settings of DeepXDE's documented "
        "examples (FNN, soft boundary/initial conditions as loss terms, float32, Adam then "
        "L-BFGS); **tuned**: settings chosen by hand as a skilled user would (every boundary and "
        "initial condition built into the output with `net.apply_output_transform`, so the loss "
        "is the PDE residual alone; tanh FNN 4 x 50, for B2 the sine FNN 3 x 150 of DeepXDE's "
        "own Helmholtz example; Glorot uniform; float64; Adam (lr 1e-3) for at most 2000 steps "
        "and 30% of the budget, then L-BFGS). Both DeepXDE variants stop early when L-BFGS "
        "makes no more progress. Times exclude error measurement. E is a DeepXDE variant's "
        "final relative L2 error; t(E) the first time a solver's error was at or below E; the "
        "speed-up is DeepXDE's t(E) over neuralpde's. 'Below it' says whether neuralpde's "
        f"error was below that DeepXDE variant's at every time it recorded from {BELOW_FROM:g} s "
        "on (neuralpde's curve held at its last value before each such time, its final value "
        "after it stopped), or the first time it was not.",
        "",
        "| id | problem | DeepXDE | final E | DeepXDE time | DeepXDE t(E) | neuralpde t(E) | "
        f"speed-up | neuralpde below it from {BELOW_FROM:g} s on | neuralpde final error | "
        "neuralpde time |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cid, name, npd, _, comps in results:
        for v, c in comps.items():
            ratio = "—" if c["ratio"] is None else f"{c['ratio']:.0f}x"
            lines.append(
                f"| {cid} | {name} | {v} | {c['target']:.2e} | {c['deepxde_time']:.0f} s | "
                f"{_when(c['deepxde_reached'])} | {_when(c['neuralpde_reached'])} | {ratio} | "
                f"{_below(c)} | {npd['final_error']:.2e} | {npd['curve'][-1][0]:.0f} s |"
            )
    lines += ["", "DeepXDE settings:", ""]
    for cid, _, _, dxds, _ in results:
        for v, dxd in dxds.items():
            lines.append(f"- {cid} {v}: `{json.dumps(dxd['settings'], sort_keys=True)}`")
    lines += ["", "neuralpde settings (derived):", ""]
    for cid, _, npd, _, _ in results:
        lines.append(
            f"- {cid}: `{json.dumps(npd['settings'], sort_keys=True)}`, peak memory "
            f"{npd['peak_rss_mb']:.0f} MB"
        )
    table = "\n".join(lines)
    if write:
        write_section(table, "time_to_accuracy")
        print(f"wrote {(ROOT / 'benchmarks' / 'RESULTS.md').relative_to(ROOT)}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
