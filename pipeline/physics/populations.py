"""Galaxy populations: the integer code stored per spectrum and its name.

The default prior (``pipeline.physics.priors``) labels every row with a population in
the ``galaxy_class`` column (float64, like every label column; the value is one of the
integer codes below), so stores and evaluations can report per population:

==== ================= ===========================================================
code name              what the simulator renders
==== ================= ===========================================================
0    star-forming      main-sequence galaxy, HII-region lines
1    starburst         above the main sequence (>= 4x), young, dusty, HII lines
2    quiescent         old population, log SFR <= -4: no detectable lines
3    quiescent-LIER    old population with weak LIER-like lines (NLR grid, low U)
4    post-starburst    a 0.3-1.5 Gyr burst dominates (A stars), no or very weak lines
5    EELG              extreme emission-line dwarf: EW(Halpha) ~ 200-2000 Å, low Z
==== ================= ===========================================================

Codes 0-2 keep the meaning they had before populations 3-5 existed. The line source
of each population is ``LINE_GRID``: the MAPPINGS HII grid, or the narrow-line-region
grid at low ionisation parameter for LIER-like ratios (``nebular.load_line_grid``).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

#: Integer code -> population name (the ``galaxy_class`` label).
POPULATIONS: dict[int, str] = {
    0: "star-forming",
    1: "starburst",
    2: "quiescent",
    3: "quiescent-LIER",
    4: "post-starburst",
    5: "EELG",
}
#: Name -> integer code.
CODES: dict[str, int] = {name: code for code, name in POPULATIONS.items()}
#: Populations whose lines come from a grid other than "HII" (``nebular.load_line_grid``).
LINE_GRID: dict[int, str] = {CODES["quiescent-LIER"]: "NLR"}


def uses_grid(table: Mapping[str, np.ndarray], grid: str) -> np.ndarray:
    """Boolean (B,): rows whose lines come from ``grid`` other than "HII".

    Rows without a ``galaxy_class`` column (e.g. a hand-made table) use the HII grid.
    """
    cls = table.get("galaxy_class")
    if cls is None:
        return np.zeros(len(table["z"]), dtype=bool)
    codes = [code for code, name in LINE_GRID.items() if name == grid]
    return np.isin(np.asarray(cls), codes)


def names(codes) -> np.ndarray:
    """Population names of an array of codes (float or int), e.g. for a report table."""
    lookup = np.array([POPULATIONS[c] for c in sorted(POPULATIONS)], dtype=object)
    return lookup[np.asarray(codes).astype(np.int64)]
