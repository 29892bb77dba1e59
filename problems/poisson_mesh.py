"""Poisson on a triangle mesh read from a file, with a manufactured solution.

The mesh (a 24 x 24 triangulation of a quarter annulus 0.5 ≤ r ≤ 1, 0 ≤ θ ≤ π/2) is written once
with meshio to a Gmsh file in the temporary directory and read back through ``MeshDomain``, as a
user's own mesher output would be. u = sin(πx) sin(πy) + x + y, -Δu = 2π² sin(πx) sin(πy), u =
exact on the boundary.
"""

import math
import os
import tempfile
from pathlib import Path

import meshio
import numpy as np
import torch

import neuralpde as npde

PI = math.pi
N = 24


def _write_mesh(path: Path) -> None:
    r, th = np.meshgrid(np.linspace(0.5, 1.0, N + 1), np.linspace(0, PI / 2, N + 1), indexing="ij")
    pts = np.column_stack([(r * np.cos(th)).ravel(), (r * np.sin(th)).ravel()])
    idx = np.arange((N + 1) ** 2).reshape(N + 1, N + 1)
    a, b, c, d = idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]
    tri = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)]).reshape(-1, 3)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    meshio.write(tmp, meshio.Mesh(pts, [("triangle", tri)]), file_format="gmsh22", binary=False)
    os.replace(tmp, path)  # never a half-written mesh for another process to read


MESH = Path(tempfile.gettempdir()) / "neuralpde_quarter_annulus.msh"
if not MESH.exists():
    _write_mesh(MESH)


def exact(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) + x[:, 0] + x[:, 1]


problem = npde.Problem(
    domain=npde.MeshDomain(MESH),
    equation=npde.Poisson(
        f=lambda x: 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])
    ),
    conditions=[npde.Dirichlet(exact)],
    exact=exact,
    name="poisson_mesh",
)
