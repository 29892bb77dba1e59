"""Field specifications (:mod:`neuralpde.fields`): descriptions and the networks rebuilt
from them."""

from __future__ import annotations

import json

import pytest
import torch

from neuralpde.fields import MLP, InputScaling, Siren, build_field, spec_from_dict

# -- descriptions and rebuilding ------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        Siren(width=32, depth=3, w0=(30.0, 10.0, 5.0)),
        Siren(width=16, depth=2),
        MLP(width=20, depth=4),
    ],
    ids=["siren-per-layer", "siren-scalar", "mlp"],
)
def test_spec_round_trip(spec):
    desc = json.loads(json.dumps(spec.describe()))  # survives JSON (stored in files)
    again = spec_from_dict(desc)
    assert type(again) is type(spec)
    assert again.describe() == spec.describe()


@pytest.mark.parametrize(
    "spec",
    [Siren(width=32, depth=3, w0=(30.0, 10.0, 5.0)), MLP(width=20, depth=4)],
    ids=["siren", "mlp"],
)
@pytest.mark.parametrize("scaled", [False, True], ids=["plain", "scaled"])
def test_build_field_rebuilds_same_architecture(spec, scaled):
    torch.manual_seed(7)
    net = spec.build(3)
    arch = {"field": spec.describe(), "in_features": 3}
    if scaled:
        net = InputScaling(net, [0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
        arch["input_scaling"] = {"lower": [0.0, 0.0, 0.0], "upper": [1.0, 2.0, 3.0]}
    rebuilt = build_field(json.loads(json.dumps(arch)))
    # The bounds buffers are float64; as solve() and load() do, cast the whole module.
    net, rebuilt = net.double(), rebuilt.double()
    assert type(rebuilt) is type(net)
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in rebuilt.state_dict().items()} == shapes
    inner, inner_rebuilt = (net.net, rebuilt.net) if scaled else (net, rebuilt)
    if isinstance(spec, Siren):
        assert inner_rebuilt.w0 == inner.w0 == [30.0, 10.0, 5.0]
    # Fresh weights differ; loading the saved ones reproduces the field exactly.
    x = torch.rand(6, 3, dtype=torch.float64)
    assert not torch.allclose(rebuilt(x), net(x))
    rebuilt.load_state_dict(net.state_dict())
    torch.testing.assert_close(rebuilt(x), net(x), rtol=0, atol=0)


def test_spec_from_dict_unknown_type():
    with pytest.raises(ValueError, match="unknown field type 'fourier'"):
        spec_from_dict({"type": "fourier", "width": 8})
