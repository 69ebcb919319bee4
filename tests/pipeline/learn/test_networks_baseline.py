"""The thesis baseline CNN (structure, parameter count, forward, inputs) and the MAC counter."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.learn.networks import NETWORKS, build
from pipeline.learn.networks.baseline import (
    N_PIXELS,
    PUBLISHED_PARAMETERS,
    BaselineCNN,
    baseline_inputs,
    feature_length,
)
from pipeline.learn.networks.macs import count_macs, count_parameters

_KIND = {nn.Conv1d: "conv", nn.MaxPool1d: "pool", nn.Linear: "dense"}


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return BaselineCNN()


def _layers(model):
    return [m for m in model.modules() if type(m) in _KIND]


def test_published_layer_sequence(net):
    kinds = [_KIND[type(m)] for m in _layers(net)]
    assert kinds == ["conv", "conv", "pool", "conv", "conv", "pool", "conv", "pool", "conv", "pool",
                     "dense", "dense", "dense"]
    convs = [m for m in _layers(net) if isinstance(m, nn.Conv1d)]
    assert convs[0].in_channels == 2
    assert (convs[0].kernel_size, convs[0].stride) == ((4,), (2,))
    assert all((c.kernel_size, c.stride) == ((2,), (1,)) for c in convs[1:])
    assert [c.out_channels for c in convs] == sorted(c.out_channels for c in convs)  # features increase
    dense = [m for m in _layers(net) if isinstance(m, nn.Linear)]
    assert dense[-1].out_features == 1
    # ReLU after each of the 6 convolutions and the 2 hidden dense layers, none after the output.
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 8
    assert not isinstance(list(net.modules())[-1], nn.ReLU)


def test_parameter_count_matches_thesis(net):
    assert N_PIXELS == 8912
    assert count_parameters(net) == PUBLISHED_PARAMETERS == 1_710_589


def test_forward_shape_and_finite(net):
    x = torch.rand(3, 2, N_PIXELS)
    with torch.no_grad():
        z = net(x)
    assert z.shape == (3,) and z.dtype == torch.float32
    assert torch.isfinite(z).all()


def test_other_lengths_and_registry():
    model = build("baseline", n_pixels=2048)
    assert isinstance(model, BaselineCNN) and NETWORKS["baseline"] is BaselineCNN
    assert model(torch.rand(2, 2, 2048)).shape == (2,)
    assert feature_length(N_PIXELS) == 17
    with pytest.raises(ValueError, match="too short"):
        BaselineCNN(n_pixels=64)
    with pytest.raises(ValueError, match="unknown network"):
        build("nope")


def test_inputs_map_each_row_and_channel_to_unit_interval():
    rng = np.random.default_rng(1)
    wave = np.sort(rng.uniform(4100.0, 11000.0, size=(4, 50)), axis=1)
    flux = rng.normal(3e-17, 1e-17, size=(4, 50))
    x = baseline_inputs(wave, flux)
    assert x.shape == (4, 2, 50) and x.dtype == torch.float32
    assert torch.allclose(x.amin(dim=2), torch.zeros(4, 2))
    assert torch.allclose(x.amax(dim=2), torch.ones(4, 2))
    expected = (flux[2] - flux[2].min()) / (flux[2].max() - flux[2].min())
    np.testing.assert_allclose(x[2, 1].numpy(), expected, rtol=1e-6, atol=1e-7)


def test_inputs_constant_rows_and_shared_wavelength():
    wave = np.linspace(4100.0, 11000.0, 20)
    flux = np.vstack([np.full(20, 5.0), np.zeros(20), np.arange(20.0)])
    x = baseline_inputs(wave, torch.as_tensor(flux))
    assert x.shape == (3, 2, 20)
    assert torch.isfinite(x).all()
    assert (x[:2, 1] == 0).all()
    assert torch.allclose(x[:, 0], torch.linspace(0, 1, 20).expand(3, 20), atol=1e-6)


def test_count_macs_exact_on_hand_made_model():
    # Input (2, 10). Conv1d(2->3, k3): out 3 x 8 -> 3*2*3*8 = 144.
    # Grouped Conv1d(3->6, k2, groups 3): out 6 x 7 -> 6*(3/3)*2*7 = 84.
    # ReLU, BatchNorm, MaxPool1d(2) (6 x 3): 0. Flatten 18 -> Linear(18, 5): 90; Linear(5, 1): 5.
    model = nn.Sequential(
        nn.Conv1d(2, 3, 3), nn.ReLU(), nn.Conv1d(3, 6, 2, groups=3), nn.BatchNorm1d(6), nn.MaxPool1d(2),
        nn.Flatten(), nn.Linear(18, 5), nn.ReLU(), nn.Linear(5, 1),
    )
    assert count_macs(model, (2, 10)) == 144 + 84 + 90 + 5
    assert model.training  # flag restored
    # params: conv 3*2*3+3=21, grouped 6*1*2+6=18, BN 12, dense 18*5+5=95 and 5+1=6.
    assert count_parameters(model) == 21 + 18 + 12 + 95 + 6


def test_count_macs_conv2d_and_positional_linear():
    # Conv2d(1->4, (1, 3), stride (1, 2)) on (1, 1, 11): out 4 x 1 x 5 -> 4*1*3*5 = 60.
    # Linear(5, 2) on (4, 1, 5): 4 positions x 5*2 = 40.
    model = nn.Sequential(nn.Conv2d(1, 4, (1, 3), stride=(1, 2)), nn.Linear(5, 2))
    assert count_macs(model, (1, 1, 11)) == 60 + 40


def test_count_parameters_skips_frozen():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 3


def test_baseline_macs(net):
    assert count_macs(net, (2, N_PIXELS)) == 3_959_538
