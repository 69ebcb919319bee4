"""The default network: input preparation, shapes, cost, identity-initialised residuals."""

import numpy as np
import torch

from pipeline.learn.networks.default import POOL, DefaultNet, DefaultTask, Residual, prepare_inputs
from pipeline.learn.networks.macs import count_macs


def test_prepare_inputs_pools_scales_and_masks():
    flux = np.ones((3, 16), dtype=np.float32) * 5.0
    ivar = np.full((3, 16), 4.0, dtype=np.float32)
    ivar[1, :8] = 0.0
    flux[2, 3] = np.nan
    x = prepare_inputs(flux, ivar)
    assert x.shape == (3, 2, 16 // POOL) and np.isfinite(x).all()
    np.testing.assert_allclose(x[0, 0], np.arcsinh(1.0), rtol=1e-6)  # flux / rms = 1
    np.testing.assert_allclose(x[0, 1], np.arcsinh(5.0 * 2.0) / 3, rtol=1e-6)  # rms * sqrt(ivar)
    np.testing.assert_array_equal(x[1, :, :2], 0.0)  # uncovered pixels give 0
    # the NaN pixel counts as uncovered: the group's mean is that of its 3 covered pixels
    np.testing.assert_allclose(x[2], x[0], rtol=1e-6)


def test_prepare_inputs_mean_is_over_covered_pixels_so_holes_leave_no_dips():
    rng = np.random.default_rng(1)
    flux = (5.0 + rng.normal(0.0, 0.1, (1, 4096))).astype(np.float32)
    ivar = np.full(flux.shape, 4.0, np.float32)
    holes = ivar.copy()
    holes[:, ::7] = 0.0  # every 7th pixel masked: 1 or 2 of each group of 4
    x, y = prepare_inputs(flux, ivar), prepare_inputs(flux, holes)
    np.testing.assert_allclose(y, x, rtol=0.03)  # no comb of dips the network would read as lines


def test_outputs_have_the_bins_and_property_shapes():
    task = DefaultTask({"log_sfr": (0.0, 1.0), "ebv": (0.2, 0.1)})
    model = task.build(10240)
    logits, ism = model(torch.zeros(4, 2, 10240 // POOL))
    assert logits.shape == (4, task.bins.n) and ism.shape == (4, 2, 2)
    pred = task.predict((logits, ism))
    assert pred["z"].shape == (4,) and pred["ebv_err"].shape == (4,)


def test_cost_is_lean():
    macs = count_macs(DefaultNet(), (2, 10240 // POOL))
    assert 5e6 < macs < 2e7  # ~13 M multiply-accumulates per spectrum


def test_residual_blocks_start_as_identities():
    block = Residual(8)
    x = torch.rand(2, 8, 1, 32)
    torch.testing.assert_close(block(x), torch.relu(x))


def test_loss_prefers_the_true_redshift():
    task = DefaultTask({"log_sfr": (0.0, 1.0)})
    labels = {"z": np.array([1.0], np.float32), "log_sfr": np.array([0.0], np.float32)}
    targets = {k: torch.from_numpy(v) for k, v in task.targets(labels).items()}
    good = torch.full((1, task.bins.n), -20.0)
    good[0, int(np.log1p(1.0) / task.bins.step)] = 20.0
    bad = torch.roll(good, 100, dims=1)
    ism = torch.zeros(1, 1, 2)
    assert task.loss((good, ism), targets) < task.loss((bad, ism), targets)


def test_a_class_head_learns_spectype_and_masks_the_other_losses():
    task = DefaultTask({"log_sfr": (0.0, 1.0)}, classes=["GALAXY", "QSO", "STAR", "SKY"])
    net = task.build(1024)
    labels = {"z": np.array([0.5, 2.0, 0.0, 0.0]), "log_sfr": np.array([1.0, 5.0, -3.0, 9.0]),
              "spectype": np.array([0.0, 1.0, 2.0, 3.0])}
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(4, 2, 256)).astype(np.float32))
    out = net(x)
    assert len(out) == 3 and out[2].shape == (4, 4)
    targets = {k: torch.from_numpy(v) for k, v in task.targets(labels).items()}
    loss = task.loss(out, targets)
    # the ISM label of a quasar, a star or a sky fibre does not enter the loss
    changed = {**labels, "log_sfr": np.array([1.0, -50.0, 50.0, 0.0])}
    targets2 = {k: torch.from_numpy(v) for k, v in task.targets(changed).items()}
    assert torch.isclose(loss, task.loss(out, targets2))
    pred = task.predict(out)
    np.testing.assert_allclose(pred["p_class"].sum(axis=1), 1.0, rtol=1e-5)
    assert set(pred["spectype"]) <= {0, 1, 2, 3}
    assert task.card()["classes"] == ["GALAXY", "QSO", "STAR", "SKY"]
    assert net.config["n_classes"] == 4


def test_a_model_without_class_head_keeps_two_outputs():
    task = DefaultTask({"log_sfr": (0.0, 1.0)})
    out = task.build(1024)(torch.zeros(2, 2, 256))
    assert len(out) == 2 and "p_class" not in task.predict(out)
