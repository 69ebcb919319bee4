"""The training loop on a small real store: learning, checkpoints, resume, errors."""

import json

import numpy as np
import pytest
import torch
import zarr

from pipeline.learn.networks import build_from_card, make_task
from pipeline.learn.training import CheckpointError, TrainConfig, evaluate, fit, load_model, resolve_device
from storage.loader import StoreBatches, label_stats


@pytest.fixture
def setup(small_training_store):
    wavelength = zarr.open_array(small_training_store, path="wavelength", mode="r")[:]
    task = make_task("default", wavelength, label_stats(small_training_store, ["log_sfr", "ebv"]))
    train = StoreBatches(small_training_store, "train", 64, transform=task.inputs)
    val = StoreBatches(small_training_store, "val", 128, transform=task.inputs)
    return task, train, val


def test_a_few_steps_reduce_the_loss(setup):
    task, train, val = setup
    torch.manual_seed(0)
    model = task.build(10240)
    before = float(evaluate(task, model, val, torch.device("cpu"))["loss"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for batch in list(train) * 3:  # ~50 steps of 64
        x = torch.from_numpy(batch.inputs)
        t = {k: torch.from_numpy(v) for k, v in task.targets(batch.labels).items()}
        loss = task.loss(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = float(evaluate(task, model, val, torch.device("cpu"))["loss"])
    assert after < before - 0.3


def test_checkpoint_round_trips_and_training_resumes(setup, tmp_path):
    task, train, val = setup
    logs = []
    card = fit(task, task.build(10240), train, val, TrainConfig(max_epochs=1, bf16=False), tmp_path, log=logs.append)
    assert card["epochs"] == 1 and (tmp_path / "model.pt").exists() and (tmp_path / "last.pt").exists()
    model, loaded = load_model(tmp_path, build_from_card)
    assert loaded["task"] == "default" and loaded["label_stats"] == json.loads(json.dumps(task.label_stats))
    a = evaluate(task, model, val, torch.device("cpu"), bf16=False)
    card2 = fit(task, task.build(10240), train, val, TrainConfig(max_epochs=2, bf16=False), tmp_path,
                log=logs.append)
    assert any("resuming after epoch 1" in line for line in logs)
    assert card2["epochs"] == 2 and len(card2["history"]) == 2
    b = evaluate(task, load_model(tmp_path, build_from_card)[0], val, torch.device("cpu"), bf16=False)
    assert np.isfinite(a["z"]).all() and np.isfinite(b["z"]).all()


def test_corrupt_or_mismatched_checkpoints_fail_clearly(setup, tmp_path):
    task, train, val = setup
    fit(task, task.build(10240), train, val, TrainConfig(max_epochs=1, bf16=False), tmp_path, log=lambda m: None)
    card = json.loads((tmp_path / "card.json").read_text())
    card["model"]["hidden"] = 64
    with pytest.raises(CheckpointError, match="do not fit this architecture"):
        load_model(tmp_path, lambda c: build_from_card(card))
    (tmp_path / "model.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="model.pt: not a readable checkpoint"):
        load_model(tmp_path, build_from_card)
    (tmp_path / "card.json").write_text("{")
    with pytest.raises(CheckpointError, match="card.json: not valid JSON"):
        load_model(tmp_path, build_from_card)
    with pytest.raises(CheckpointError, match="missing"):
        load_model(tmp_path / "nowhere", build_from_card)


def test_device_choice():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
