"""Checkpoints: written while training and on SIGINT/SIGTERM, resumed bit-identically, refused for
another run, never left half-written."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import neuralpde as npde
from neuralpde.cli import main
from neuralpde.fields import InputScaling
from neuralpde.training.checkpoint import (
    Checkpointer,
    CheckpointError,
    read_checkpoint,
    stop_requested,
    write_atomic,
)

from ..conftest import ROOT

B1 = str(ROOT / "problems" / "poisson2d_sine.py")
FIELD = npde.Siren(width=8, depth=2, w0=1.5)
SAMPLER = npde.SobolSampler(n_interior=100, n_boundary=64)


def _problem(a: float = 1.0) -> npde.Problem:
    return npde.Problem(
        npde.Rectangle((0.0, 0.0), (1.0, 1.0)),
        npde.Poisson(f=lambda x: a * torch.sin(torch.pi * x[:, 0]) * torch.sin(torch.pi * x[:, 1])),
        [npde.Dirichlet(0.0)],
        name="ck",
    )


def _solve(trainer: npde.Trainer, **kw) -> npde.Solution:
    return npde.solve(_problem(kw.pop("a", 1.0)), FIELD, SAMPLER, trainer, seed=3, **kw)


def _same(a: npde.Solution, b: npde.Solution) -> bool:
    sa, sb = a.net.state_dict(), b.net.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class _Interrupt:
    """A stand-in for the user's Ctrl-C: SIGINT to this process at the ``after``-th call."""

    def __init__(self, after: int) -> None:
        self.after, self.calls = after, 0

    def __call__(self) -> bool:
        self.calls += 1
        if self.calls == self.after:
            os.kill(os.getpid(), signal.SIGINT)
        return stop_requested()


@pytest.mark.parametrize(
    ("trainer", "stop_at"),
    [
        (npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=30, progress=False), 11),
        (npde.Trainer(adam_steps=30, lbfgs_steps=40, log_every=7, progress=False), 17),
        (npde.Trainer(adam_steps=30, lbfgs_steps=40, log_every=7, progress=False), 31),
        (npde.Trainer(adam_steps=5, lbfgs_steps=5, gauss_newton_steps=20, progress=False), 13),
    ],
    ids=["gauss-newton", "adam", "lbfgs", "all-three"],
)
def test_an_interrupted_run_resumes_bit_identically(tmp_path, monkeypatch, trainer, stop_at):
    whole = _solve(trainer)
    path = tmp_path / "run.ckpt"
    monkeypatch.setattr("neuralpde.training.phases.stop_requested", _Interrupt(stop_at))
    stopped = _solve(trainer, checkpoint=path, checkpoint_every=3600)
    assert stopped.status == "interrupted" and 0 < stopped.result.steps < whole.result.steps
    with pytest.raises(ValueError, match="interrupted .* not written as a result"):
        stopped.save(tmp_path / "no.h5")
    assert not (tmp_path / "no.h5").exists()
    saved = read_checkpoint(path)
    assert saved["step"] == stopped.result.steps  # written when the signal came, not before
    monkeypatch.undo()
    resumed = _solve(trainer, checkpoint=path, resume=True)
    assert resumed.status == whole.status and resumed.result.steps == whole.result.steps
    assert _same(resumed, whole)
    assert resumed.history["loss"][-1] == whole.history["loss"][-1]
    assert resumed.history["step"] == whole.history["step"]


def test_a_real_signal_stops_at_a_step_boundary_and_handlers_are_restored(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    trainer = npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=25, progress=False)
    net_calls = {"n": 0}

    def monitor(net: torch.nn.Module) -> float:
        net_calls["n"] += 1
        if net_calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return 0.0

    problem = _problem()
    lo, hi = problem.domain.bounds
    torch.manual_seed(0)
    net = InputScaling(FIELD.build(2), lo.tolist(), hi.tolist()).double()
    writer = Checkpointer(tmp_path / "c.ckpt", 3600, {"problem": {}, "settings": {}})
    out = dataclasses.replace(trainer, log_every=5).fit(
        net, problem, SAMPLER, monitor=monitor, checkpoint=writer
    )
    assert out.status == "interrupted" and out.steps == 5 and writer.written == 1
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.getsignal(signal.SIGTERM) is not None


def test_a_checkpoint_of_another_run_is_refused_naming_the_difference(tmp_path):
    trainer = npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=3, progress=False)
    path = tmp_path / "run.ckpt"
    _solve(trainer, checkpoint=path, checkpoint_every=0)
    with pytest.raises(CheckpointError, match=r"problem.fingerprint is '[0-9a-f]+.*' in the chec"):
        _solve(trainer, checkpoint=path, resume=True, a=2.0)  # same text, another value
    wider = npde.Siren(width=9, depth=2, w0=1.5)
    with pytest.raises(
        CheckpointError, match=r"settings.field.width is 8 in the checkpoint, now 9"
    ):
        npde.solve(_problem(), wider, SAMPLER, trainer, seed=3, checkpoint=path, resume=True)
    with pytest.raises(CheckpointError, match=r"settings.seed is 3 in the checkpoint, now 4"):
        npde.solve(_problem(), FIELD, SAMPLER, trainer, seed=4, checkpoint=path, resume=True)
    # a larger step budget is the same run, continued
    more = dataclasses.replace(trainer, gauss_newton_steps=6)
    assert _solve(more, checkpoint=path, resume=True).result.steps == 6


def test_checkpoint_arguments_and_damaged_files(tmp_path):
    trainer = npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=2, progress=False)
    with pytest.raises(ValueError, match="resume=True needs checkpoint=PATH"):
        _solve(trainer, resume=True)
    with pytest.raises(ValueError, match="checkpoint_every must be a number of seconds >= 0"):
        _solve(trainer, checkpoint=tmp_path / "c", checkpoint_every=-1)
    with pytest.raises(TypeError, match="checkpoint must be a file path or None, got int"):
        _solve(trainer, checkpoint=3)
    with pytest.raises(CheckpointError, match="no checkpoint at .* to resume from"):
        _solve(trainer, checkpoint=tmp_path / "none.ckpt", resume=True)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"\x80\x04not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read .* damaged or not a neuralpde"):
        read_checkpoint(junk)
    torch.save({"format": "something else"}, junk)
    with pytest.raises(CheckpointError, match="is not a neuralpde checkpoint"):
        read_checkpoint(junk)


def test_a_failed_write_keeps_the_previous_checkpoint_and_orphans_are_removed(
    tmp_path, monkeypatch
):
    path = tmp_path / "c.ckpt"
    write_atomic(path, {"format": "x", "n": 1})
    orphan = tmp_path / ".c.ckpt.999999999-abc.tmp"  # a writer killed mid-write
    orphan.write_bytes(b"half")
    before = path.read_bytes()

    def failing_save(obj, fh):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, {"format": "x", "n": 2})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.ckpt"]


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            pytest.fail(f"no checkpoint appeared: {proc.communicate()}")
        time.sleep(0.05)


@pytest.mark.slow
def test_cli_sigint_then_resume(tmp_path, capsys):
    problem_file = tmp_path / "small.py"
    problem_file.write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        import neuralpde as npde
        exec(Path({B1!r}).read_text())
        field = npde.Siren(width=8, depth=2, w0=1.5)
        sampler = npde.SobolSampler(n_interior=100, n_boundary=64)
        trainer = npde.Trainer(adam_steps=0, lbfgs_steps=0, gauss_newton_steps=400)
        """)
    )
    out = tmp_path / "u.h5"
    ckpt = Path(f"{out}.ckpt")
    assert main(["solve", str(problem_file), "-o", str(out), "--resume", "-q"]) == 2
    assert "--resume: no checkpoint" in capsys.readouterr().err
    cmd = [sys.executable, "-m", "neuralpde", "solve", str(problem_file), "-o", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [*cmd, "--checkpoint-every", "0", "-q"], env=env, stdout=subprocess.PIPE, text=True
    )
    _wait_for(ckpt, proc)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout
    assert "not written: the run was stopped" in stdout and "--resume" in stdout
    assert not out.exists() and ckpt.exists()
    stopped_at = read_checkpoint(ckpt)["step"]
    assert 0 < stopped_at < 400
    assert main(["solve", str(problem_file), "-o", str(out), "--resume", "-q"]) == 0
    assert out.exists() and not ckpt.exists()  # the result supersedes the checkpoint
    assert npde.load(out).record["training"]["steps"] == 400


def test_temporary_files_of_killed_solution_writers_are_removed(tmp_path):
    """A writer SIGKILLed mid-write leaves its temporary file (named with its process id) and the
    previous file intact; the next write of that file removes the temporary files of writers
    that no longer run, keeps those of running ones, and of files named otherwise those under an
    hour old."""
    sol = _solve(npde.Trainer(adam_steps=2, lbfgs_steps=0, progress=False))
    out = sol.save(tmp_path / "u.h5", n=9)
    before = out.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = tmp_path / ".u.h5.999999999-x1.tmp"
        running = tmp_path / f".u.h5.{proc.pid}-x2.tmp"
        young = tmp_path / ".u.h5.abcdefgh.tmp"
        old = tmp_path / ".u.h5.ijklmnop.tmp"
        for p in (dead, running, young, old):
            p.write_bytes(b"half a file")
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        assert out.read_bytes() == before  # they do not touch the file itself
        sol.save(out, n=9)
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted(["u.h5", "u.xdmf", running.name, young.name])  # with its sidecar
    finally:
        proc.kill()
        proc.wait()
