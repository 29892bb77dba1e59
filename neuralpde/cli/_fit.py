"""``neuralpde fit``: fit a neural field to data and write it as a solution file."""

from __future__ import annotations

import argparse
import math
import sys

from ._types import UsageError


def parse_bounds(s: str) -> tuple[float, float]:
    """An argparse type: ``LO:HI``, an axis's bounds (finite, ``LO < HI``); a leading space is
    ignored (``' -1:1'``, which argparse does not take for an option)."""
    parts = s.strip().split(":")
    try:
        lo, hi = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise argparse.ArgumentTypeError(f"expected LO:HI with LO < HI (e.g. 0:1), got {s!r}")
    return lo, hi


def fit_command(args: argparse.Namespace) -> int:
    """Run ``neuralpde fit``; returns the exit status."""
    from ..fitting import fit, read_data
    from ..io import check_writable

    try:
        check_writable(args.output)
    except (OSError, ValueError) as exc:
        raise UsageError(f"-o/--output: {exc}") from None
    try:
        data = read_data(args.data, axes=args.axes, dataset=args.dataset, names=args.names)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if message.startswith("axes"):
            message = "--axes: " + message.removeprefix("axes: ").replace(
                "give axes=[...], per axis its coordinates or (lo, hi)",
                "give --axes LO:HI per axis",
            )
        elif message.startswith("dataset"):
            message = "--dataset: " + message.removeprefix("dataset: ")
        elif message.startswith("names"):
            message = "--names: " + message
        else:
            message = f"DATA: {message.removeprefix('data: ')}"
        raise UsageError(message) from None
    if args.supervise == "gradient" and not data.gridded:
        raise UsageError(
            f"--supervise gradient needs gridded data; {args.data!r} holds scattered points"
        )
    if not args.quiet:
        shape = "x".join(map(str, data.shape))
        kind = "grid" if data.gridded else "points"
        goal = (
            f"width {args.width}, depth {args.depth or 2}"
            if args.width
            else f"target {args.target or 1e-4:g}"
        )
        print(
            f"fitting {args.data} ({shape} {kind}, coordinates {', '.join(data.names)}): {goal}, "
            f"budget {args.seconds:g} s, seed {args.seed}",
            file=sys.stderr,
        )
    field = fit(
        data,
        target=args.target,
        width=args.width,
        depth=args.depth,
        seconds=args.seconds,
        seed=args.seed,
        holdout=args.holdout,
        supervise=args.supervise,
    )
    path = field.save(args.output)
    m = field.metrics
    held = m["relative_l2_holdout"]
    print(
        f"{field.settings['field_text']}: {int(m['parameters'])} numbers for "
        f"{int(m['values'])} values, compression ratio {m['compression_ratio']:.1f}"
    )
    print(
        f"relative L2 error: {m['relative_l2_train']:.3e} on the data used, "
        + (f"{held:.3e} held out, " if math.isfinite(held) else "")
        + f"{m['relative_l2']:.3e} on all (relative max {m['relative_max']:.3e})"
        + (f"; gradient {m['relative_l2_gradient']:.3e}" if "relative_l2_gradient" in m else "")
    )
    print(f"status {field.status}: {field.message}")
    print(f"wrote {path}")
    return 0
