"""The tanh MLP (:mod:`neuralpde.fields.mlp`): initialisation, forward pass, bad
specifications."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from neuralpde.fields import MLP, MLPNet

# -- MLP -------------------------------------------------------------------------------------------


def test_mlp_xavier_normal_init():
    torch.manual_seed(4)
    net = MLP(width=256, depth=3).build(2)
    assert isinstance(net, MLPNet)
    layers = [*net.hidden, net.out]
    assert [(layer.in_features, layer.out_features) for layer in layers] == [
        (2, 256),
        (256, 256),
        (256, 256),
        (256, 1),
    ]
    for layer in layers:
        w = layer.weight.detach().double()
        expected = math.sqrt(2.0 / (layer.in_features + layer.out_features))
        # Within 5 standard errors (std of a normal sample's std: sigma / sqrt(2 N)).
        n = w.numel()
        assert abs(w.std().item() - expected) < max(0.05, 5 / math.sqrt(2 * n)) * expected
        assert abs(w.mean().item()) < 5 * expected / math.sqrt(n)
        torch.testing.assert_close(layer.bias, torch.zeros_like(layer.bias), rtol=0, atol=0)
    # Normal, not uniform, Glorot: excess kurtosis about 0 (a uniform law has -1.2).
    big = net.hidden[1].weight.detach().flatten().numpy()
    assert abs(stats.kurtosis(big)) < 0.2


def test_mlp_forward_is_tanh_chain():
    torch.manual_seed(5)
    net = MLP(width=6, depth=2).build(3, out_features=2)
    x = torch.randn(4, 3)
    h = torch.tanh(x @ net.hidden[0].weight.T + net.hidden[0].bias)
    h = torch.tanh(h @ net.hidden[1].weight.T + net.hidden[1].bias)
    torch.testing.assert_close(net(x), h @ net.out.weight.T + net.out.bias)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0}, r"MLP\.width"),
        ({"depth": -1}, r"MLP\.depth"),
        ({"width": 2.5}, r"MLP\.width"),
    ],
)
def test_mlp_bad_specs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)
