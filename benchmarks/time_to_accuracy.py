"""Time to accuracy: neuralpde's defaults against DeepXDE 1.15, side by side in the same run.

For each of B1-B4, both solvers get the same wall-time budget (default 300 s) on the same
machine, one after the other, each in its own process:

* neuralpde: the catalog problem with its own settings (``problems/<name>.py``), its time budget
  capped at the common budget; the error is recorded during training on 4096 fixed random points
  in the domain, and at the end on the dense grid.
* DeepXDE: ``benchmarks/deepxde_cases.py`` (DeepXDE's documented settings: tanh FNN, soft
  conditions, Adam then L-BFGS); the error is recorded on a uniform grid.

Times are training wall time, excluding the time spent measuring errors. For each problem the
benchmark reports DeepXDE's final error E, the first time each solver reached E, and their
ratio. It writes ``benchmarks/time_to_accuracy.png`` (error against time) and the section
``time_to_accuracy`` of ``benchmarks/RESULTS.md``, and keeps the raw curves in
``benchmarks/time_to_accuracy.json``. It needs DeepXDE:

    pip install -e ".[peers]"
    python benchmarks/time_to_accuracy.py                   # B1-B4, 300 s each side
    python benchmarks/time_to_accuracy.py --only B1 --seconds 60 --no-write
"""

from __future__ import annotations

import argparse
import dataclasses
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


def run_neuralpde(name: str, seconds: float, seed: int) -> dict:
    """Solve one catalog problem with its own settings within ``seconds``; the error curve."""
    import resource

    import torch

    import neuralpde as npde
    from neuralpde.problem_file import load_problem_file

    spec = load_problem_file(str(ROOT / "problems" / f"{name}.py"))
    trainer = spec["trainer"]
    budget = min(seconds, trainer.seconds or math.inf)
    trainer = dataclasses.replace(trainer, seconds=budget, log_every=10)
    sol = npde.solve(
        spec["problem"],
        spec["field"],
        spec["sampler"],
        trainer,
        seed=seed,
        dtype=spec["dtype"] or torch.float64,
    )
    h = sol.result.history
    curve = [[t, m] for t, m in zip(h["train_time"], h["monitor"], strict=True)]
    return {
        "curve": curve,
        "final_error": sol.errors()["relative_l2"],
        "steps": sol.result.steps,
        "seconds": budget,
        "settings": sol.settings,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def first_time_below(curve: list, target: float) -> float | None:
    """The first time at which the curve is at or below ``target``."""
    for t, e in curve:
        if e <= target:
            return t
    return None


def plot(results: list, path: Path, seconds: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6), squeeze=False)
    for ax, (cid, name, npd, dxd, _) in zip(axes[0], results, strict=True):
        for r, label, style in ((npd, "neuralpde", "-"), (dxd, "DeepXDE 1.15", "--")):
            pts = [(max(t, 1e-2), e) for t, e in r["curve"] if math.isfinite(e)]
            ax.loglog(*zip(*pts, strict=True), style, label=label)
        ax.axhline(dxd["final_error"], color="0.6", lw=0.8, ls=":")
        ax.set_title(f"{cid} {name}")
        ax.set_xlabel("training time (s)")
        ax.set_xlim(1e-1, seconds * 1.1)
        ax.grid(True, which="both", lw=0.3)
    axes[0][0].set_ylabel("relative L2 error")
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _when(t: float | None) -> str:
    return "not reached" if t is None else f"{t:.1f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only", nargs="+", help="case ids or catalog names, e.g. B1 B3 (default: all)"
    )
    ap.add_argument(
        "--seconds", type=positive_number, default=300.0, help="budget of each solver (default 300)"
    )
    ap.add_argument("--seed", type=int_at_least(0), default=0, help="random seed (default 0)")
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

    results = []
    for cid, name in cases:
        common = ["--seconds", str(args.seconds), "--seed", str(args.seed)]
        print(f"{cid} {name}: neuralpde ...", flush=True)
        npd = run_json([sys.executable, __file__, "--one", name, *common])
        print(f"{cid} {name}: DeepXDE ...", flush=True)
        dxd = run_json(
            [sys.executable, str(ROOT / "benchmarks" / "deepxde_cases.py"), "--case", cid, *common]
        )
        target = dxd["final_error"]
        t_d = first_time_below(dxd["curve"], target)
        t_n = first_time_below(npd["curve"], target)
        ratio = None if t_n is None or t_d is None else t_d / max(t_n, 1e-9)
        results.append((cid, name, npd, dxd, (target, t_d, t_n, ratio)))
        print(
            f"  DeepXDE final {target:.2e} (first reached at {_when(t_d)}); neuralpde "
            + ("never reached it" if t_n is None else f"reached it at {_when(t_n)}")
            + (f", {ratio:.1f}x sooner" if ratio else "")
            + f"; neuralpde final {npd['final_error']:.2e} in {npd['curve'][-1][0]:.0f} s",
            flush=True,
        )

    write = not args.no_write and not args.only
    if write:  # the plot, the raw curves and the table describe the full run only
        plot(results, PLOT, args.seconds)
        raw = {
            cid: {"problem": name, "neuralpde": npd, "deepxde": dxd, "target": target}
            for cid, name, npd, dxd, (target, *_) in results
        }
        CURVES.write_text(json.dumps(raw, indent=1) + "\n")
    lines = [
        "## time_to_accuracy: neuralpde defaults vs DeepXDE 1.15, same run",
        "",
        "Command: `python benchmarks/time_to_accuracy.py"
        f"{'' if args.seconds == 300 else f' --seconds {args.seconds:g}'}"
        f"{'' if args.seed == 0 else f' --seed {args.seed}'}{only_option(args.only)}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}" + ("  " if write else ""),
        *(["Plot: [time_to_accuracy.png](time_to_accuracy.png)"] if write else []),
        "",
        f"Budget {args.seconds:g} s of training per solver and problem (neuralpde stops earlier "
        "when its own catalog budget is smaller). Times exclude error measurement. E is "
        "DeepXDE's final relative L2 error; t(E) the first time a solver's error was at or "
        "below E. neuralpde: catalog settings (SIREN, float32); DeepXDE: documented settings "
        "of its examples (tanh FNN, soft conditions, Adam then L-BFGS, float32).",
        "",
        "| id | problem | DeepXDE final E | DeepXDE t(E) | neuralpde t(E) | ratio | "
        "neuralpde final error | neuralpde time | neuralpde peak memory |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cid, name, npd, _, (target, t_d, t_n, ratio) in results:
        lines.append(
            f"| {cid} | {name} | {target:.2e} | {_when(t_d)} | {_when(t_n)}"
            + f" | {'—' if ratio is None else f'{ratio:.0f}x'} | {npd['final_error']:.2e} | "
            f"{npd['curve'][-1][0]:.0f} s | {npd['peak_rss_mb']:.0f} MB |"
        )
    lines += ["", "DeepXDE settings:", ""]
    for cid, _, _, dxd, _ in results:
        lines.append(f"- {cid}: `{json.dumps(dxd['settings'], sort_keys=True)}`")
    table = "\n".join(lines)
    if write:
        write_section(table, "time_to_accuracy")
        print(f"wrote {(ROOT / 'benchmarks' / 'RESULTS.md').relative_to(ROOT)}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
