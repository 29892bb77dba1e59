"""Evaluation of a loaded field: values, gradients, Laplacians and Hessians of many points.

Loads a solution file (``neuralpde.load``), draws ``--points`` points inside its domain (uniform
in the bounding box, those inside kept; fixed seed) and times, ``--repeats`` times each, the
field's values, :meth:`~neuralpde.NeuralField.gradient`, :meth:`~neuralpde.NeuralField.laplacian`
and (with ``--hessian``) :meth:`~neuralpde.NeuralField.hessian` of all of them, on ``--threads``
CPU threads (default 2). Prints the median wall time of each (and the median CPU time of the
process, which a busy machine inflates less), against the targets for 10**6 points on 2 cores:
gradients in 3 s, Laplacians in 6 s. Without a file it first trains poisson2d_sine from the
catalog briefly (its default field, hard constraint and lift; the values need not be accurate)
and saves it to a temporary file.

    python benchmarks/evaluate.py                        # 10**6 points, 3 repeats, 2 threads
    python benchmarks/evaluate.py solution.h5 --points 10000
    python benchmarks/evaluate.py --threads 8 --hessian
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Seconds for 10**6 points on 2 CPU cores.
TARGETS = {"gradient": 3.0, "laplacian": 6.0}
FULL = 10**6


def positive(text: str) -> int:
    """An argparse type: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", nargs="?", help="a solution file (default: train poisson2d_sine)")
    p.add_argument("--points", type=positive, default=FULL, help="points to evaluate")
    p.add_argument("--repeats", type=positive, default=3, help="timed runs of each")
    p.add_argument("--threads", type=positive, default=2, help="CPU threads of PyTorch")
    p.add_argument("--hessian", action="store_true", help="time hessian() too")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_solution(folder: Path) -> Path:
    """poisson2d_sine from the catalog, trained for a few steps, saved in ``folder``."""
    import neuralpde as npde
    from neuralpde.problem_file import load_problem_file

    spec = load_problem_file(str(ROOT / "problems" / "poisson2d_sine.py"))
    trainer = npde.Trainer(adam_steps=50, lbfgs_steps=0, progress=False)
    sol = npde.solve(spec["problem"], trainer=trainer, seed=0, estimate=False)
    return sol.save(folder / "poisson2d_sine.h5", n=16)


def points_inside(field, n: int, seed: int):
    """``n`` points inside the field's domain, uniform in its bounding box (NumPy, float64)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lo, hi = field.bounds
    kept, have = [], 0
    while have < n:
        pts = lo + rng.random((max(n - have, 1024) * 2, len(lo))) * (hi - lo)
        pts = pts[field.contains(pts)]
        kept.append(pts)
        have += len(pts)
    return np.concatenate(kept)[:n]


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeats`` calls of ``fn``."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import torch

    import neuralpde as npde

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.file) if args.file else make_solution(Path(tmp))
        field = npde.load(path)
        pts = points_inside(field, args.points, args.seed)
        arch = field.architecture
        field_text = ", ".join(f"{k}={v}" for k, v in arch["field"].items() if k != "type")
        lift = (arch.get("constraint") or {}).get("lift")
        constraint = "hard constraint" if arch.get("constraint") else "no constraint"
        if lift:
            constraint += f" with a Chebyshev lift of {lift['terms']} terms"
        dtype = str(next(field.net.parameters()).dtype).removeprefix("torch.")
        print(
            f"{path.name}: {field.problem_name}, {arch['field']['type']} ({field_text}), "
            f"{constraint}, {dtype}"
        )
        print(
            f"{len(pts)} points, {args.repeats} repeats, {torch.get_num_threads()} threads "
            f"(torch {torch.__version__})"
        )
        runs = {
            "values": lambda: field(pts),
            "gradient": lambda: field.gradient(pts),
            "laplacian": lambda: field.laplacian(pts),
        }
        if args.hessian:
            runs["hessian"] = lambda: field.hessian(pts)
        field(pts[:1024]), field.laplacian(pts[:1024])  # warm up
        for name, fn in runs.items():
            wall, cpu = timed(fn, args.repeats)
            target = TARGETS.get(name)
            scaled = target * len(pts) / FULL if target else None
            verdict = "" if scaled is None else f"  (target {scaled:.3g} s on 2 cores)"
            print(f"{name:>10}: median {wall:8.3f} s wall, {cpu:8.3f} s CPU{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
