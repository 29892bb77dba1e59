"""The tensors of a fit (training and held-out points, normalised values) and the network's
values, gradients and relative errors on them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._data import Data

__all__ = ["EVAL_CHUNK", "FitProblem", "evaluate", "gradient", "prepare", "relative"]

#: points per forward pass when evaluating
EVAL_CHUNK = 65536


@dataclass
class FitProblem:
    """The tensors of a fit: training and held-out points, normalised targets, row factors."""

    x_train: torch.Tensor
    v_train: torch.Tensor  # (v - mean) / scale
    x_hold: torch.Tensor
    v_hold: np.ndarray  # raw values
    train_values: np.ndarray  # raw values
    mean: float
    scale: float
    rms: float
    g_train: torch.Tensor | None = None  # normalised FD gradient (gradient supervision)
    g_rms: float = 1.0
    g_hold: np.ndarray | None = None


def prepare(data: Data, holdout: float, seed: int, supervise: str | None) -> FitProblem:
    n = len(data.values)
    rng = np.random.default_rng([seed, 1])
    perm = rng.permutation(n)
    n_hold = int(round(holdout * n))
    if holdout > 0 and n - n_hold < 2:
        raise ValueError(f"holdout={holdout} leaves fewer than 2 of the {n} points to train on")
    hold, train = perm[:n_hold], perm[n_hold:]
    v = data.values
    rms = float(np.sqrt(np.mean(v**2)))
    if rms == 0:
        raise ValueError(
            f"data {data.source!r}: every value is 0; a relative error is undefined (the zero "
            "field needs no network)"
        )
    mean = float(v.mean())
    scale = float(v.std())
    if not scale > 1e-8 * rms:  # constant data
        scale = rms
    t = torch.as_tensor
    prob = FitProblem(
        x_train=t(data.points[train]),
        v_train=t((v[train] - mean) / scale),
        x_hold=t(data.points[hold]),
        v_hold=v[hold],
        train_values=v[train],
        mean=mean,
        scale=scale,
        rms=rms,
    )
    if supervise == "gradient":
        grads = np.gradient(v.reshape(data.shape), *data.axes, edge_order=2)
        grads = grads if isinstance(grads, (list, tuple)) else [grads]
        g = np.column_stack([gi.reshape(-1) for gi in grads])
        g_rms = float(np.sqrt(np.mean(np.sum(g**2, axis=1))))
        prob.g_train = t(g[train] / scale)
        prob.g_rms = g_rms / scale if g_rms > 0 else 1.0
        prob.g_hold = g[hold]
    return prob


def evaluate(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    """The network's (normalised) output at ``x``, without a graph."""
    out = []
    with torch.no_grad():
        for i in range(0, x.shape[0], EVAL_CHUNK):
            out.append(net(x[i : i + EVAL_CHUNK])[:, 0])
    return torch.cat(out).numpy() if out else np.zeros(0)


def gradient(net: nn.Module, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    xr = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(net(xr)[:, 0].sum(), xr, create_graph=create_graph)
    return g


def relative(u: np.ndarray, v: np.ndarray) -> float:
    """Relative L2 error of ``u`` against ``v`` (NaN for no points)."""
    if len(v) == 0:
        return math.nan
    norm = float(np.linalg.norm(v))
    return float(np.linalg.norm(u - v) / norm) if norm > 0 else float(np.linalg.norm(u - v))
