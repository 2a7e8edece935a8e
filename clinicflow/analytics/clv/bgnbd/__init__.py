"""The BG/NBD model of visit counts (Fader, Hardie & Lee, 2005): ``model`` holds the parameters, the
likelihood, the predictions and the simulation (its docstring states the model), ``fitting`` the
maximum-likelihood fit. Everything is importable from here, as ``bgnbd.fit`` or ``bgnbd.BGNBDParams``.
"""

from clinicflow.analytics.clv.bgnbd.fitting import (
    BGNBDFit,
    _HomogeneousObjective,
    _Objective,
    compress,
    fit,
    log_likelihood_homogeneous,
    unique_rows,
)
from clinicflow.analytics.clv.bgnbd.model import (
    BOUNDARY_HOMOGENEOUS,
    HOMOGENEOUS_AB,
    PARAM_NAMES,
    BGNBDParams,
    FloatArray,
    _expected_if_alive,
    conditional_expected_visits,
    expected_visits,
    log_likelihood,
    probability_alive,
    simulate,
)

__all__ = [
    "BOUNDARY_HOMOGENEOUS",
    "HOMOGENEOUS_AB",
    "PARAM_NAMES",
    "BGNBDFit",
    "BGNBDParams",
    "FloatArray",
    "_HomogeneousObjective",
    "_Objective",
    "_expected_if_alive",
    "compress",
    "conditional_expected_visits",
    "expected_visits",
    "fit",
    "log_likelihood",
    "log_likelihood_homogeneous",
    "probability_alive",
    "simulate",
    "unique_rows",
]
