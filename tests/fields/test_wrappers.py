"""Input scaling (:mod:`neuralpde.fields.wrappers`): bounds mapped to the unit cube, fed to
the network and saved, bad bounds refused."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from neuralpde.fields import InputScaling, Siren

# -- input scaling --------------------------------------------------------------------------------


def test_input_scaling_maps_bounds_to_unit_cube():
    lower, upper = [-2.0, 10.0, 0.5], [4.0, 12.0, 0.75]
    scale = InputScaling(nn.Identity(), lower, upper)
    x = torch.tensor([lower, upper, [1.0, 11.0, 0.625], [-2.0, 12.0, 0.5]], dtype=torch.float64)
    expected = torch.tensor(
        [[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 1.0, -1.0]],
        dtype=torch.float64,
    )
    torch.testing.assert_close(scale(x), expected, rtol=0, atol=1e-15)
    # Affine with slope 2 / (upper - lower).
    xg = torch.rand(7, 3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(scale(xg)[:, 1].sum(), xg)
    torch.testing.assert_close(g[:, 1], torch.full((7,), 1.0, dtype=torch.float64))
    torch.testing.assert_close(g[:, 0], torch.zeros(7, dtype=torch.float64))


def test_input_scaling_feeds_network_and_saves_bounds():
    torch.manual_seed(6)
    inner = Siren(width=8, depth=2).build(2).double()
    scale = InputScaling(inner, [0.0, -5.0], [10.0, 5.0])
    x = torch.tensor([[5.0, 0.0], [10.0, -5.0]], dtype=torch.float64)
    torch.testing.assert_close(
        scale(x), inner(torch.tensor([[0.0, 0.0], [1.0, -1.0]], dtype=torch.float64))
    )
    state = scale.state_dict()
    torch.testing.assert_close(state["lower"], torch.tensor([0.0, -5.0], dtype=torch.float64))
    torch.testing.assert_close(state["upper"], torch.tensor([10.0, 5.0], dtype=torch.float64))


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ([0.0, 1.0], [1.0, 1.0]),
        ([1.0], [0.0]),
        ([0.0, 0.0], [1.0]),
        (0.0, 1.0),
        # an infinite width would map every point of that coordinate to -1 (or NaN)
        ([0.0, 0.0], [1.0, math.inf]),
        ([-math.inf, 0.0], [1.0, 1.0]),
        ([0.0, math.nan], [1.0, 1.0]),
    ],
)
def test_input_scaling_rejects_bad_bounds(lower, upper):
    with pytest.raises(ValueError, match="finite bounds, one per input coordinate, with lower <"):
        InputScaling(nn.Identity(), lower, upper)
