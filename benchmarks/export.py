"""Export of a field to a large mesh: values and gradients at every node, written as VTU.

Builds a structured triangulation of the unit square with ``--nodes`` nodes (default 10**6: 1000
x 1000 nodes, two triangles per cell), loads a solution file (without one, it first trains
poisson2d_sine from the catalog briefly: its default field, hard constraint and lift; the values
need not be accurate) and times :func:`neuralpde.export.to_mesh` (values ``u`` and gradients
``grad_u`` at every node, written to a ``.vtu`` file in a temporary folder) ``--repeats`` times
on ``--threads`` CPU threads (default 2). Prints the median wall time, its evaluation part
(:func:`neuralpde.export.evaluate`) and the median CPU time, against the target: 10**6 nodes in
10 s on 2 cores.

    python benchmarks/export.py                    # 10**6 nodes, 3 repeats, 2 threads
    python benchmarks/export.py --nodes 10000      # a quick check
    python benchmarks/export.py solution.h5 --suffix .msh
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from evaluate import make_solution, positive, timed  # noqa: E402

#: Seconds for 10**6 nodes on 2 CPU cores (values and gradients, the file written).
TARGET = 10.0
FULL = 10**6


def _nodes(text: str) -> int:
    value = positive(text)
    if value < 4:
        raise argparse.ArgumentTypeError(f"expected at least 4 nodes, got {text!r}")
    return value


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", nargs="?", help="a solution file (default: train poisson2d_sine)")
    p.add_argument(
        "--nodes", type=_nodes, default=FULL, help="mesh nodes (rounded to a square number)"
    )
    p.add_argument("--repeats", type=positive, default=3, help="timed runs")
    p.add_argument("--threads", type=positive, default=2, help="CPU threads of PyTorch")
    p.add_argument("--suffix", default=".vtu", help="the mesh file written (default .vtu)")
    return p.parse_args(argv)


def unit_square_mesh(nodes: int):
    """A structured triangulation of the unit square: ``k x k`` nodes (``k * k`` about
    ``nodes``), two triangles per cell, points ``(N, 3)`` with z = 0."""
    import meshio
    import numpy as np

    k = max(2, round(math.sqrt(nodes)))
    x, y = np.meshgrid(np.linspace(0.0, 1.0, k), np.linspace(0.0, 1.0, k), indexing="ij")
    points = np.column_stack([x.ravel(), y.ravel(), np.zeros(k * k)])
    idx = np.arange(k * k).reshape(k, k)
    a, b = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    c, d = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    cells = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return meshio.Mesh(points, [("triangle", cells)])


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import torch

    import neuralpde as npde
    from neuralpde.export import evaluate, to_mesh

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = Path(args.file) if args.file else make_solution(folder)
        field = npde.load(path)
        mesh = unit_square_mesh(args.nodes)
        n = len(mesh.points)
        arch = field.architecture
        text = ", ".join(f"{k}={v}" for k, v in arch["field"].items() if k != "type")
        print(f"{path.name}: {field.problem_name}, {arch['field']['type']} ({text})")
        print(
            f"{n} nodes, {sum(len(c.data) for c in mesh.cells)} triangles, {args.repeats} "
            f"repeats, {torch.get_num_threads()} threads (torch {torch.__version__})"
        )
        out = folder / f"u{args.suffix}"
        pts = mesh.points[:, :2]
        ev_wall, _ = timed(lambda: evaluate(field, pts), args.repeats)
        wall, cpu = timed(lambda: to_mesh(field, mesh, out), args.repeats)
        scaled = wall * FULL / n
        print(f"evaluate (values + gradients): median {ev_wall:.3f} s")
        print(
            f"to_mesh ({out.suffix}, {out.stat().st_size / 1e6:.1f} MB): median {wall:.3f} s "
            f"wall, {cpu:.3f} s CPU; {scaled:.2f} s per 10**6 nodes (target {TARGET:g} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
