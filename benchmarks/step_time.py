"""Training-step time: fused forward derivatives against nested reverse-mode autograd.

For each built-in equation (the catalog problems B1-B4: Poisson, Helmholtz, heat, wave), a SIREN
(or, with ``--field mlp``, a tanh MLP) of depth 4 and width 128 (``--depth``, ``--width``), 8192
interior collocation points (plus 1024 boundary and 1024 initial points), in float32 and float64,
one training step is
``zero_grad`` + loss + ``backward`` + an Adam step. Each configuration runs in its own process (so
that its peak memory is its own), 3 warm-up steps then 15 timed steps; the engines alternate, each
in ``--repeats`` processes (default 2), and a configuration's time is the median of all its timed
steps. The floating-point work of a step is counted by the PyTorch profiler (matrix products,
forward and backward); the machine's matrix-product throughput is measured in the same run (the
median of 4096 x 4096 products in each precision), and each step's achieved GFLOP/s is compared
with it. When DeepXDE is installed (the ``peers`` extra), its own training step on the same network
(``FNN`` of the same sizes with a ``sin`` activation, or ``tanh`` with ``--field mlp``) and the same
point counts is timed the same way, as the peers' reference (``--peer none`` leaves it out).

    python benchmarks/step_time.py                    # CPU, writes benchmarks/RESULTS.md
    python benchmarks/step_time.py --device cuda      # on a GPU (section "step_time_cuda")
    python benchmarks/step_time.py --device cuda --points 262144  # more points per step
    python benchmarks/step_time.py --field mlp        # a tanh MLP 4x128 (section "step_time_mlp")
    python benchmarks/step_time.py --only B3 --dtypes float32  # one case: printed, not written
    python benchmarks/step_time.py --peer none        # without the DeepXDE column
    python benchmarks/step_time.py --width 64 --depth 3   # another network size (its own section)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import (  # noqa: E402
    ROOT,
    machine,
    only_option,
    run_json,
    select_cases,
    write_section,
)

from neuralpde._arguments import check_device  # noqa: E402
from neuralpde.cli import int_at_least  # noqa: E402
from neuralpde.training.memory import malloc_setting  # noqa: E402

# id, catalog name, equation
CASES = [
    ("B1", "poisson2d_sine", "Poisson"),
    ("B2", "helmholtz2d", "Helmholtz"),
    ("B3", "heat2d", "Heat"),
    ("B4", "wave1d", "Wave"),
]
DTYPES = ("float32", "float64")
ENGINES = ("fused", "autograd")
WIDTH, DEPTH, N_INTERIOR, N_BOUNDARY, N_INITIAL = 128, 4, 8192, 1024, 1024
WARMUP, STEPS = 3, 15


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_gflops(dtype_name: str, device: str, n: int = 4096, repeats: int = 10) -> float:
    """Median GFLOP/s of an ``n x n`` by ``n x n`` matrix product."""
    import torch

    dtype = getattr(torch, dtype_name)
    a = torch.randn(n, n, dtype=dtype, device=device)
    b = torch.randn(n, n, dtype=dtype, device=device)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


FIELDS = ("siren", "mlp")
ACTIVATION = {"siren": "sin", "mlp": "tanh"}  # of the same network in DeepXDE's FNN


@dataclass(frozen=True)
class Network:
    """The network timed: ``field`` (``siren`` or ``mlp``), ``depth`` hidden layers of ``width``."""

    field: str = "siren"
    width: int = WIDTH
    depth: int = DEPTH


def run_one(
    name: str, dtype_name: str, engine: str, device: str, points: int, network: Network
) -> dict:
    """Time one configuration in this process."""
    import torch

    import neuralpde as npde
    from neuralpde.fields import InputScaling
    from neuralpde.problem_file import load_problem_file
    from neuralpde.training import retain_freed_memory
    from neuralpde.training.loss import loss_terms, make_batch, residual_plan

    retained = False if device.startswith("cuda") else retain_freed_memory()  # as in training
    dtype = getattr(torch, dtype_name)
    problem = load_problem_file(str(ROOT / "problems" / f"{name}.py"))["problem"]
    lo, hi = problem.domain.bounds
    torch.manual_seed(0)
    spec = npde.Siren if network.field == "siren" else npde.MLP
    field = spec(width=network.width, depth=network.depth)
    net = InputScaling(field.build(problem.domain.dim), lo.tolist(), hi.tolist())
    net = net.to(dtype=dtype, device=device)
    sampler = npde.SobolSampler(n_interior=points, n_boundary=N_BOUNDARY, n_initial=N_INITIAL)
    batch = make_batch(problem, sampler.draw(problem, 0, 0), dtype, device)
    plan = residual_plan(problem)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step(parts: list | None = None) -> None:
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss, _ = loss_terms(net, problem, batch, engine=engine, plan=plan)
        _sync(device)
        t1 = time.perf_counter()
        loss.backward()
        _sync(device)
        t2 = time.perf_counter()
        opt.step()
        _sync(device)
        if parts is not None:
            parts.append((t1 - t0, t2 - t1, time.perf_counter() - t2))

    return {
        "name": name,
        "dtype": dtype_name,
        "engine": engine,
        **_measure(step, device),
        "retained": retained,
    }


def _measure(step: Callable[[list | None], None], device: str) -> dict:
    """Time ``step`` (``WARMUP`` untimed, then ``STEPS`` timed), count its floating-point work
    with the profiler, and read the process's peak memory. ``step(parts)`` may append the
    durations of its parts (forward, backward, optimizer) to ``parts``."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    for _ in range(WARMUP):
        step(None)
    times, parts = [], []
    for _ in range(STEPS):
        _sync(device)
        t = time.perf_counter()
        step(parts)
        times.append(time.perf_counter() - t)
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        step(None)
    flops = sum(e.flops for e in prof.key_averages())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**20
    return {
        "times_ms": [1000 * t for t in times],
        "parts_ms": [[1000 * t for t in p] for p in parts],
        "gflop": flops / 1e9,
        "peak_mb": peak,
    }


PEERS = ("deepxde", "none")


def peer_available() -> bool:
    """Whether DeepXDE (the ``peers`` extra) can be imported, checked without importing it."""
    import importlib.util

    return importlib.util.find_spec("deepxde") is not None


def run_deepxde(name: str, dtype_name: str, device: str, points: int, network: Network) -> dict:
    """Time DeepXDE's own training step on the same network and point counts, in this process.

    The network is DeepXDE's ``FNN`` with the same layer sizes and activation (``sin`` for the
    SIREN, ``tanh`` for the MLP); the problem is the case of ``deepxde_cases.py`` with
    ``points`` interior, 1024 boundary and 1024 initial points. One step is DeepXDE's
    ``Model.train_step`` (losses, nested-autograd derivatives, backward, Adam), the function its
    ``Model.train`` loop calls once per iteration.
    """
    import contextlib
    import os

    os.environ["DDE_BACKEND"] = "pytorch"
    with contextlib.redirect_stdout(sys.stderr):  # DeepXDE prints; stdout carries the JSON
        import deepxde as dde
        import deepxde_cases as cases
        import torch

        from neuralpde.training import retain_freed_memory

        # the same allocator setting and device as the fused and autograd runs
        retained = False if device.startswith("cuda") else retain_freed_memory()
        torch.set_default_device(device)  # DeepXDE puts its network and data on the default
        case = {s["problem"]: c for c, s in cases.SETTINGS.items()}.get(name)
        if case is None:
            raise ValueError(f"no DeepXDE case for problem {name!r}")
        dde.config.set_default_float(dtype_name)
        dde.config.set_random_seed(0)
        counts = {"num_domain": points, "num_boundary": N_BOUNDARY, "num_initial": N_INITIAL}
        data, test_x, _ = cases.build_data(dde, case, counts)
        layers = [test_x.shape[1], *[network.width] * network.depth, 1]
        fnn = dde.nn.FNN(layers, ACTIVATION[network.field], "Glorot uniform")
        model = dde.Model(data, fnn)
        model.compile("adam", lr=1e-4)
        state = model.train_state
        state.set_data_train(*data.train_next_batch(None))

        def step(_parts: list | None) -> None:  # one call: no parts to time
            model.train_step(state.X_train, state.y_train, state.train_aux_vars)
            _sync(device)

        measured = _measure(step, device)
        dtype = torch.get_default_dtype()
    return {
        "name": name,
        "dtype": str(dtype).removeprefix("torch."),
        "engine": "deepxde",
        **measured,
        "retained": retained,
        "residual_points": int(len(state.X_train)),
        "deepxde_version": dde.__version__,
    }


def _peer_note(peers: list[dict], field_name: str) -> str:
    """The paragraph that says how DeepXDE's step was measured."""
    return (
        f" DeepXDE {peers[0]['deepxde_version']} (PyTorch backend), timed like the two engines: "
        f"`dde.nn.FNN` with the same layer sizes and a {ACTIVATION[field_name]} activation, the "
        "same point counts, one step = its `Model.train_step` (losses with nested-autograd "
        "derivatives, backward, Adam). DeepXDE evaluates the residual at all its training points, "
        "boundary and initial points included (and those of each condition once more for the "
        "condition), as the last column counts; neuralpde evaluates it at the interior points only."
    )


def _pooled(runs: list[dict]) -> dict:
    """One configuration's processes together: medians of all their timed steps."""
    out = dict(runs[0])
    out["ms"] = statistics.median(t for r in runs for t in r["times_ms"])
    parts = [p for r in runs for p in r["parts_ms"]]
    out["parts_ms"] = [statistics.median(col) for col in zip(*parts, strict=True)]
    out["peak_mb"] = max(r["peak_mb"] for r in runs)
    out["retained"] = all(r["retained"] for r in runs)
    return out


def _parts(r: dict) -> str:
    return " / ".join(f"{p:.1f}" for p in r["parts_ms"]) + " ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only",
        nargs="+",
        help="case ids or catalog names to run: "
        + ", ".join(f"{cid} ({name})" for cid, name, _ in CASES)
        + " (default: all); printed, not written",
    )
    ap.add_argument(
        "--dtypes",
        nargs="+",
        choices=DTYPES,
        default=list(DTYPES),
        help="precisions (default: both)",
    )
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    ap.add_argument(
        "--points",
        type=int_at_least(1),
        default=N_INTERIOR,
        help=f"interior points (default {N_INTERIOR})",
    )
    ap.add_argument(
        "--field", choices=FIELDS, default="siren", help="the network: siren (default) or mlp"
    )
    ap.add_argument(
        "--width", type=int_at_least(1), default=WIDTH, help=f"features per layer (default {WIDTH})"
    )
    ap.add_argument(
        "--depth", type=int_at_least(1), default=DEPTH, help=f"hidden layers (default {DEPTH})"
    )
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # internal: name dtype engine
    ap.add_argument("--matmul", help=argparse.SUPPRESS)  # internal: dtype
    ap.add_argument(
        "--repeats",
        type=int_at_least(1),
        default=2,
        help="processes per engine and configuration (default 2)",
    )
    ap.add_argument(
        "--peer",
        choices=PEERS,
        help="also time DeepXDE's own step on the same network: deepxde (the default when the "
        "'peers' extra is installed) or none",
    )
    ap.add_argument(
        "--no-write",
        action="store_true",
        help="do not update RESULTS.md (a run of some cases or precisions never does)",
    )
    args = ap.parse_args()
    try:
        if check_device(args.device, "--device").type == "cpu":
            args.device = "cpu"  # 'cpu:0' too
        asked_system = malloc_setting() == "system"
    except ValueError as exc:
        ap.error(str(exc))
    cases = select_cases(ap, args.only, CASES, " (one case for each built-in equation)")
    args.dtypes = list(dict.fromkeys(args.dtypes))
    if args.one:
        name, dtype_name, engine = args.one
        network = Network(args.field, args.width, args.depth)
        if engine == "deepxde":
            result = run_deepxde(name, dtype_name, args.device, args.points, network)
        else:
            result = run_one(name, dtype_name, engine, args.device, args.points, network)
        print(json.dumps(result))
        return 0
    explicit_none = args.peer == "none"
    if args.peer is None:
        args.peer = "deepxde" if peer_available() else "none"
    elif args.peer == "deepxde" and not peer_available():
        ap.error('--peer deepxde needs DeepXDE: pip install -e ".[peers]"')
    engines = ENGINES + (("deepxde",) if args.peer == "deepxde" else ())
    if args.matmul:
        print(json.dumps(matmul_gflops(args.matmul, args.device)))
        return 0

    def sub(*extra: str) -> object:
        return run_json(
            [
                sys.executable,
                __file__,
                "--device",
                args.device,
                "--points",
                str(args.points),
                "--field",
                args.field,
                "--width",
                str(args.width),
                "--depth",
                str(args.depth),
                *extra,
            ]
        )

    peak_gflops = {d: sub("--matmul", d) for d in args.dtypes}
    for d, g in peak_gflops.items():
        print(f"matrix product {d}: {g:.1f} GFLOP/s", flush=True)
    rows = []
    for _, name, label in cases:
        for d in args.dtypes:
            runs: dict[str, list[dict]] = {e: [] for e in engines}
            for _ in range(args.repeats):  # alternate the engines
                for e in engines:
                    runs[e].append(sub("--one", name, d, e))
            f, a = (_pooled(runs[e]) for e in ENGINES)
            p = _pooled(runs["deepxde"]) if "deepxde" in runs else None
            speedup = a["ms"] / f["ms"]
            rate = f["gflop"] / (f["ms"] / 1000)
            rows.append((label, name, d, f, a, speedup, rate, rate / peak_gflops[d], p))
            peer = "" if p is None else f"; DeepXDE {p['ms']:.1f} ms, x{p['ms'] / f['ms']:.2f}"
            print(
                f"{label:9s} {d}: fused {f['ms']:.1f} ms, autograd {a['ms']:.1f} ms, "
                f"x{speedup:.2f}; fused {rate:.1f} GFLOP/s = {100 * rate / peak_gflops[d]:.0f}% "
                f"of the matrix product; peak {f['peak_mb']:.0f} / {a['peak_mb']:.0f} MB{peer}",
                flush=True,
            )
    # matrix-product throughput once more, after the runs, to show the machine did not change
    after = {d: sub("--matmul", d) for d in args.dtypes}

    # NEURALPDE_MALLOC=system asks for the system's setting; it is also what runs where the
    # setting cannot be applied (not glibc)
    system_malloc = not all(r[3]["retained"] for r in rows)
    peers = [r[8] for r in rows if r[8] is not None]
    mem = "peak GPU memory allocated" if args.device.startswith("cuda") else "peak resident memory"
    lines = [
        f"## step_time: training-step time, fused vs nested autograd ({args.device}"
        f"{'' if args.field == 'siren' else ', ' + args.field})",
        "",
        f"Command: `{'NEURALPDE_MALLOC=system ' if asked_system and args.device == 'cpu' else ''}"
        f"python benchmarks/step_time.py"
        f"{'' if args.device == 'cpu' else ' --device ' + args.device}"
        f"{'' if args.points == N_INTERIOR else f' --points {args.points}'}"
        f"{'' if args.field == 'siren' else ' --field ' + args.field}"
        f"{'' if args.width == WIDTH else f' --width {args.width}'}"
        f"{'' if args.depth == DEPTH else f' --depth {args.depth}'}"
        f"{'' if args.dtypes == list(DTYPES) else ' --dtypes ' + ' '.join(args.dtypes)}"
        f"{'' if args.repeats == 2 else f' --repeats {args.repeats}'}"
        f"{' --peer none' if explicit_none else ''}{only_option(args.only)}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine(args.device)}",
        "",
        f"{'SIREN' if args.field == 'siren' else 'tanh MLP'} {args.depth}x{args.width}, "
        f"{args.points} interior points (+ {N_BOUNDARY} boundary, "
        f"{N_INITIAL} initial), one step = loss + backward + Adam; median of {STEPS} steps in each "
        f"of {args.repeats} processes per engine and configuration, the engines alternating; "
        "'forward' includes the derivatives, residual and "
        "loss. "
        + (
            ""
            if args.device != "cpu"
            else "malloc as the system sets it. "
            if system_malloc
            else "Freed memory kept for reuse between steps, as in training "
            "(`neuralpde.training.retain_freed_memory`). "
        )
        + "GFLOP counted by the PyTorch profiler (matrix "
        "products, forward and backward). Matrix-product throughput measured in the same run "
        "(4096 x 4096): "
        + ", ".join(
            f"{d} {peak_gflops[d]:.1f} GFLOP/s before, {after[d]:.1f} after" for d in args.dtypes
        )
        + "."
        + ("" if not peers else _peer_note(peers, args.field)),
        "",
        f"| equation | problem | precision | fused | autograd | speed-up | GFLOP/step fused / "
        f"autograd | fused GFLOP/s | of matrix product | fused: forward / backward / Adam | "
        f"autograd: forward / backward / Adam | {mem} fused / autograd |"
        + (
            " DeepXDE step | fused vs DeepXDE | DeepXDE GFLOP/step | DeepXDE residual points | "
            f"DeepXDE {mem} |"
            if peers
            else ""
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
        + ("---|---|---|---|---|" if peers else ""),
    ]
    for label, name, d, f, a, speedup, rate, frac, p in rows:
        lines.append(
            f"| {label} | {name} | {d} | {f['ms']:.1f} ms | {a['ms']:.1f} ms | "
            f"{speedup:.2f}x | {f['gflop']:.2f} / {a['gflop']:.2f} | {rate:.1f} | "
            f"{100 * frac:.0f}% | "
            f"{_parts(f)} | {_parts(a)} | {f['peak_mb']:.0f} / {a['peak_mb']:.0f} MB |"
            + (
                ""
                if p is None
                else f" {p['ms']:.1f} ms | {p['ms'] / f['ms']:.2f}x | {p['gflop']:.2f} | "
                f"{p['residual_points']} | {p['peak_mb']:.0f} MB |"
            )
        )
    table = "\n".join(lines)
    key = "step_time" if args.device == "cpu" else f"step_time_{args.device.split(':')[0]}"
    if args.points != N_INTERIOR:
        key += f"_{args.points}"
    if args.field != "siren":
        key += f"_{args.field}"
    if (args.width, args.depth) != (WIDTH, DEPTH):
        key += f"_{args.depth}x{args.width}"
    if asked_system and args.device == "cpu":
        key += "_system_malloc"
    partial = len(cases) < len(CASES) or sorted(args.dtypes) != list(DTYPES)
    if not args.no_write and not partial:
        write_section(table, key)
        print(f"wrote {(ROOT / 'benchmarks' / 'RESULTS.md').relative_to(ROOT)}")
    elif partial:
        print("RESULTS.md left as it is: not every case and precision ran")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
