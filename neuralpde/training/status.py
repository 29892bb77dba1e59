"""Why a training run stopped: :class:`Status`, with its message."""

from __future__ import annotations

from enum import Enum

__all__ = ["Status"]


class Status(str, Enum):
    """Why a run stopped. A ``str`` (``Status.DIVERGED == "diverged"``), so that records and
    files keep the plain words; :attr:`message` says what happened and what to do."""

    CONVERGED = "converged"
    STEP_BUDGET = "step_budget"
    TIME_BUDGET = "time_budget"
    DIVERGED = "diverged"
    STALLED = "stalled"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def message(self) -> str:
        """What happened, and what to do for a smaller loss."""
        return _MESSAGES[self]

    @property
    def is_result(self) -> bool:
        """Whether the field is a result (to be written): not after a divergence or a stop."""
        return self not in (Status.DIVERGED, Status.INTERRUPTED)


_MESSAGES = {
    Status.CONVERGED: "the loss reached the tolerance",
    Status.STEP_BUDGET: "all steps done; raise the step budget for a smaller loss",
    Status.TIME_BUDGET: "the wall-time budget was spent; raise it for a smaller loss",
    Status.DIVERGED: "the loss became non-finite; the last finite parameters were kept. Lower "
    "the learning rate or use float64",
    Status.INTERRUPTED: "the run was stopped by a signal; its state is in the checkpoint, from "
    "which it can be resumed",
    Status.STALLED: "the optimizer could no longer lower the loss (L-BFGS over a chunk of "
    "iterations, or Gauss-Newton at any damping), the limit of this field in this precision: "
    "more steps would not help; for a smaller loss use float64 or change the field",
}
