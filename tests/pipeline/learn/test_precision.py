import numpy as np
import torch

from pipeline.learn import inference, precision, weights
from pipeline.learn.networks import build_from_card, task_from_card
from pipeline.learn.training import load_model
from pipeline.sampling.grid import model_grid


def test_bf16_only_where_the_cpu_has_it_unless_forced(monkeypatch):
    monkeypatch.delenv(precision.OVERRIDE, raising=False)
    assert precision.use_bf16("cpu") == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    monkeypatch.setenv(precision.OVERRIDE, "0")
    assert not precision.use_bf16(torch.device("cpu"))
    monkeypatch.setenv(precision.OVERRIDE, "1")
    assert precision.use_bf16("cpu")


def test_fp32_and_bf16_network_outputs_agree(monkeypatch):
    """Either precision gives the shipped model's outputs (bf16 keeps 8 bits of mantissa)."""
    model, card = load_model(weights.resolve(weights.DEFAULT), build_from_card, device=torch.device("cpu"))
    task = task_from_card(card, model_grid().wavelength)
    rng = np.random.default_rng(1)
    flux = (1 + 0.1 * rng.normal(size=(8, model_grid().n))).astype(np.float32)
    x = torch.from_numpy(task.inputs(flux, np.full_like(flux, 100.0)))
    out = {}
    for forced in ("0", "1"):
        monkeypatch.setenv(precision.OVERRIDE, forced)
        outputs = inference.forward(model, x)
        out[forced] = [o.float().numpy() for o in (outputs if isinstance(outputs, tuple) else (outputs,))]
    for fp32, bf16 in zip(out["0"], out["1"]):
        scale = np.abs(fp32).max()
        assert np.abs(bf16 - fp32).max() < 0.05 * scale
