"""The long robustness campaign: bad inputs, damaged files and killed processes.

With the strategies of ``tests/fuzzing.py`` (the CI's ``tests/repository/test_fuzz.py`` draws a
fixed, bounded sample of them), this runs:

1. bad API arguments of every family and command lines through ``neuralpde.cli.main``
   (``--examples`` of each family, twice as many command lines);
2. damaged and crafted solution and reference files (``--files``), read by every reader and the
   command line in a subprocess whose peak memory is measured;
3. kill and resume (``--loops`` times): ``neuralpde solve`` of a small problem with an Adam,
   L-BFGS and Gauss-Newton budget of steps and a checkpoint after every step, SIGKILLed at a
   random moment after its checkpoint appears, then continued with ``--resume``; its network
   must equal, bit for bit, that of a run never interrupted (same seed, one thread);
4. kill during write (``--loops`` times, solution and checkpoint files in turn): a process
   rewriting a largish file over a good one, SIGKILLed at a random moment; the file must still
   be whole (it loads, with the digest of one of the two contents written), and the next write
   must leave no temporary file behind.

Every outcome is counted; tracebacks, hangs, crashes, one-line rules broken, other files
opened, wrong networks loaded and damaged files left must all be 0. It writes
``docs/robustness.md`` (``--out``) with the counts, the command and the date::

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/robustness.py            # about 10 minutes
    python benchmarks/robustness.py --examples 40 --files 100 --loops 3 --out /tmp/r.md  # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tests.fuzzing import (  # noqa: E402
    FINDINGS,
    Tally,
    make_workspace,
    max_rss_bytes,
    run_api_campaign,
    write_record,
)

#: The most the file campaign's peak resident memory may grow over its own after imports.
MEMORY_GROWTH = 500 * 2**20

RESUME_PROBLEM = """\
import torch

import neuralpde as npde


def source(x):
    return 2 * torch.pi**2 * torch.sin(torch.pi * x[:, 0]) * torch.sin(torch.pi * x[:, 1])


problem = npde.Problem(
    npde.Rectangle((0, 0), (1, 1)), npde.Poisson(source), [npde.Dirichlet(0.0)], name="resume"
)
field = npde.Siren(width=8, depth=2, w0=1.5)
sampler = npde.SobolSampler(n_interior=100, n_boundary=64)
trainer = npde.Trainer(adam_steps=40, lbfgs_steps=40, gauss_newton_steps=40, progress=False)
"""
#: Steps of the resumed runs: 40 Adam, 40 L-BFGS and 40 Gauss-Newton steps.
RESUME_STEPS = 120

SOLUTION_WRITER = """\
import os
import sys
import time

from neuralpde.io import read_solution, write_solution

source, target = sys.argv[1], sys.argv[2]
if "--at-sync" in sys.argv:  # say when the temporary file is written, before it is renamed
    real_fsync = os.fsync

    def fsync(fd):
        print("sync", flush=True)
        time.sleep(2.0)
        real_fsync(fd)

    os.fsync = fsync
rec = read_solution(source)
variants = [rec["u"], rec["u"] * 2.0]
print("ready", flush=True)
k = 0
while True:
    write_solution(
        target,
        coords=rec["coords"],
        values=variants[k % 2],
        exact=rec["exact"],
        architecture=rec["architecture"],
        parameters=rec["parameters"],
        dtype=rec["dtype"],
        problem=rec["problem"],
        training=rec["training"],
        metrics=rec["metrics"],
        provenance={"versions": rec["versions"], "platform": rec["platform"]},
    )
    k += 1
"""
CHECKPOINT_WRITER = """\
import sys

import torch

from neuralpde.training.checkpoint import CHECKPOINT_FORMAT, write_atomic

target = sys.argv[1]
ramp = torch.arange(2**21, dtype=torch.float64)
values = {"A": ramp * 1.0, "B": ramp * -1.0}


def payload(label):
    return {
        "format": CHECKPOINT_FORMAT, "version": 1, "identity": {}, "phase": "adam",
        "position": {}, "net": {"w": values[label]}, "step": 0, "history": {}, "elapsed": 0.0,
        "label": label,
    }


print("ready", flush=True)
k = 0
while True:
    write_atomic(target, payload("AB"[k % 2]))
    k += 1
"""


#: What these campaigns found when they were first run, each since fixed and pinned by a test
#: in tests/repository/test_fuzz.py.
FIXED = [
    "## Found and fixed",
    "",
    "What the first runs of these campaigns found; each is fixed and pinned by a test in "
    "`tests/repository/test_fuzz.py`:",
    "",
    "- **A hang** (damaged files): HDF5, 2.0 included, loops forever reading a global heap "
    "collection that holds an object of size 0, as a block of zeros over a file's string "
    "attributes makes; `load`, `neuralpde info` and the rest never returned. The collections "
    "are now walked in the file's bytes before HDF5 opens it, and such a file is refused.",
    "- **Wrong networks loaded silently** (byte flips and edits of JSON attributes): the content "
    "digest covered the arrays only, so another ω₀ or output scale in `architecture`, another "
    "`dtype` or a reordered `coordinates` loaded as the file written, with another network; "
    "and an edited problem `description` changed how `validate` judges the same network. The "
    "digest (version 2) now covers those attributes; version-1 files load with a warning.",
    "- **Memory** (a huge declared coordinate): `read_grid` and `GridData.from_file` read a "
    "coordinate scale before comparing its length with the grid's: a 25 kB file declaring "
    "2^27 coordinates took 3.3 GB. Its declared length is now checked first.",
    "- **Tracebacks** on damaged files: `RuntimeError` from HDF5 in `read_grid` (damaged "
    "dimension scales, link tables) and in the structure check (a damaged root group); "
    "`AttributeError` in `validate` for a problem description that is not a JSON object of "
    "the expected shape. All are `FormatError`s now.",
    "- **Multi-line errors** on the command line: a problem file's exception with a line break, "
    "PyTorch's list of mismatched tensors. Every error is one line now.",
    "- **Bad arguments accepted or crashing**: `solve(checkpoint_every=-1)` without a "
    "checkpoint was accepted; `Wave(c=1e200)` raised `OverflowError`; a divergence-form "
    "`Heat` diffusivity computed with NumPy raised PyTorch's `RuntimeError`; "
    "`write_solution` with values that are not an array raised `AttributeError`. Each is a "
    "`ValueError` or `TypeError` naming the argument now.",
]


def environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- 1 and 2: inputs and files -------------------------------------------------------------------


def api_campaign(folder: Path, examples: int, seed: int) -> tuple[Tally, float]:
    started = time.perf_counter()
    ws = make_workspace(folder / "workspace")
    tally = run_api_campaign(ws, examples, seed)
    return tally, time.perf_counter() - started


def file_campaign(folder: Path, files: int, seed: int) -> dict[str, Any]:
    """The damaged files, in a subprocess (``python -m tests.fuzzing files``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cmd = [sys.executable, "-m", "tests.fuzzing", "files", "--examples", str(files)]
    cmd += ["--seed", str(seed), "--folder", str(folder / "files")]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=7200
    )
    if proc.returncode != 0:  # a crash of the whole process (a hang dumps its stacks and exits)
        return {
            "crashed": True,
            "returncode": proc.returncode,
            "stderr": proc.stderr[-3000:],
            "files": 0,
            "tally": Tally().as_json(),
        }
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["children_rss"] = max_rss_bytes(resource.RUSAGE_CHILDREN) if after > before else None
    result["crashed"] = False
    return result


# -- 3: kill and resume --------------------------------------------------------------------------


def _parameters(path: Path) -> dict[str, np.ndarray]:
    from neuralpde.io import read_solution

    return read_solution(path)["parameters"]


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes()
        for k in a
    )


def _solve_command(problem: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "neuralpde",
        "solve",
        str(problem),
        "-o",
        str(out),
        "--steps",
        str(RESUME_STEPS),
        "--checkpoint-every",
        "0",
        "--seed",
        "3",
        "-q",
    ]


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name)


def kill_and_resume(folder: Path, loops: int, rng: random.Random) -> dict[str, Any]:
    """``loops`` runs SIGKILLed at a random moment after their checkpoint appears and resumed;
    each network compared bit for bit with the uninterrupted run's."""
    from neuralpde.training.checkpoint import read_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    problem = folder / "problem.py"
    problem.write_text(RESUME_PROBLEM)
    ref = folder / "uninterrupted.h5"
    started = time.perf_counter()
    proc = subprocess.Popen(
        _solve_command(problem, ref), env=environment(), cwd=folder, stdout=subprocess.DEVNULL
    )
    ckpt = Path(f"{ref}.ckpt")
    seen = None
    while proc.poll() is None:
        if seen is None and ckpt.exists():
            seen = time.perf_counter()
        time.sleep(0.01)
    if proc.returncode != 0 or seen is None:
        raise RuntimeError(f"the uninterrupted run failed (exit {proc.returncode})")
    window = first = time.perf_counter() - seen  # from the first checkpoint to the end
    reference = _parameters(ref)
    log(f"uninterrupted run: {time.perf_counter() - started:.1f} s ({window:.1f} s checkpointed)")
    rows: list[dict[str, Any]] = []
    attempts = 0
    while len(rows) < loops and attempts < 3 * loops:
        attempts += 1
        out = folder / f"run{len(rows)}.h5"
        ckpt = Path(f"{out}.ckpt")
        proc = subprocess.Popen(
            _solve_command(problem, out),
            env=environment(),
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not ckpt.exists() and proc.poll() is None:
            time.sleep(0.005)
        delay = rng.uniform(0.0, 0.95 * window)
        time.sleep(delay)
        if proc.poll() is not None:  # it finished first: not a kill; try again, sooner
            out.unlink(missing_ok=True)
            window *= 0.8
            continue
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not ckpt.exists():  # it finished as it was killed: try again, sooner
            out.unlink(missing_ok=True)
            window *= 0.8
            continue
        left = _temporaries(folder)
        step = read_checkpoint(ckpt)["step"]
        resumed = subprocess.run(
            [*_solve_command(problem, out), "--resume"],
            env=environment(),
            cwd=folder,
            capture_output=True,
            text=True,
        )
        same = resumed.returncode == 0 and _same(_parameters(out), reference)
        rows.append(
            {
                "delay": delay,
                "step": step,
                "temporary left by the kill": bool(left),
                "resume exit": resumed.returncode,
                "bit-identical": same,
                "orphans after resume": _temporaries(folder),
                "stderr": resumed.stderr[-500:] if resumed.returncode else "",
            }
        )
        log(f"kill {len(rows)}: at step {step} after {delay:.2f} s; identical: {same}")
        out.unlink(missing_ok=True)
    return {"rows": rows, "attempts": attempts, "window": first, "steps": RESUME_STEPS}


# -- 4: kill during write ------------------------------------------------------------------------


def _solution_digest(path: Path) -> str:
    import neuralpde as npde

    return npde.load(path).record["content_sha256"]


def _checkpoint_digest(path: Path) -> str:
    from neuralpde.training.checkpoint import read_checkpoint

    data = read_checkpoint(path)
    w = data["net"]["w"].numpy()
    return f"{data['label']}:{hashlib.sha256(w.tobytes()).hexdigest()[:16]}"


def kill_during_write(folder: Path, loops: int, rng: random.Random) -> dict[str, Any]:
    """Processes rewriting a solution file (in turn with a checkpoint file) over a good one,
    SIGKILLed at a random moment: the file must stay whole, and the next write must leave no
    temporary file."""
    import neuralpde as npde
    from neuralpde.io import read_solution
    from tests.fuzzing import BASE_PROBLEM

    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "base.h5"
    sol = npde.solve(
        BASE_PROBLEM,
        npde.Siren(width=16, depth=2),
        npde.SobolSampler(n_interior=64, n_boundary=32),
        npde.Trainer(adam_steps=5, lbfgs_steps=0, progress=False),
        monitor=False,
    )
    sol.save(base, n=700)  # two grids of 700 x 700 float64: a file of about 7 MB
    rec = read_solution(base)
    (folder / "write_solution.py").write_text(SOLUTION_WRITER)
    (folder / "write_checkpoint.py").write_text(CHECKPOINT_WRITER)

    def good_solution(target: Path, k: int = 0) -> None:
        write_record(target, rec, u=rec["u"] * (2.0 if k % 2 else 1.0))

    def good_checkpoint(target: Path, k: int = 0) -> None:
        import torch

        from neuralpde.training.checkpoint import CHECKPOINT_FORMAT, write_atomic

        label = "AB"[k % 2]
        w = torch.arange(2**21, dtype=torch.float64) * (1.0 if label == "A" else -1.0)
        payload = {
            "format": CHECKPOINT_FORMAT,
            "version": 1,
            "identity": {},
            "phase": "adam",
            "position": {},
            "net": {"w": w},
            "step": 0,
            "history": {},
            "elapsed": 0.0,
            "label": label,
        }
        write_atomic(target, payload)

    kinds = {
        "solution": (good_solution, _solution_digest, "write_solution.py"),
        "checkpoint": (good_checkpoint, _checkpoint_digest, "write_checkpoint.py"),
    }
    expected: dict[str, set[str]] = {}
    durations: dict[str, float] = {}
    for kind, (write, digest, _) in kinds.items():
        target = folder / kind / "target.h5"
        target.parent.mkdir(exist_ok=True)
        got = set()
        for k in (1, 0):
            t0 = time.perf_counter()
            write(target, k)
            durations[kind] = time.perf_counter() - t0
            got.add(digest(target))
        expected[kind] = got
    rows = []
    for i in range(loops):
        kind = "solution" if i % 2 == 0 else "checkpoint"
        # every other solution writer is killed as it syncs its temporary file, whole and not
        # yet renamed (the moment a random kill of a fast write seldom meets)
        at_sync = kind == "solution" and i % 4 == 2
        write, digest, script = kinds[kind]
        target = folder / kind / "target.h5"
        args = [str(base), str(target)] if kind == "solution" else [str(target)]
        proc = subprocess.Popen(
            [sys.executable, str(folder / script), *args, *(["--at-sync"] if at_sync else [])],
            env=environment(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        if at_sync:
            delay = float(rng.randint(1, 3))  # the n-th write's sync
            for _ in range(int(delay)):
                assert proc.stdout.readline().strip() == "sync"
        else:
            delay = rng.uniform(0.0, 3.0 * durations[kind])
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left = _temporaries(target.parent)
        try:
            whole = digest(target) in expected[kind]
            why = ""
        except Exception as exc:  # the finding: a damaged file
            whole, why = False, f"{type(exc).__name__}: {exc}"
        write(target, i)  # the next write removes what the killed one left
        after = _temporaries(target.parent)
        rows.append(
            {
                "kind": kind,
                "when": f"at the sync of write {int(delay)}" if at_sync else f"after {delay:.2f} s",
                "delay": delay,
                "temporary left by the kill": bool(left),
                "previous file whole": whole,
                "orphans after next write": after,
                "error": why,
            }
        )
        log(f"write kill {i + 1} ({kind}) {rows[-1]['when']}: whole {whole}, left {left}")
    return {"rows": rows, "durations": durations}


# -- the report ----------------------------------------------------------------------------------


def _row(family: str, counts: Counter) -> str:
    bad = sum(counts.get(k, 0) for k in FINDINGS)
    clean = counts.get("clean error", 0) + counts.get("refused", 0)
    ok = sum(n for k, n in counts.items() if k not in FINDINGS) - clean
    return f"| {family} | {sum(counts.values())} | {clean} | {ok} | {bad} |"


def report(args: argparse.Namespace, results: dict[str, Any]) -> str:
    api: Tally = results["api"]
    files = results["files"]
    ftally = Tally.from_json(files["tally"])
    resume, writes = results["resume"], results["writes"]
    lines = [
        "# Robustness",
        "",
        "Measured by `benchmarks/robustness.py` on "
        f"{results['date']} ({platform.platform()}, Python {platform.python_version()}), "
        f"{results['seconds'] / 60:.1f} minutes:",
        "",
        "```",
        results["command"],
        "```",
        "",
        "The strategies live in `tests/fuzzing.py`; `tests/repository/test_fuzz.py` runs a fixed, "
        "bounded sample of them in every test run (1,000+ bad API inputs and command lines, "
        "520 damaged files). An outcome is either a success, a documented error "
        "(`ValueError`/`TypeError`, "
        "`FormatError` for files, `OSError` for paths; exit status 1 or 2 and one line "
        "`neuralpde: error: ...` on the command line, argparse's usage lines above it for a bad "
        "option), or a finding: a traceback, a hang, an exit status or message that breaks "
        "those rules, a file other than the given one opened, a wrong network or reference "
        "loaded without a warning. Findings must be 0.",
        "",
        "## Bad API inputs and command lines",
        "",
        f"{args.examples} examples of each family, {2 * args.examples} command lines "
        f"(seed {args.seed}).",
        "",
        "| family | inputs | refused with a documented error | succeeded | findings |",
        "|---|---:|---:|---:|---:|",
    ]
    for family, counts in api.counts.items():
        lines.append(_row(family, counts))
    total = Counter()
    for counts in api.counts.values():
        total.update(counts)
    lines.append(_row("**all**", total))
    lines += [
        "",
        "## Damaged and crafted files",
        "",
        f"{files['files']} copies of a small solution file and a small reference file, each "
        "changed once, then read by `load`, `read_solution`, `load_reference`, "
        "`read_reference`, `file_kind`, `read_grid`, `GridData.from_file`, `validate` (when it "
        "loads), `neuralpde info` and `neuralpde validate`. A file that loads must hold the "
        "original network (evaluated at 64 points, bit for bit) or reference values, unless it "
        "was rewritten with a valid digest on purpose (crafted) or lost its digest (a warning "
        "is logged). Links, external storage and virtual datasets point at sentinel files "
        "watched with inotify: none may be opened.",
        "",
        "| family | files | refused | loaded, same network or values | loaded otherwise "
        "(crafted, or no digest: warned) | findings |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    all_files = Counter()
    for family, counts in sorted(ftally.counts.items()):
        if family.endswith("calls"):
            continue
        all_files.update(counts)
        refused = sum(n for k, n in counts.items() if k.startswith("refused"))
        same = sum(n for k, n in counts.items() if k.startswith("loaded, same"))
        bad = sum(counts.get(k, 0) for k in FINDINGS)
        other = sum(counts.values()) - refused - same - bad
        lines.append(
            f"| {family} | {sum(counts.values())} | {refused} | {same} | {other} | {bad} |"
        )
    refused = sum(n for k, n in all_files.items() if k.startswith("refused"))
    same = sum(n for k, n in all_files.items() if k.startswith("loaded, same"))
    bad = sum(all_files.get(k, 0) for k in FINDINGS)
    lines.append(
        f"| **all** | {sum(all_files.values())} | {refused} | {same} | "
        f"{sum(all_files.values()) - refused - same - bad} | {bad} |"
    )
    lines += [
        "",
        "Calls made on those files:",
        "",
        "| call | success | documented error | findings |",
    ]
    lines.append("|---|---:|---:|---:|")
    for family in ("reader calls", "validate calls", "command-line calls"):
        counts = ftally.counts.get(family, Counter())
        ok = counts.get("success", 0) + counts.get("fail verdict", 0)
        lines.append(
            f"| {family} | {ok} | {counts.get('clean error', 0)} | "
            f"{sum(counts.get(k, 0) for k in FINDINGS)} |"
        )
    growth = files.get("peak_rss", 0) - files.get("baseline_rss", 0)
    lines += [
        "",
        f"The file campaign ran in its own process ({files.get('seconds', 0):.0f} s): peak "
        f"resident memory {files.get('peak_rss', 0) / 2**20:.0f} MiB, "
        f"{growth / 2**20:.0f} MiB above its {files.get('baseline_rss', 0) / 2**20:.0f} MiB "
        f"after imports and the base files (limit {MEMORY_GROWTH // 2**20} MiB); the process "
        f"{'crashed' if files.get('crashed') else 'did not crash'}; opens were watched with "
        f"{'inotify' if files.get('inotify') else 'access times'}.",
        "",
        "## Kill and resume",
        "",
        f"`neuralpde solve` of a small Poisson problem (SIREN 2 x 8) with {resume['steps']} "
        "steps (40 Adam, 40 L-BFGS, 40 Gauss-Newton), `--checkpoint-every 0`, seed 3, "
        "`OMP_NUM_THREADS=1`, SIGKILLed at a random moment after its first checkpoint appears "
        f"(uniform over the {resume['window']:.1f} s the uninterrupted run took from there, "
        "narrowed by a fifth whenever a run finished first), then continued with `--resume`, "
        "and its network compared with the uninterrupted run's.",
        "",
        "| kill | at step | temporary file left by the kill | resume exit status | "
        "network bit-identical | temporary files after resume |",
        "|---:|---:|---|---:|---|---|",
    ]
    for i, r in enumerate(resume["rows"], 1):
        lines.append(
            f"| {i} | {r['step']} | {'yes' if r['temporary left by the kill'] else 'no'} | "
            f"{r['resume exit']} | {'yes' if r['bit-identical'] else '**no**'} | "
            f"{len(r['orphans after resume'])} |"
        )
    n_same = sum(r["bit-identical"] for r in resume["rows"])
    lines += [
        "",
        f"**{n_same}/{len(resume['rows'])}** resumed runs bit-identical to the uninterrupted "
        f"run ({resume['attempts'] - len(resume['rows'])} runs finished before their kill "
        "and were drawn again).",
        "",
        "## Kill during write",
        "",
        "A process rewriting, over and over, a solution file (two 700 x 700 grids, about "
        f"{writes['durations']['solution']:.2f} s a write) or a checkpoint file (16 MiB, about "
        f"{writes['durations']['checkpoint']:.2f} s), each write of the two contents in turn, "
        "SIGKILLed at a random moment (uniform over three writes), or, every other solution "
        "writer, as it syncs the temporary file of its first, second or third write to disk "
        "(a hook on `os.fsync` in the writer says when: the file is written whole and not yet "
        "renamed); then the file is read (it must load, with the digest of one of the two "
        "contents) and written once more (no temporary file may be left).",
        "",
        "| kill | file | when | temporary file left by the kill | previous file whole | "
        "temporary files after the next write |",
        "|---:|---|---|---|---|---:|",
    ]
    for i, r in enumerate(writes["rows"], 1):
        lines.append(
            f"| {i} | {r['kind']} | {r['when']} | "
            f"{'yes' if r['temporary left by the kill'] else 'no'} | "
            f"{'yes' if r['previous file whole'] else '**no** ' + r['error']} | "
            f"{len(r['orphans after next write'])} |"
        )
    n_whole = sum(
        r["previous file whole"] and not r["orphans after next write"] for r in writes["rows"]
    )
    mid = sum(r["temporary left by the kill"] for r in writes["rows"])
    lines += [
        "",
        f"**{n_whole}/{len(writes['rows'])}** kills left a whole file and no temporary file "
        f"after the next write ({mid} of them killed the writer mid-write, leaving its "
        "temporary file until then).",
        "",
    ]
    findings = api.findings + ftally.findings
    if files.get("crashed"):
        findings.append(f"the file campaign crashed: {files.get('stderr', '')}")
    lines += ["## Findings", ""]
    lines += [f"- {f.splitlines()[0][:400]}" for f in findings] or ["None."]
    lines += ["", *FIXED, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=300, help="API inputs per family")
    ap.add_argument("--files", type=int, default=2000, help="damaged files")
    ap.add_argument("--loops", type=int, default=20, help="kills of each kind")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "robustness.md")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    rng = random.Random(args.seed)
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "command": "OMP_NUM_THREADS=1 nice -n 19 python benchmarks/robustness.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
    }
    with tempfile.TemporaryDirectory(prefix="neuralpde-robustness-") as tmp:
        folder = Path(tmp)
        log(f"API inputs and command lines: {args.examples} per family")
        results["api"], seconds = api_campaign(folder, args.examples, args.seed)
        log(f"... {results['api'].total()} inputs in {seconds:.0f} s")
        log(f"damaged files: {args.files}")
        results["files"] = file_campaign(folder, args.files, args.seed)
        log(f"... {results['files']['files']} files")
        log(f"kill and resume: {args.loops}")
        results["resume"] = kill_and_resume(folder / "resume", args.loops, rng)
        log(f"kill during write: {args.loops}")
        results["writes"] = kill_during_write(folder / "writes", args.loops, rng)
    results["seconds"] = time.perf_counter() - started
    text = report(args, results)
    args.out.write_text(text)
    if args.json:
        raw = {**results, "api": results["api"].as_json()}
        args.json.write_text(json.dumps(raw, indent=1, default=str))
    log(f"wrote {args.out}")
    api, files = results["api"], Tally.from_json(results["files"]["tally"])
    bad = api.total(*FINDINGS) + files.total(*FINDINGS) + int(results["files"]["crashed"])
    bad += sum(not r["bit-identical"] for r in results["resume"]["rows"])
    bad += sum(
        not r["previous file whole"] or bool(r["orphans after next write"])
        for r in results["writes"]["rows"]
    )
    growth = results["files"].get("peak_rss", 0) - results["files"].get("baseline_rss", 0)
    bad += growth > MEMORY_GROWTH
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
