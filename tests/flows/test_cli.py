import subprocess
import sys

from PIL import Image


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, timeout=300)


def test_simulate_writes_a_png_of_the_spectra(tmp_path):
    out = tmp_path / "spectra.png"
    result = run_cli("simulate", "--n", "4", "--seed", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "simulated 4 deimos spectra" in result.stdout
    with Image.open(out) as image:
        assert image.size[0] > 500 and image.size[1] > 200


def test_unwritable_output_fails_with_a_clear_message(tmp_path):
    result = run_cli("simulate", "--n", "2", "--out", str(tmp_path / "missing" / "x.png"))
    assert result.returncode != 0
    assert "missing" in result.stderr


def test_generate_refuses_bad_configuration_before_starting_anything(tmp_path):
    """No Prefect server and no cluster are needed to be told what to change."""
    result = run_cli("generate", "--n", "0", "--out", str(tmp_path / "s.zarr"))
    assert result.returncode == 2 and "--n must be at least 1" in result.stderr
    result = run_cli("generate", "--n", "10", "--out", str(tmp_path / "nowhere" / "s.zarr"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "Prefect" not in result.stdout


def test_generate_refuses_a_store_made_differently_and_leaves_complete_ones_alone(tmp_path):
    from flows.jobs.generate import GenerateRequest, fill_chunk, prepare

    path = tmp_path / "s.zarr"
    for index in prepare(GenerateRequest(str(path), n=40, chunk=20, seed=3)):
        fill_chunk(str(path), index)
    result = run_cli("generate", "--n", "40", "--chunk", "20", "--seed", "4", "--out", str(path))
    assert result.returncode == 2
    assert "generator.seed: store has 3, this run asks for 4" in result.stderr
    result = run_cli("generate", "--n", "40", "--chunk", "20", "--seed", "3", "--out", str(path))
    assert result.returncode == 0 and "already complete" in result.stdout


def test_verify_reports_a_store(tmp_path):
    from flows.jobs.generate import GenerateRequest, prepare

    path = tmp_path / "s.zarr"
    prepare(GenerateRequest(str(path), n=40, chunk=20, seed=3))
    result = run_cli("verify", str(path))
    assert result.returncode == 1 and "incomplete 2 (0, 1)" in result.stdout


def test_cli_choices_match_the_pipelines_own_lists():
    from flows.cli import common
    from pipeline.physics.simulate import PRESETS
    from storage.readers import FORMATS

    assert set(common.PRESETS) == set(PRESETS)
    assert set(common.FORMATS) == set(FORMATS)
