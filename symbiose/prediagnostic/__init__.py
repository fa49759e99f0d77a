"""Deductive pre-diagnostic: the probable flows of every firm of a park from
its sector and size, and whom to visit first.

- :mod:`firms`     the SIRENE-like firm list (``docs/prediagnostic.md``)
- :mod:`profiles`  sector x size profiles (``taxonomy/data/profiles.yaml``)
- :mod:`predict`   probable flows of one firm, with probability and range
- :mod:`visits`    the visit ranking and its French reasons
"""

from symbiose.prediagnostic.firms import Firm, ParsedFirms, read_firms
from symbiose.prediagnostic.predict import ProbableFlow, predict_firm, resource_family
from symbiose.prediagnostic.profiles import Profiles, get_profiles

__all__ = ["Firm", "ParsedFirms", "ProbableFlow", "Profiles", "get_profiles", "predict_firm", "read_firms",
           "resource_family"]
