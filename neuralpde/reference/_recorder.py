"""The time levels an evolution solver keeps (:class:`Recorder`): the full grid at chosen steps,
or sub-grids for a convergence study."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ._grid import Grid

__all__ = ["Recorder", "recorder", "recorded"]


class Recorder:
    """Copies of the solution at chosen steps, on chosen sub-grids.

    ``requests`` maps a name to ``(steps, stride)``: at each of ``steps`` the nodes
    ``[::stride]`` along every axis are copied into ``values[name][step]``. A convergence study
    keeps only what it compares and stores (at the coarsest grid's time levels), not every
    level's full history.
    """

    def __init__(
        self, shape: tuple[int, ...], requests: dict[str, tuple[Iterable[int], int]]
    ) -> None:
        self.shape = tuple(shape)
        self._requests = [
            (name, {int(k) for k in steps}, (slice(None, None, int(stride)),) * len(shape))
            for name, (steps, stride) in requests.items()
        ]
        self.values: dict[str, dict[int, np.ndarray]] = {name: {} for name in requests}

    def __call__(self, step: int, u: np.ndarray) -> None:
        for name, steps, sub in self._requests:
            if step in steps:
                self.values[name][step] = u.reshape(self.shape)[sub].copy()


def recorder(grid: Grid, keep: np.ndarray | Recorder) -> Recorder:
    """``keep`` itself when a :class:`Recorder`, else one of the full grid at the steps ``keep``."""
    if isinstance(keep, Recorder):
        return keep
    return Recorder(grid.shape, {"full": (keep, 1)})


def recorded(keep: np.ndarray | Recorder, record: Recorder) -> dict:
    """What ``record`` kept: all of its ``values``, or (for steps ``keep``) the full grid's."""
    return record.values if isinstance(keep, Recorder) else record.values["full"]
