"""Real spectra with published redshifts (storage/real_spectra.json): every one reads,
its published redshift is the one its files state, and ingest + score with the shipped
model gives one catalogue row per spectrum. Skipped only when the files are not
unpacked (``python scripts/unpack_real_spectra.py``, which needs the registry once)."""

import shutil

import numpy as np
import pytest

from storage import real_spectra
from storage.readers import FORMATS, read

unpacked = pytest.mark.skipif(
    not real_spectra.available(),
    reason=f"real spectra not unpacked under {real_spectra.root()}: run `python scripts/unpack_real_spectra.py` "
           "(downloads the pinned wheels from the package registry once)")


def test_manifest_pins_every_file_it_uses():
    man = real_spectra.manifest()
    listed = {(f["package"], f["path"]) for f in man["files"]}
    assert all(len(w["sha256"]) == 64 and w["filename"].startswith(f"{w['package']}-{w['version']}-")
               for w in man["wheels"])
    assert {f["package"] for f in man["files"]} <= set(real_spectra.versions(man))
    for s in man["spectra"]:
        assert (s["package"], s["path"]) in listed and s["format"] in FORMATS[1:]
        z = s["published_z"]
        source = z.get("from") or z["quoted"]
        assert (s["package"], source["path"]) in listed and np.isfinite(z["value"])
    assert len({s["id"] for s in man["spectra"]}) == len(man["spectra"])


@unpacked
def test_every_spectrum_reads_with_its_format_and_targetid():
    for s in real_spectra.spectra():
        raw = read(s.path)  # auto-detection picks the manifest's format
        assert raw.format == s.format, s.id
        assert s.targetid in raw.targetid.tolist(), s.id
        assert all(np.isfinite(a.flux[a.ivar > 0]).all() and (a.ivar > 0).sum() > 1000 for a in raw.arms), s.id


@unpacked
def test_published_redshift_read_from_the_files_equals_the_manifest():
    spectra = real_spectra.spectra()
    for s in spectra:
        assert real_spectra.published_z_in_file(s) == s.z, s.id
    sources = {s.id: s.z_source for s in spectra}
    assert sources["sdss-ngc3522"].endswith("[SPECOBJ] Z") and "redrock" in sources["desi-sv1-80613"]
    assert sources["legac-m19-56670"] == "ppxf/examples/ppxf_example_legac_photometry.py line 172"


@unpacked
def test_a_changed_file_is_reported_missing(tmp_path):
    shutil.copytree(real_spectra.root(), tmp_path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("wheels"))
    assert real_spectra.missing(tmp_path) == []
    target = real_spectra.spectra(tmp_path)[0].path
    target.write_bytes(target.read_bytes()[:-10] + b"0" * 10)
    assert real_spectra.missing(tmp_path) == [target]


@unpacked
def test_ingest_and_score_with_the_shipped_model_give_one_row_per_spectrum(tmp_path):
    from flows.jobs.real_spectra import score, table
    from pipeline.learn.weights import shipped_dir

    spectra, cat, quarantined = score(str(shipped_dir("survey")), tmp_path)
    assert quarantined == []
    assert cat["TARGETID"].tolist() == [s.targetid for s in spectra]
    assert np.isfinite(cat["Z"]).all() and (cat["NPIX_GOOD"] > 1000).all()
    assert cat["ZWARN"].dtype.kind == "i"
    dz = (cat["Z"] - np.array([s.z for s in spectra])) / (1 + np.array([s.z for s in spectra]))
    assert np.isfinite(dz).all()
    rows = table(str(shipped_dir("survey")))
    assert [r["id"] for r in rows] == [s.id for s in spectra]
    assert all(isinstance(r["ZWARN"], int) and np.isfinite(r["dz_1pz"]) for r in rows)
    # the two SDSS galaxies (z ≈ 0.004) lie below the trained range, the others inside it
    assert [r["z_in_training_range"] for r in rows] == ["no", "no", "yes", "yes", "yes"]
