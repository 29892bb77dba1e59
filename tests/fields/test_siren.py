"""SIREN fields (:mod:`neuralpde.fields.siren`): initialisation, activations through depth,
per-layer and per-input frequencies, forward passes and bad specifications."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from neuralpde.fields import MLP, Siren, SirenNet, spec_from_dict

UNIFORM_STD = 1.0 / math.sqrt(3.0)  # std of U(-1, 1)


def _uniform_std_ok(w: torch.Tensor, bound: float, rel: float = 0.1) -> None:
    w = w.detach().double()
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() > 0.95 * bound  # fills the interval, not a narrower one
    assert abs(w.std().item() - bound * UNIFORM_STD) < rel * bound * UNIFORM_STD
    # Mean within 4 standard errors of zero.
    assert abs(w.mean().item()) < 4 * bound * UNIFORM_STD / math.sqrt(w.numel())


# -- SIREN initialisation -----------------------------------------------------------------------


@pytest.mark.parametrize("n_in", [2, 3, 16])
def test_siren_first_layer_init(n_in):
    torch.manual_seed(0)
    net = Siren(width=256, depth=3).build(n_in)
    _uniform_std_ok(net.hidden[0].weight, 1.0 / n_in)


@pytest.mark.parametrize("w0", [30.0, 1.0, (30.0, 10.0, 3.0)])
def test_siren_hidden_and_output_init(w0):
    torch.manual_seed(1)
    spec = Siren(width=256, depth=3, w0=w0)
    net = spec.build(2)
    per_layer = spec.w0_per_layer()
    for i, layer in enumerate(net.hidden[1:], start=1):
        assert layer.in_features == 256
        _uniform_std_ok(layer.weight, math.sqrt(6.0 / 256) / per_layer[i])
    # Output layer: the hidden rule with the last layer's w0 (256 weights only, so 15 %).
    _uniform_std_ok(net.out.weight, math.sqrt(6.0 / 256) / per_layer[-1], rel=0.15)


def test_siren_biases_keep_pytorch_default():
    torch.manual_seed(2)
    net = Siren(width=256, depth=2).build(4)
    for layer in net.hidden:
        _uniform_std_ok(layer.bias, 1.0 / math.sqrt(layer.in_features), rel=0.15)


def _siren_activations(net: SirenNet, x: torch.Tensor):
    """Post-sine activations of every layer, and the weight part of each pre-activation."""
    posts, weighted = [], []
    h = x
    with torch.no_grad():
        for w0, layer in zip(net.w0, net.hidden, strict=True):
            weighted.append(w0 * (h @ layer.weight.T))
            h = torch.sin(w0 * layer(h))
            posts.append(h)
    return posts, weighted


def _ks_to_arcsine(h: torch.Tensor) -> float:
    """Kolmogorov-Smirnov distance of the values to the arcsine law on [-1, 1]."""
    s = np.sort(h.flatten().double().numpy())
    cdf = 0.5 + np.arcsin(np.clip(s, -1.0, 1.0)) / np.pi
    n = len(s)
    return float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))


def test_siren_activations_are_arcsine_distributed_through_depth():
    # Sitzmann et al. (2020), Sec. 3.2: with this initialisation the post-sine activations follow
    # the arcsine law (std 1/sqrt(2)) at every layer, and W h (times w0) is about N(0, 1).
    # Measured over 40 seeds: post-sine std 0.695 to 0.732 (mean 0.71), pooled mean |m| < 0.1,
    # KS distance to the arcsine law 0.002 to 0.068 (sin of N(0, 0.5^2) would give 0.2), and the
    # weight part of the pre-activation std 0.95 to 1.07.
    torch.manual_seed(0)
    net = Siren(width=256, depth=5, w0=30.0, w0_hidden=30.0).build(2)  # the paper's setting
    x = 2.0 * torch.rand(4096, 2) - 1.0
    posts, weighted = _siren_activations(net, x)
    assert len(posts) == 5
    for i, h in enumerate(posts):
        assert abs(h.std().item() - 1.0 / math.sqrt(2.0)) < 0.1, f"layer {i}: std {h.std()}"
        assert abs(h.mean().item()) < 0.15, f"layer {i}: mean {h.mean()}"
        assert _ks_to_arcsine(h[::8]) < 0.08, f"layer {i}"
    for i, z in enumerate(weighted[1:], start=1):
        assert abs(z.std().item() - 1.0) < 0.15, f"layer {i}: weighted std {z.std()}"


def test_siren_forward_uses_per_layer_w0():
    torch.manual_seed(3)
    spec = Siren(width=8, depth=3, w0=(20.0, 5.0, 2.0))
    assert spec.w0 == (20.0, 5.0, 2.0)
    assert spec.w0_per_layer() == [20.0, 5.0, 2.0]
    net = spec.build(2, out_features=3)
    assert net.w0 == [20.0, 5.0, 2.0]
    assert [layer.in_features for layer in net.hidden] == [2, 8, 8]
    assert net.out.out_features == 3
    x = torch.rand(5, 2)
    h = x
    for w0, layer in zip((20.0, 5.0, 2.0), net.hidden, strict=True):
        h = torch.sin(w0 * (h @ layer.weight.T + layer.bias))
    torch.testing.assert_close(net(x), h @ net.out.weight.T + net.out.bias)


def test_siren_w0_per_input_scales_the_first_layers_columns():
    """``w0_inputs``: the first layer computes sin(sum_j w0_j W_ij x_j + w0 b_i), which is the
    isotropic network at inputs scaled by w0_j / w0; its jet agrees, and the setting is stored."""
    torch.manual_seed(4)
    spec = Siren(width=8, depth=2, w0=15.0, w0_inputs=(15.0, 1.0, 3.0))
    aniso = spec.build(3).double()
    iso = Siren(width=8, depth=2, w0=15.0).build(3).double()
    iso.load_state_dict(aniso.state_dict())  # the per-input factors are not weights
    x = torch.rand(40, 3, dtype=torch.float64)
    factors = torch.tensor([1.0, 1.0 / 15.0, 3.0 / 15.0], dtype=torch.float64)
    torch.testing.assert_close(aniso(x), iso(x * factors), rtol=1e-13, atol=1e-13)
    again = spec_from_dict(json.loads(json.dumps(spec.describe())))
    assert again.describe() == spec.describe() and again.w0_inputs == (15.0, 1.0, 3.0)
    with pytest.raises(ValueError, match=r"w0_inputs must hold one number per input coord"):
        spec.build(2)
    for bad in ((1.0, -2.0), "ab", (math.inf,), ()):
        with pytest.raises(ValueError, match="Siren.w0_inputs must be a sequence of positive"):
            Siren(w0_inputs=bad)


@pytest.mark.parametrize("kind", ["siren", "mlp"])
def test_forward_parameter_gradients_match_reference_chain(kind):
    # the narrow first layer multiplies by a contiguous W^T (a faster weight gradient) and SIREN
    # folds omega_0 into the weights; values and every parameter gradient are unchanged
    torch.manual_seed(6)
    spec = Siren(width=16, depth=3, w0=(4.0, 2.0, 1.5)) if kind == "siren" else MLP(16, 3)
    net = spec.build(2).double()
    w0 = net.w0 if kind == "siren" else [1.0] * 3
    act = torch.sin if kind == "siren" else torch.tanh
    x = torch.rand(64, 2, dtype=torch.float64)

    def reference() -> torch.Tensor:
        h = x
        for w, layer in zip(w0, net.hidden, strict=True):
            h = act(w * (h @ layer.weight.T + layer.bias))
        return h @ net.out.weight.T + net.out.bias

    grads = []
    for f in (net, lambda _: reference()):
        net.zero_grad()
        (f(x) ** 2).sum().backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    torch.testing.assert_close(net(x), reference(), rtol=1e-13, atol=1e-13)
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-13)


def test_siren_scalar_w0_and_w0_hidden():
    spec = Siren(width=4, depth=4, w0=12, w0_hidden=12)
    assert spec.w0_per_layer() == [12.0] * 4
    assert spec.build(1).w0 == [12.0] * 4
    assert Siren(depth=3).w0_per_layer() == [3.0, 1.0, 1.0]  # the PDE defaults
    assert Siren(depth=2, w0=10).w0_per_layer() == [10.0, 1.0]
    with pytest.raises(ValueError, match="w0_hidden applies only when w0 is a single number"):
        Siren(depth=2, w0=(1.0, 2.0), w0_hidden=3.0)
    with pytest.raises(ValueError, match="w0_hidden must be positive"):
        Siren(depth=2, w0=1.0, w0_hidden=-1.0)


BAD_SIREN = [
    ({"width": 0}, r"Siren\.width"),
    ({"width": -3}, r"Siren\.width"),
    ({"width": 16.0}, r"Siren\.width"),
    ({"width": True}, r"Siren\.width"),
    ({"depth": 0}, r"Siren\.depth"),
    ({"w0": -30.0}, r"Siren\.w0"),
    ({"w0": 0.0}, r"Siren\.w0"),
    ({"w0": math.inf}, r"Siren\.w0"),
    ({"w0": math.nan}, r"Siren\.w0"),
    ({"depth": 3, "w0": (30.0, 30.0)}, r"Siren\.w0.*3"),
    ({"depth": 2, "w0": (30.0, 30.0, 30.0)}, r"Siren\.w0.*2"),
    ({"depth": 3, "w0": (30.0, -1.0, 30.0)}, r"Siren\.w0"),
    ({"depth": 1, "w0": ()}, r"Siren\.w0"),
    ({"w0": True}, r"Siren\.w0 must be a number"),
    ({"depth": 1, "w0": "3"}, r"Siren\.w0 must be a number"),
    ({"w0": None}, r"Siren\.w0 must be a number"),
    ({"depth": 2, "w0": (1.0, "2")}, r"Siren\.w0 must be a number or a sequence of 2"),
    ({"depth": 2, "w0": (1.0, False)}, r"Siren\.w0 must be a number or a sequence of 2"),
    ({"w0_hidden": "1"}, r"Siren\.w0_hidden must be a number"),
    ({"w0_hidden": True}, r"Siren\.w0_hidden must be a number"),
    ({"w0": np.array(True)}, r"Siren\.w0 must be a number"),
    ({"depth": 1, "w0": np.array("3")}, r"Siren\.w0 must be a number"),
    ({"depth": 2, "w0": np.ones((2, 1))}, r"Siren\.w0 must be a number or a sequence of 2"),
]


def test_siren_and_mlp_take_numpy_numbers_as_python_numbers():
    spec = Siren(width=np.int64(8), depth=np.int32(2), w0=np.float32(2.5), w0_hidden=np.int64(2))
    assert (spec.width, spec.depth, spec.w0, spec.w0_hidden) == (8, 2, 2.5, 2.0)
    assert all(type(v) in (int, float) for v in (spec.width, spec.depth, spec.w0, spec.w0_hidden))
    assert spec.w0_per_layer() == [2.5, 2.0]
    assert Siren(depth=2, w0=np.array([2.0, 1.5])).w0 == (2.0, 1.5)
    assert Siren(depth=2, w0=np.array(4.0)).w0_per_layer() == [4.0, 1.0]
    assert Siren(depth=2, w0=torch.tensor(4.0), w0_hidden=np.array(2.0)).w0_per_layer() == [4, 2]
    assert Siren(depth=3, w0=torch.tensor([3.0, 1.0, 1.0])).w0 == (3.0, 1.0, 1.0)
    assert spec.build(2).hidden[1].in_features == 8
    mlp = MLP(width=np.int64(6), depth=np.int16(2))
    assert (mlp.width, mlp.depth) == (6, 2) and type(mlp.width) is int
    assert Siren(width=8, depth=2, w0=3) == Siren(width=8, depth=2, w0=3.0)


@pytest.mark.parametrize(("kwargs", "match"), BAD_SIREN)
def test_siren_bad_specs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Siren(**kwargs)
