"""DeepXDE side of the neuralpde vs DeepXDE time-to-accuracy benchmark.

Solves one of the benchmark problems B1-B4 with DeepXDE 1.15 (PyTorch backend) and records the
relative L2 error against the exact solution as a function of training wall time, with one of two
sets of settings:

* ``--settings documented`` (default): the settings of DeepXDE's own documented examples (float32,
  soft boundary/initial conditions), as below;
* ``--settings tuned``: what a skilled DeepXDE user would do by hand: hard constraints through
  ``net.apply_output_transform`` (the boundary data, initial value and initial velocity built into
  the network's output, so that only the PDE residual is a loss term), a tanh FNN 4 x 50 (B2: the
  sine FNN 3 x 150 of DeepXDE's own hard-constraint Helmholtz example), Glorot uniform, float64,
  Adam (lr 1e-3) then L-BFGS (see ``TUNED``).

    python benchmarks/deepxde_cases.py --case B1 --seconds 300 --seed 0
    python benchmarks/deepxde_cases.py --case B1 --seconds 300 --settings tuned

Cases (exact solutions as in problems/*.py):

    B1 poisson2d_sine  -Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary
    B2 helmholtz2d     Δu + k²u = f on [-1, 1]², k = 1, u = sin(πx) sin(4πy)
    B3 heat2d          u_t = κΔu on [0, 1]² × [0, 1], κ = 1/(2π²)
    B4 wave1d          u_tt = 4 u_xx on [0, 1] × [0, 1], u_t(x, 0) = 0

Documented settings: plain FNN (tanh, Glorot initialization), soft boundary/initial conditions.
In both modes Adam runs for the settings' number of iterations or 30% of the budget, whichever
comes first, then L-BFGS for the rest of the budget; the whole run stops at --seconds of training
time. L-BFGS runs in chunks of about one second (DeepXDE's loop only checks for a stop between
chunks); if DeepXDE declares it converged while time is left, it is compiled again and continues
(a restart that makes no progress ends the run). --float float32/float64 replaces the mode's
precision (float32 documented, float64 tuned), e.g. to compare with hand-tuned float32 figures.

CPU threads: --threads (default 2). On a machine with other CPU load, two GNU OpenMP threads that
spin while waiting can make each step orders of magnitude slower; set OMP_WAIT_POLICY=PASSIVE in
the environment (for both sides of the comparison) or run on an idle machine.

Output: the LAST line of stdout is one JSON object
    {"case", "curve": [[t_seconds, rel_l2], ...], "final_error", "steps", "deepxde_version",
     "mode", "settings"}
where t_seconds is training wall time excluding the time spent measuring the error, and rel_l2 is
||u - u*||_2 / ||u*||_2 on a uniform grid (200 points per axis in 2-D, 64 per axis for B3).
Everything DeepXDE prints goes to stderr.

Requires DeepXDE: pip install -e ".[peers]"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time

import numpy as np
import torch

from neuralpde.cli import int_at_least, positive_number

PI = math.pi
ADAM_FRACTION = 0.3  # Adam gets at most this share of the budget; L-BFGS gets the rest.
RECORD_EVERY = 1.0  # seconds of training time between two points of the curve
EVAL_CHUNK = 65536  # test points per forward pass when measuring the error
MODES = ("documented", "tuned")  # --settings

# ---------------------------------------------------------------------------------------------
# Exact solutions (NumPy), one per case.


def exact_b1(x: np.ndarray) -> np.ndarray:
    return np.sin(PI * x[:, 0:1]) * np.sin(PI * x[:, 1:2])


def exact_b2(x: np.ndarray) -> np.ndarray:
    return np.sin(PI * x[:, 0:1]) * np.sin(4 * PI * x[:, 1:2])


KAPPA_B3 = 1.0 / (2 * PI**2)


def exact_b3(x: np.ndarray) -> np.ndarray:
    X, Y, T = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return np.exp(-T) * np.sin(PI * X) * np.sin(PI * Y) + 0.5 * np.exp(-4 * T) * np.sin(
        2 * PI * X
    ) * np.sin(2 * PI * Y)


C_B4 = 2.0


def exact_b4(x: np.ndarray) -> np.ndarray:
    X, T = x[:, 0:1], x[:, 1:2]
    return np.sin(PI * X) * np.cos(2 * PI * T) + 0.5 * np.sin(4 * PI * X) * np.cos(8 * PI * T)


K_B2 = 1.0

# ---------------------------------------------------------------------------------------------
# Per-case DeepXDE settings, taken from the documented examples (examples/pinn_forward in the
# DeepXDE repository, rendered as demos on deepxde.readthedocs.io).

SETTINGS: dict[str, dict] = {
    "B1": {
        "problem": "poisson2d_sine",
        "source": "examples/pinn_forward/Poisson_Lshape.py "
        "(demo 'Poisson equation over L-shaped domain')",
        "hidden": [50] * 4,
        "activation": "tanh",
        "activation_documented": "tanh",
        "initializer": "Glorot uniform",
        "num_domain": 1200,
        "num_boundary": 120,
        "points_note": "example counts kept (1200 interior, 120 boundary)",
        "loss_weights": None,
        "adam_lr": 1e-3,
        "adam_decay": None,
        "adam_iterations_documented": 50000,
        "lbfgs_documented": True,
    },
    "B2": {
        "problem": "helmholtz2d",
        "source": "examples/pinn_forward/Helmholtz_Dirichlet_2d.py "
        "(demo 'Helmholtz equation over a 2D square domain'), soft-constraint variant",
        "hidden": [150] * 3,
        "activation": "tanh",
        "activation_documented": "sin",
        "initializer": "Glorot uniform",
        # 10 training points per wavelength per direction (precision_train = 10): the shortest
        # wavelength is 0.5 (sin(4πy)) on a side of length 2, so 40 points per direction.
        "num_domain": 40**2,
        "num_boundary": 4 * 40,
        "points_note": "precision_train = 10 points per shortest wavelength (0.5) on a side of "
        "length 2: nx_train = 40, num_domain = nx_train**2, num_boundary = 4 * nx_train",
        "loss_weights": [1.0, 100.0],
        "adam_lr": 1e-3,
        "adam_decay": None,
        "adam_iterations_documented": 5000,
        "lbfgs_documented": False,
    },
    "B3": {
        "problem": "heat2d",
        "source": "examples/pinn_forward/heat.py (demo 'Heat equation in 1D with Dirichlet "
        "boundary conditions')",
        "hidden": [20] * 3,
        "activation": "tanh",
        "activation_documented": "tanh",
        "initializer": "Glorot normal",
        "num_domain": 8000,
        "num_boundary": 2000,
        "num_initial": 1000,
        "points_note": "example counts 2540/80/160 are for a 1-D bar; adapted to the extra "
        "spatial axis: 8000 interior (20 per axis of the (x, y, t) cube), 2000 on the four "
        "lateral faces, 1000 at t = 0",
        "loss_weights": None,
        "adam_lr": 1e-3,
        "adam_decay": None,
        "adam_iterations_documented": 20000,
        "lbfgs_documented": True,
    },
    "B4": {
        "problem": "wave1d",
        "source": "examples/pinn_forward/wave_1d.py",
        "hidden": [100] * 3,
        "activation": "tanh",
        "activation_documented": "tanh",
        "initializer": "Glorot uniform",
        "num_domain": 360,
        "num_boundary": 360,
        "num_initial": 360,
        "points_note": "example counts kept (same (x, t) domain [0, 1] x [0, 1])",
        "loss_weights": "5 / initial losses",
        "adam_lr": 1e-3,
        "adam_decay": ["inverse time", 2000, 0.9],
        "adam_iterations_documented": 10000,
        "lbfgs_documented": False,
        "example_differences": "the example uses a spatio-temporal multi-scale Fourier feature "
        "network (STMsFFN) with an input feature transform; replaced by a plain FNN of the same "
        "layer sizes. Its PDE-point resampler (period 1) is left out: with the default "
        "Hammersley sampling it regenerates identical points every step.",
    },
}

# Per-case settings a skilled DeepXDE user would choose by hand (--settings tuned): every
# boundary/initial condition built into the output (net.apply_output_transform), so that only the
# PDE residual is trained; float64; Adam (lr 1e-3) for a short start, then L-BFGS. With no
# condition left as a loss term, the boundary and initial points are PDE residual points too.

TUNED: dict[str, dict] = {
    "B1": {
        "hidden": [50] * 4,
        "activation": "tanh",
        "initializer": "Glorot uniform",
        "num_domain": 1200,
        "num_boundary": 120,
        "transform": "u = x(1-x) y(1-y) N(x, y)",
        "adam_lr": 1e-3,
        "adam_iterations": 2000,
    },
    "B2": {
        # The network of DeepXDE's own example for this problem (Helmholtz_Dirichlet_2d.py,
        # whose default is hard_constraint = True): a sine FNN 3 x 150, rather than tanh 4 x 50,
        # for the four half-waves per unit length of sin(4 pi y).
        "hidden": [150] * 3,
        "activation": "sin",
        "initializer": "Glorot uniform",
        # as the example: 10 points per shortest wavelength (0.5) on a side of length 2, 40 per
        # direction (more points make each step of this network dearer than 2 cores can afford)
        "num_domain": 40**2,
        "num_boundary": 4 * 40,
        "transform": "u = (1-x^2)(1-y^2) N(x, y)",
        "adam_lr": 1e-3,
        "adam_iterations": 2000,
    },
    "B3": {
        "hidden": [50] * 4,
        "activation": "tanh",
        "initializer": "Glorot uniform",
        "num_domain": 3000,
        "num_boundary": 300,
        "num_initial": 300,
        # u0 = u(x, y, 0) vanishes on the lateral faces, so this meets both conditions exactly.
        "transform": "u = u0(x, y) + t x(1-x) y(1-y) N(x, y, t), "
        "u0 = sin(pi x) sin(pi y) + 0.5 sin(2 pi x) sin(2 pi y)",
        "adam_lr": 1e-3,
        "adam_iterations": 2000,
    },
    "B4": {
        "hidden": [50] * 4,
        "activation": "tanh",
        "initializer": "Glorot uniform",
        "num_domain": 2000,
        "num_boundary": 200,
        "num_initial": 200,
        # u0 vanishes at x = 0 and 1; the t^2 factor gives u = u0 and u_t = 0 at t = 0.
        "transform": "u = u0(x) + t^2 x(1-x) N(x, t), u0 = sin(pi x) + 0.5 sin(4 pi x)",
        "adam_lr": 1e-3,
        "adam_iterations": 2000,
    },
}


def output_transform(case: str):
    """The hard-constraint output transform of ``case`` (``TUNED[case]["transform"]``)."""
    if case == "B1":
        return lambda x, n: x[:, 0:1] * (1 - x[:, 0:1]) * x[:, 1:2] * (1 - x[:, 1:2]) * n
    if case == "B2":
        return lambda x, n: (1 - x[:, 0:1] ** 2) * (1 - x[:, 1:2] ** 2) * n

    if case == "B3":

        def b3(x, n):
            X, Y, T = x[:, 0:1], x[:, 1:2], x[:, 2:3]
            u0 = torch.sin(PI * X) * torch.sin(PI * Y) + 0.5 * torch.sin(2 * PI * X) * torch.sin(
                2 * PI * Y
            )
            return u0 + T * X * (1 - X) * Y * (1 - Y) * n

        return b3

    if case == "B4":

        def b4(x, n):
            X, T = x[:, 0:1], x[:, 1:2]
            u0 = torch.sin(PI * X) + 0.5 * torch.sin(4 * PI * X)
            return u0 + T**2 * X * (1 - X) * n

        return b4

    raise ValueError(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------------
# Problem definitions.


def build_data(dde, case: str, counts: dict | None = None, hard: bool = False):
    """Return (data, test_x, test_u) for one case; ``counts`` overrides the settings' point
    counts (``num_domain``, ``num_boundary``, ``num_initial``). ``hard``: no boundary or
    initial condition as a loss term (they are built into the network by
    :func:`output_transform`), the tuned settings' point counts."""
    s = {**(TUNED if hard else SETTINGS)[case], **(counts or {})}

    def on_boundary(_, on_b):
        return on_b

    def on_initial(_, on_i):
        return on_i

    if case == "B1":

        def pde(x, u):
            u_xx = dde.grad.hessian(u, x, i=0, j=0)
            u_yy = dde.grad.hessian(u, x, i=1, j=1)
            f = 2 * PI**2 * torch.sin(PI * x[:, 0:1]) * torch.sin(PI * x[:, 1:2])
            return -u_xx - u_yy - f

        geom = dde.geometry.Rectangle([0.0, 0.0], [1.0, 1.0])
        bcs = [] if hard else [dde.icbc.DirichletBC(geom, lambda x: 0, on_boundary)]
        data = dde.data.PDE(
            geom, pde, bcs, num_domain=s["num_domain"], num_boundary=s["num_boundary"]
        )
        test_x = grid([(0.0, 1.0), (0.0, 1.0)], 200)
        return data, test_x, exact_b1(test_x)

    if case == "B2":

        def pde(x, u):
            u_xx = dde.grad.hessian(u, x, i=0, j=0)
            u_yy = dde.grad.hessian(u, x, i=1, j=1)
            f = (
                (K_B2**2 - PI**2 - 16 * PI**2)
                * torch.sin(PI * x[:, 0:1])
                * torch.sin(4 * PI * x[:, 1:2])
            )
            return u_xx + u_yy + K_B2**2 * u - f

        geom = dde.geometry.Rectangle([-1.0, -1.0], [1.0, 1.0])
        bcs = [] if hard else [dde.icbc.DirichletBC(geom, lambda x: 0, on_boundary)]
        data = dde.data.PDE(
            geom, pde, bcs, num_domain=s["num_domain"], num_boundary=s["num_boundary"]
        )
        test_x = grid([(-1.0, 1.0), (-1.0, 1.0)], 200)
        return data, test_x, exact_b2(test_x)

    if case == "B3":

        def pde(x, u):
            u_t = dde.grad.jacobian(u, x, i=0, j=2)
            u_xx = dde.grad.hessian(u, x, i=0, j=0)
            u_yy = dde.grad.hessian(u, x, i=1, j=1)
            return u_t - KAPPA_B3 * (u_xx + u_yy)

        geom = dde.geometry.GeometryXTime(
            dde.geometry.Rectangle([0.0, 0.0], [1.0, 1.0]), dde.geometry.TimeDomain(0.0, 1.0)
        )
        bc = dde.icbc.DirichletBC(geom, lambda x: 0, on_boundary)
        ic = dde.icbc.IC(geom, exact_b3, on_initial)
        data = dde.data.TimePDE(
            geom,
            pde,
            [] if hard else [bc, ic],
            num_domain=s["num_domain"],
            num_boundary=s["num_boundary"],
            num_initial=s["num_initial"],
        )
        test_x = grid([(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)], 64)
        return data, test_x, exact_b3(test_x)

    if case == "B4":

        def pde(x, u):
            u_tt = dde.grad.hessian(u, x, i=1, j=1)
            u_xx = dde.grad.hessian(u, x, i=0, j=0)
            return u_tt - C_B4**2 * u_xx

        geom = dde.geometry.GeometryXTime(
            dde.geometry.Interval(0.0, 1.0), dde.geometry.TimeDomain(0.0, 1.0)
        )
        bc = dde.icbc.DirichletBC(geom, lambda x: 0, on_boundary)
        ic = dde.icbc.IC(geom, exact_b4, on_initial)
        # u_t(x, 0) = 0 as an operator condition on the t = 0 points (as in the example).
        ic_v = dde.icbc.OperatorBC(
            geom,
            lambda x, u, _: dde.grad.jacobian(u, x, i=0, j=1),
            lambda x, _: np.isclose(x[1], 0.0),
        )
        data = dde.data.TimePDE(
            geom,
            pde,
            [] if hard else [bc, ic, ic_v],
            num_domain=s["num_domain"],
            num_boundary=s["num_boundary"],
            num_initial=s["num_initial"],
        )
        test_x = grid([(0.0, 1.0), (0.0, 1.0)], 200)
        return data, test_x, exact_b4(test_x)

    raise ValueError(f"unknown case {case!r}")


def grid(bounds: list[tuple[float, float]], n: int) -> np.ndarray:
    """Uniform grid with n points per axis (endpoints included), as an (n**d, d) array."""
    axes = [np.linspace(lo, hi, n) for lo, hi in bounds]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


# ---------------------------------------------------------------------------------------------
# Timing and the error curve.


class Clock:
    """Training wall time with the time spent measuring the error taken out."""

    def __init__(self, net: torch.nn.Module, test_x: np.ndarray, test_u: np.ndarray):
        self.net = net
        dtype = next(net.parameters()).dtype  # float32 or float64, as the network's
        self.test_x = torch.from_numpy(test_x).to(dtype)
        self.test_u = test_u.reshape(-1).astype(np.float64)
        self.norm = float(np.linalg.norm(self.test_u))
        self.t0 = time.perf_counter()
        self.eval_time = 0.0
        self.curve: list[list[float]] = []
        self.last_error = math.nan

    def train_time(self) -> float:
        return time.perf_counter() - self.t0 - self.eval_time

    def error(self) -> float:
        parts = []
        with torch.no_grad():
            for i in range(0, self.test_x.shape[0], EVAL_CHUNK):
                parts.append(self.net(self.test_x[i : i + EVAL_CHUNK]).reshape(-1).double())
        pred = torch.cat(parts).numpy()
        return float(np.linalg.norm(pred - self.test_u) / self.norm)

    def record(self) -> None:
        t = self.train_time()
        start = time.perf_counter()
        self.last_error = self.error()
        self.eval_time += time.perf_counter() - start
        self.curve.append([round(t, 4), self.last_error])

    def since_last_record(self) -> float:
        return self.train_time() - (self.curve[-1][0] if self.curve else 0.0)


def make_callbacks(dde):
    """Callback classes; built here because the base class comes from deepxde."""

    class AdamBudget(dde.callbacks.Callback):
        """Records the curve every RECORD_EVERY s and stops Adam at its time limit."""

        def __init__(self, clock: Clock, deadline: float):
            super().__init__()
            self.clock = clock
            self.deadline = deadline
            self.steps = 0
            self.stopped_on_time = False

        def on_epoch_end(self):
            self.steps += 1
            if self.clock.since_last_record() >= RECORD_EVERY:
                self.clock.record()
            if self.clock.train_time() >= self.deadline:
                self.stopped_on_time = True
                self.model.stop_training = True

    class LBFGSBudget(dde.callbacks.Callback):
        """Runs after every L-BFGS chunk: records the curve, shortens the next chunk so that the
        run ends at the budget, and stops L-BFGS when the budget is spent."""

        def __init__(self, clock: Clock, deadline: float, chunk: int, t_iter: float):
            super().__init__()
            self.clock = clock
            self.deadline = deadline
            self.chunk = chunk
            self.t_iter = t_iter  # running estimate of seconds per L-BFGS iteration
            self.prev_iter = 0
            self.prev_time = 0.0
            self.stopped_on_time = False
            self.chunks = 0

        def _set_chunk(self, n: int) -> None:
            # DeepXDE allows 1.25 evaluations per iteration; with short chunks that cap could end
            # a chunk after one iteration (read as "converged"), so leave room for one full line
            # search (25 evaluations at most in torch.optim.LBFGS).
            for group in self.model.opt.param_groups:
                group["max_iter"] = n
                group["max_eval"] = max(int(n * 1.25), n + 25)

        def _plan(self) -> None:
            remaining = self.deadline - self.clock.train_time()
            if remaining < 0.5 * self.t_iter:
                self.stopped_on_time = True
                self.model.stop_training = True
                return
            # At least 2 iterations: a 1-iteration chunk reads as "converged" to DeepXDE.
            self._set_chunk(max(2, min(self.chunk, int(remaining / self.t_iter))))

        def on_train_begin(self):
            self.prev_time = self.clock.train_time()
            self._plan()
            if self.model.stop_training:
                # DeepXDE runs one chunk before it looks at stop_training: keep it short.
                self._set_chunk(2)

        def on_epoch_end(self):
            self.chunks += 1
            n_iter = lbfgs_iterations(self.model)
            now = self.clock.train_time()
            done = n_iter - self.prev_iter
            if done > 0:
                self.t_iter = (now - self.prev_time) / done
            self.prev_iter, self.prev_time = n_iter, now
            self.clock.record()
            self._plan()

    return AdamBudget, LBFGSBudget


def lbfgs_iterations(model) -> int:
    state = model.opt.state_dict()["state"]
    return int(state[0]["n_iter"]) if 0 in state else 0


# ---------------------------------------------------------------------------------------------
# The run.


def run_case(
    dde,
    case: str,
    seconds: float,
    seed: int,
    threads: int = 2,
    mode: str = "documented",
    float_type: str | None = None,
) -> dict:
    """Train ``case`` with the ``mode`` settings ("documented" or "tuned") for ``seconds``;
    ``float_type`` ("float32" or "float64") replaces the mode's precision."""
    if mode not in MODES:
        raise ValueError(f"unknown settings {mode!r}; expected one of {', '.join(MODES)}")
    tuned = mode == "tuned"
    if tuned:
        s = {
            **TUNED[case],
            "loss_weights": None,
            "adam_decay": None,
            "adam_iterations_documented": TUNED[case]["adam_iterations"],
        }
    else:
        s = SETTINGS[case]
    float_type = float_type or ("float64" if tuned else "float32")
    torch.set_num_threads(threads)
    dde.config.set_default_float(float_type)
    dde.config.set_random_seed(seed)

    data, test_x, test_u = build_data(dde, case, hard=tuned)
    layers = [test_x.shape[1], *s["hidden"], 1]
    net = dde.nn.FNN(layers, s["activation"], s["initializer"])
    if tuned:
        net.apply_output_transform(output_transform(case))
    model = dde.Model(data, net)
    AdamBudget, LBFGSBudget = make_callbacks(dde)
    quiet = {"display_every": 10**9, "verbose": 0}

    # Untimed warm-up: the first compile pays one-off import/initialization costs (about 1 s).
    model.compile("adam", lr=s["adam_lr"])

    clock = Clock(net, test_x, test_u)  # training time starts here
    clock.record()  # error of the untrained network, t = 0

    loss_weights = s["loss_weights"]
    if loss_weights == "5 / initial losses":
        # As in the wave example: scale each loss term by 5 / its value at initialization.
        losshistory, _ = model.train(iterations=0, **quiet)
        loss_weights = [float(w) for w in 5.0 / np.asarray(losshistory.loss_train[0])]

    # Adam: the settings' iterations or ADAM_FRACTION of the budget, whichever comes first.
    decay = tuple(s["adam_decay"]) if s["adam_decay"] else None
    model.compile("adam", lr=s["adam_lr"], loss_weights=loss_weights, decay=decay)
    adam_cb = AdamBudget(clock, ADAM_FRACTION * seconds)
    adam_start = clock.train_time()
    model.train(iterations=s["adam_iterations_documented"], callbacks=[adam_cb], **quiet)
    adam_time = clock.train_time() - adam_start
    if not clock.curve or clock.curve[-1][0] < clock.train_time():
        clock.record()

    # L-BFGS for the rest of the budget, in chunks of about RECORD_EVERY s.
    t_step = adam_time / max(adam_cb.steps, 1)
    chunk = int(min(1000, max(5, RECORD_EVERY / (1.5 * t_step))))
    dde.optimizers.set_LBFGS_options(maxiter=10**9)
    lbfgs_options = dde.optimizers.config.LBFGS_options
    lbfgs_options["iter_per_step"] = chunk
    lbfgs_options["fun_per_step"] = int(chunk * 1.25)
    lbfgs_steps = 0
    lbfgs_stop = "no time left"
    lbfgs_chunks = 0
    lbfgs_restarts: list[float] = []  # training times at which L-BFGS was compiled again
    t_iter = 1.5 * t_step
    while clock.train_time() < seconds - t_iter:
        # DeepXDE ends L-BFGS when a chunk makes a single iteration (its convergence test; in
        # float32 the line search can stall long before the budget is spent). With time left,
        # L-BFGS is compiled again (fresh history) and continues; a restart that itself makes no
        # progress ends the run.
        model.compile("L-BFGS", loss_weights=loss_weights)
        lbfgs_cb = LBFGSBudget(clock, seconds, chunk, t_iter)
        model.train(callbacks=[lbfgs_cb], **quiet)
        n_iter = lbfgs_iterations(model)
        lbfgs_steps += n_iter
        lbfgs_chunks += lbfgs_cb.chunks
        t_iter = lbfgs_cb.t_iter
        if lbfgs_cb.stopped_on_time:
            lbfgs_stop = "time"
            break
        if model.stop_training:
            lbfgs_stop = "nan loss"
            break
        if n_iter <= 1:
            lbfgs_stop = "converged (chunk of one iteration)"
            break
        lbfgs_restarts.append(round(clock.train_time(), 3))
        lbfgs_stop = "time"  # unless the restart ends otherwise
    if clock.curve[-1][0] < clock.train_time() - 1e-3:
        clock.record()

    common = {
        "mode": mode,
        "problem": SETTINGS[case]["problem"],
        "net": "FNN",
        "layers": layers,
        "activation": s["activation"],
        "initializer": s["initializer"],
        "train_distribution": "Hammersley (DeepXDE default)",
        "num_domain": s["num_domain"],
        "num_boundary": s["num_boundary"],
        "num_initial": s.get("num_initial"),
    }
    if tuned:
        described = {
            **common,
            "boundary_conditions": "hard: every boundary and initial condition built into the "
            "output by net.apply_output_transform; the loss is the PDE residual alone, on all "
            "the points (interior, boundary and initial)",
            "output_transform": s["transform"],
            "loss_weights": None,
            "adam_lr": s["adam_lr"],
            "adam_decay": None,
            "adam_iterations": s["adam_iterations"],
        }
    else:
        described = {
            **common,
            "source": s["source"],
            "activation_documented": s["activation_documented"],
            "boundary_conditions": "soft (loss terms)",
            "points_note": s["points_note"],
            "loss_weights": loss_weights,
            "loss_weights_rule": s["loss_weights"] if isinstance(s["loss_weights"], str) else None,
            "adam_lr": s["adam_lr"],
            "adam_decay": s["adam_decay"],
            "adam_iterations_documented": s["adam_iterations_documented"],
            "lbfgs_in_example": s["lbfgs_documented"],
            "example_differences": s.get("example_differences"),
        }
    settings = {
        **described,
        "adam_time_limit_s": ADAM_FRACTION * seconds,
        "adam_steps": adam_cb.steps,
        "adam_stop": "time" if adam_cb.stopped_on_time else "iterations",
        "adam_time_s": round(adam_time, 3),
        "lbfgs": "torch.optim.LBFGS via DeepXDE, strong Wolfe line search, "
        "history 100, gtol 1e-8, ftol 0",
        "lbfgs_chunk_iterations": chunk,
        "lbfgs_chunks": lbfgs_chunks,
        "lbfgs_restarts_at_s": lbfgs_restarts,
        "lbfgs_steps": lbfgs_steps,
        "lbfgs_stop": lbfgs_stop,
        "float": float_type,
        "seed": seed,
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "budget_s": seconds,
        "training_time_s": round(clock.train_time(), 3),
        "error_eval_time_s": round(clock.eval_time, 3),
        "test_points": int(test_x.shape[0]),
    }
    return {
        "case": case,
        "curve": clock.curve,
        "final_error": clock.curve[-1][1],
        "steps": adam_cb.steps + lbfgs_steps,
        "deepxde_version": dde.__version__,
        "mode": mode,
        "settings": settings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", required=True, choices=sorted(SETTINGS))
    parser.add_argument(
        "--seconds", type=positive_number, default=300.0, help="training time budget (default 300)"
    )
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument(
        "--settings",
        choices=MODES,
        default="documented",
        help="documented: DeepXDE's example settings (soft conditions, float32); tuned: by hand "
        "(hard constraints, float64); default documented",
    )
    parser.add_argument(
        "--float",
        choices=("float32", "float64"),
        help="precision (default: float32 with documented settings, float64 with tuned)",
    )
    parser.add_argument(
        "--threads", type=int_at_least(1), default=2, help="torch CPU threads (default 2)"
    )
    args = parser.parse_args(argv)

    os.environ["DDE_BACKEND"] = "pytorch"
    with contextlib.redirect_stdout(sys.stderr):
        try:
            import deepxde as dde
        except ImportError:
            print(
                'deepxde is not installed; install the "peers" extra: pip install -e ".[peers]"',
                file=sys.stderr,
            )
            return 2
        result = run_case(
            dde, args.case, args.seconds, args.seed, args.threads, args.settings, args.float
        )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
