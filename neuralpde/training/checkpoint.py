r"""Checkpoints of a training run: written at an interval and when the run is interrupted, read
to resume it.

A checkpoint holds the whole training state at a step boundary: the field's parameters and
buffers, the phase and the position in it (Adam's moments and schedule, L-BFGS's curvature
pairs, the Levenberg–Marquardt damping and loss weights), the round of collocation points, the
step, the loss, the last finite parameters and the history. Resumed from it, a run takes the
same steps it would have taken uninterrupted: on a CPU with the same seed and threads, and a
budget of steps (a wall-time budget ends wherever the clock says), the result is bit-identical.

The file is written with ``torch.save`` to a temporary file beside it, then renamed over it, so
that a checkpoint is always whole: a writer killed mid-write leaves the previous checkpoint as it
was, and its temporary file is removed by the next writer. It is read with
``torch.load(weights_only=True)``: tensors, numbers, strings, lists and dictionaries only, no
code. It records what it belongs to (:func:`identity`); a resume with another problem or other
settings is refused, naming what differs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from ..io.atomic import replace_atomically

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpointer",
    "CheckpointError",
    "read_checkpoint",
    "check_resumable",
    "interrupts_caught",
    "stop_requested",
]

log = logging.getLogger("neuralpde.training")

CHECKPOINT_FORMAT = "neuralpde-checkpoint"
CHECKPOINT_VERSION = 1

_STOP = threading.Event()


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not belong to the run that would resume it."""


def stop_requested() -> bool:
    """Whether SIGINT or SIGTERM arrived while :func:`interrupts_caught` was active."""
    return _STOP.is_set()


@contextlib.contextmanager
def interrupts_caught(active: bool = True) -> Iterator[None]:
    """While active (and in the main thread), SIGINT and SIGTERM ask the run to stop at its next
    step boundary (:func:`stop_requested`) instead of killing it; a second signal acts as
    usual. The handlers before are restored on exit."""
    _STOP.clear()
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: object) -> None:
        _STOP.set()
        log.warning(
            "%s: stopping at the next step boundary and writing a checkpoint (again to stop "
            "at once)",
            signal.Signals(signum).name,
        )
        for sig, h in old.items():  # a second signal is not caught
            signal.signal(sig, h)

    for sig in old:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
        _STOP.clear()


def write_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    """``torch.save(payload)`` to ``path``, whole or not at all
    (:func:`neuralpde.io.atomic.replace_atomically`)."""
    replace_atomically(Path(path), lambda fh: torch.save(dict(payload), fh))


def identity(description: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a checkpoint belongs to: the problem's description (with its fingerprint) and the
    settings that decide the steps (field, sampler, trainer but its budget, seed, dtype), as
    JSON holds them, so that the identity written and the one compared with it are alike."""
    kept = {k: settings[k] for k in ("field", "sampler", "seed", "dtype") if k in settings}
    trainer = dict(settings.get("trainer", {}))
    for k in ("seconds", "progress", "lbfgs_steps", "gauss_newton_steps", "log_every"):
        trainer.pop(k, None)  # a resumed run may be given another budget (not Adam's steps,
        # which set its schedule)
    kept["trainer"] = trainer
    return json.loads(json.dumps({"problem": dict(description), "settings": kept}, default=str))


def check_resumable(saved: Mapping[str, Any], wanted: Mapping[str, Any], path: str) -> None:
    """Raise :class:`CheckpointError` naming what differs between the identity a checkpoint
    records and the run's."""
    diffs: list[str] = []
    for part in ("problem", "settings"):
        _differences(saved.get(part, {}), wanted.get(part, {}), part, diffs)
    if diffs:
        raise CheckpointError(
            f"checkpoint {path!r} belongs to another run, so it cannot be resumed: "
            + "; ".join(diffs)
            + " (start afresh without --resume, or restore the problem and settings)"
        )


def _differences(a: object, b: object, where: str, out: list[str], depth: int = 0) -> None:
    """Append to ``out`` where ``a`` and ``b`` differ, by key down to a few levels."""
    if a == b:
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping) and depth < 3:
        for key in sorted(set(a) | set(b), key=str):
            _differences(a.get(key), b.get(key), f"{where}.{key}", out, depth + 1)
        return
    out.append(f"{where} is {_short(a)} in the checkpoint, now {_short(b)}")


def _short(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 120 else text[:117] + "..."


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint at ``path``; :class:`CheckpointError` naming the file when it is missing,
    damaged or not a checkpoint."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"no checkpoint at {str(p)!r} to resume from")
    try:
        data = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged or foreign file: unpickling errors of many kinds
        raise CheckpointError(
            f"checkpoint {str(p)!r} cannot be read ({type(exc).__name__}: {exc}); it is damaged "
            "or not a neuralpde checkpoint"
        ) from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{str(p)!r} is not a neuralpde checkpoint")
    if data.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint {str(p)!r} has version {data.get('version')!r}; this neuralpde reads "
            f"version {CHECKPOINT_VERSION}"
        )
    for key in ("identity", "phase", "position", "net", "step", "history", "elapsed"):
        if key not in data:
            raise CheckpointError(f"checkpoint {str(p)!r} lacks its entry {key!r}")
    return data


class Checkpointer:
    """Writes a run's checkpoints to ``path``: at a step boundary when ``every`` seconds have
    passed since the last one (every boundary for 0), and when the run is stopped."""

    def __init__(self, path: str | os.PathLike, every: float, ident: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.every = float(every)
        self.identity = dict(ident)
        self.last = time.perf_counter()
        self.written = 0

    def due(self) -> bool:
        return time.perf_counter() - self.last >= self.every

    def write(self, state: Any, phase: str, position: Mapping[str, Any]) -> None:
        """Write the run's state (a :class:`~neuralpde.training.phases.TrainingState`) as it
        is after a step of ``phase``, at ``position`` in it."""
        guard = state.guard
        payload = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "identity": self.identity,
            "phase": phase,
            "position": dict(position),
            "round": state.round,
            "net": {k: v.detach().cpu() for k, v in state.net.state_dict().items()},
            "step": state.step,
            "loss": state.loss,
            "weights": list(state.weights),
            "guard": {
                "net": {k: v.cpu() for k, v in guard.good.items()},
                "loss": guard.good_loss,
                "step": guard.good_step,
            },
            "history": {k: list(v) for k, v in state.history.items()},
            "timings": dict(state.timings),
            "elapsed": time.perf_counter() - state.start,
        }
        write_atomic(self.path, payload)
        self.last = time.perf_counter()
        self.written += 1
        log.debug("checkpoint %d written to %s at step %d", self.written, self.path, state.step)
