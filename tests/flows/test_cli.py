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
