"""The fitted field: its metrics, its record of the training, and its solution file."""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import limits, metrics
from .._arguments import check_int, check_path
from ..fields import check_architecture
from ..io import write_solution
from ..io.hdf5 import check_writable
from ..io.provenance import versions
from ..solution import NeuralField, grid_points
from ._data import Data
from ._problem import FitProblem, evaluate, gradient, relative
from ._train import Size

__all__ = ["FittedField", "build_result"]

log = logging.getLogger("neuralpde.fit")


class FittedField(NeuralField):
    """A field fitted to data by :func:`fit`: callable on ``(N, d)`` points like any
    :class:`~neuralpde.NeuralField`; :meth:`save` writes it as a solution file.

    Attributes: ``metrics`` (``compression_ratio``, ``parameters``, ``values``, and the
    relative L2 errors ``relative_l2_train`` on the data trained on, ``relative_l2_holdout``
    on the held-out points (NaN without), ``relative_l2``, ``relative_max`` and ``rmse`` on all
    of them; with gradient supervision ``relative_l2_gradient``), ``status``
    (``"converged"``: the target was met; ``"time_budget"``, ``"stalled"``), ``message``,
    ``history``, ``settings``, ``seed``, ``timings``, ``data``."""

    def __init__(
        self,
        net: nn.Module,
        architecture: Mapping,
        data: Data,
        metrics: Mapping[str, float],
        record: Mapping[str, Any],
    ) -> None:
        super().__init__(net, data.names, architecture)
        self.data = data
        self.metrics = dict(metrics)
        self.status = str(record["status"])
        self.message = str(record["message"])
        self.history = dict(record["history"])
        self.settings = dict(record["settings"])
        self.seed = int(record["seed"])
        self.steps = int(record["steps"])
        self.timings = dict(record["timings"])

    @property
    def compression_ratio(self) -> float:
        return self.metrics["compression_ratio"]

    def summary(self) -> str:
        """One line: the size, the compression and the errors."""
        m = self.metrics
        held = m["relative_l2_holdout"]
        return (
            f"{self.settings['field_text']}: {int(m['parameters'])} numbers for "
            f"{int(m['values'])} values, compression {m['compression_ratio']:.1f}x; relative L2 "
            f"error {m['relative_l2_train']:.2e} on the data used"
            + (f", {held:.2e} held out" if math.isfinite(held) else "")
            + f" ({self.status})"
        )

    def description(self) -> dict:
        """The problem description the file stores: the source file's problem (a neuralpde
        solution or reference, so that ``validate --reference`` finds its reference), else
        the data's bounding box; with an entry ``data_fit`` saying what was fitted."""
        d = self.data
        fitted = {
            "source": os.path.basename(d.source),
            "dataset": d.dataset,
            "kind": "grid" if d.gridded else "points",
            "shape": list(d.shape),
        }
        if d.description is not None and list(d.names) == d.description.get("coordinates"):
            desc = {k: v for k, v in d.description.items() if k != "coordinates"}
            return {**desc, "data_fit": fitted}
        lo, hi = d.lower.tolist(), d.upper.tolist()
        return {
            "name": f"fit of {os.path.basename(d.source)}" + (f":{d.dataset}" if d.dataset else ""),
            "domain": {"type": "Box", "names": list(d.names), "lower": lo, "upper": hi},
            "equation": {"type": "DataFit", "latex": r"u \approx \text{data}"},
            "conditions": [],
            "data_fit": fitted,
        }

    def save(self, path: str | os.PathLike, n: int | Sequence[int] | None = None) -> Path:
        """Write the field as a solution file (:mod:`neuralpde.io.hdf5`); returns the path.

        ``/u`` holds the field on the data's grid, and ``/exact`` the data there (so that
        ``neuralpde validate FILE --exact`` compares the two); with ``n`` (points per axis), or
        for scattered data, on a uniform grid of the bounding box instead (default
        :func:`neuralpde.metrics.dense_grid_size`), without ``/exact``; for scattered data NaN
        at grid points farther from every data point than 3 times their spacing (the 95th
        percentile of the distances between nearest data points)."""
        check_path(path)
        check_writable(path)
        check_architecture(self.architecture)
        d = self.data
        exact = None
        if d.gridded and n is None:
            axes = d.axes
            exact = d.values.reshape(d.shape)
        else:
            counts = metrics.dense_grid_size(d.dim) if n is None else n
            counts = [counts] * d.dim if isinstance(counts, (int, np.integer)) else list(counts)
            if len(counts) != d.dim:
                raise ValueError(f"n must be one count or {d.dim}, got {n!r}")
            counts = [check_int(c, "n", 2, limits.MAX_GRID_NODES) for c in counts]
            axes = tuple(
                np.linspace(a, b, c) for a, b, c in zip(d.lower, d.upper, counts, strict=True)
            )
        values = self.on_grid(axes)
        if not d.gridded:
            values = np.where(_near_data(d.points, grid_points(axes)), values.ravel(), np.nan)
            values = values.reshape(tuple(len(a) for a in axes))
        vers = versions()
        params = {k: v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        return write_solution(
            path,
            coords=dict(zip(self.names, axes, strict=True)),
            values=values,
            exact=exact,
            architecture=self.architecture,
            parameters=params,
            dtype="float64",
            problem=self.description(),
            training={
                "history": self.history,
                "status": self.status,
                "message": self.message,
                "seed": self.seed,
                "steps": self.steps,
                "timings": self.timings,
                "settings": self.settings,
            },
            metrics=self.metrics,
            provenance={
                "neuralpde": vers["neuralpde"],
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "versions": vers,
                "platform": platform.platform(),
            },
        )


def _near_data(points: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Whether each grid point lies within 3 times the data's spacing (the 95th percentile of
    the distances between nearest data points) of a data point."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    spacing, _ = tree.query(points, k=2)
    h = float(np.percentile(spacing[:, 1], 95))
    dist, _ = tree.query(grid)
    return dist <= 3.0 * h + 1e-12 * float(np.ptp(points, axis=0).max())


def _subset_text(size: Size) -> str:
    if size.rows >= len(size.order):
        return ""
    return " (a new subset every 2 steps" + (
        ", then L-BFGS)" if size.rows < 2 * size.count else ")"
    )


def _fold_output(net: nn.Module, mean: float, scale: float) -> None:
    """Make ``net`` output ``mean + scale * net(x)``: the output layer's weights times
    ``scale``, its bias ``scale * b + mean``."""
    out = net.net.out
    with torch.no_grad():
        out.weight.mul_(scale)
        out.bias.mul_(scale).add_(mean)


def build_result(
    size: Size,
    tried: list[Size],
    data: Data,
    prob: FitProblem,
    freqs: list[float],
    target: float | None,
    seconds: float,
    holdout: float,
    supervise: str | None,
    seed: int,
    started: float,
) -> FittedField:
    """The :class:`FittedField` of the chosen ``size`` (its output scaled back to the data's
    values), with its metrics and the record of the fit (``tried``: every size trained)."""
    net = size.net
    _fold_output(net, prob.mean, prob.scale)
    m = _metrics(size, data, prob)
    spec = size.spec
    architecture = {
        "field": spec.describe(),
        "in_features": data.dim,
        "input_scaling": {"lower": data.lower.tolist(), "upper": data.upper.tolist()},
    }
    field_text = f"SIREN {spec.depth}x{spec.width} w0={spec.w0:.3g}"
    status, message = _status(size, tried, prob, target, field_text)
    settings = _settings(
        size, tried, data, prob, freqs, field_text, target, seconds, holdout, supervise
    )
    h = size.history
    history = {k: np.asarray(h[k], dtype=np.float64) for k in ("step", "time", "loss", "monitor")}
    history["phase"] = list(h["phase"])
    total = time.perf_counter() - started
    record = {
        "status": status,
        "message": message,
        "history": history,
        "settings": settings,
        "seed": seed,
        "steps": size.steps,
        "timings": {"total": total, "training": sum(s.seconds for s in tried)},
    }
    fitted = FittedField(net, architecture, data, m, record)
    log.info("%s", fitted.summary())
    return fitted


def _metrics(size: Size, data: Data, prob: FitProblem) -> dict[str, float]:
    """The compression ratio and the relative errors of the (output-folded) network."""
    net = size.net
    u_train = evaluate(net, prob.x_train)
    u_hold = evaluate(net, prob.x_hold)
    u_all = evaluate(net, torch.as_tensor(data.points))
    n_values = len(data.values)
    m = {
        "compression_ratio": n_values / size.count,
        "parameters": float(size.count),
        "values": float(n_values),
        "relative_l2_train": relative(u_train, prob.train_values),
        "relative_l2_holdout": relative(u_hold, prob.v_hold),
        **metrics.summary(u_all, data.values),
    }
    if prob.g_train is not None:
        g_net = torch.cat([gradient(net, prob.x_hold), gradient(net, prob.x_train)]).numpy()
        g_data = np.concatenate([prob.g_hold, prob.g_train.numpy() * prob.scale])
        m["relative_l2_gradient"] = relative(g_net.ravel(), g_data.ravel())
    return m


def _status(
    size: Size, tried: list[Size], prob: FitProblem, target: float | None, field_text: str
) -> tuple[str, str]:
    """The fit's status and message; a warning when the ``target`` was not met."""
    if size.status == "converged":
        status = "converged"
    else:  # why the last size tried stopped: the budget, or no step lowered the misfit
        status = "stalled" if tried[-1].status == "stalled" else "time_budget"
    if target is not None and status != "converged":
        where = "held-out" if len(prob.v_hold) else "training"
        message = (
            f"the target {target:g} was not met: the best {where} error is {size.best:.3e} "
            f"({field_text}); give more seconds, or a larger width"
        )
        log.warning("%s", message)
    elif status == "converged":
        message = f"the target {target:g} was met"
    else:
        message = f"trained until {status.replace('_', ' ')}"
    return status, message


def _settings(
    size: Size,
    tried: list[Size],
    data: Data,
    prob: FitProblem,
    freqs: list[float],
    field_text: str,
    target: float | None,
    seconds: float,
    holdout: float,
    supervise: str | None,
) -> dict[str, Any]:
    """The settings the file records: the field, the rows, the options, every size tried."""
    n_values = len(data.values)
    return {
        "field": size.spec.describe(),
        "field_text": field_text,
        "dtype": "float64",
        "derived": (
            f"{field_text}, {size.rows} rows of {len(prob.v_train)} training points"
            f"{_subset_text(size)}, {len(prob.v_hold)} held out, "
            f"Levenberg-Marquardt float64, budget {seconds:g} s"
        ),
        "target": target,
        "seconds": seconds,
        "holdout": holdout,
        "supervise": supervise,
        "rows": size.rows,
        "subsets": size.rows < len(prob.v_train),
        "frequencies": freqs,
        "normalization": {"mean": prob.mean, "scale": prob.scale},
        "data": {
            "source": data.source,
            "dataset": data.dataset,
            "kind": "grid" if data.gridded else "points",
            "shape": list(data.shape),
        },
        "sizes": [
            {
                "width": s.spec.width,
                "depth": s.spec.depth,
                "parameters": s.count,
                "compression_ratio": n_values / s.count,
                "error": s.best,
                "steps": s.steps,
                "seconds": s.seconds,
                "status": s.status,
            }
            for s in tried
        ],
        "device": "cpu",
        "threads": torch.get_num_threads(),
    }
