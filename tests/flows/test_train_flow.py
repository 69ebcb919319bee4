"""End to end: `spectroflow train` runs the Prefect flow and leaves a usable model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.learn.networks import build_from_card
from pipeline.learn.training import load_model

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_train_cli_writes_a_model_and_reports_to_prefect(prefect_api, small_training_store, tmp_path):
    out = tmp_path / "model"
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "train", "--store", small_training_store, "--out", str(out),
         "--epochs", "1", "--limit", "256", "--device", "auto"],
        cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained default for 1 epochs" in result.stdout
    card = json.loads((out / "card.json").read_text())
    assert card["training_store"]["fingerprint"] and card["code_version"].startswith("spectroflow")
    model, _ = load_model(out, build_from_card)
    assert sum(p.numel() for p in model.parameters()) > 0
    import urllib.request

    request = urllib.request.Request(f"{prefect_api}/flow_runs/filter", data=json.dumps(
        {"flow_runs": {"name": {"any_": ["train-default"]}}}).encode(), headers={"Content-Type": "application/json"})
    runs = json.load(urllib.request.urlopen(request, timeout=30))
    assert runs and runs[0]["state_type"] == "COMPLETED"


def test_train_cli_refuses_a_missing_store_before_starting(tmp_path):
    result = subprocess.run([sys.executable, "-m", "flows.cli", "train", "--store", str(tmp_path / "none.zarr")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "is not a spectra store" in result.stderr
