"""The resource taxonomy: resources, substitution rules, pooling families and
economic parameters, all read from the data files beside this module.

Files (``symbiose/taxonomy/data``):

- ``sources.yaml``     bibliography: ``id -> {title, publisher, year, url}``
- ``parameters.yaml``  territory-wide numbers (transport €/t·km, kgCO2e/t·km, ...)
- ``resources.yaml``   the dotted hierarchy of resource codes
- ``rules.yaml``       substitution rules: which outputs can feed which inputs
- ``pooling.yaml``     mutualisation families with critical mass and costs
- ``ewc.csv``          European List of Waste; ``naf.csv`` NAF rev. 2
- ``ewc_resources.csv`` the resource each EWC entry maps to: rows for entries
  (exact), sub-chapters and chapters (defaults, with a separate default for
  hazardous entries); read it with ``Taxonomy.ewc_mapping`` / ``resource_for_ewc``

``Taxonomy.codes_for_naf`` lists the codes a firm of a NAF activity produces or
uses (from each code's ``naf_hints``), most specific hint first.

A child code inherits every field it leaves unset from its nearest ancestor,
so ``wood.pallet.euro`` gets the distance, prices and factors of
``wood.pallet`` unless it says otherwise. Every number is a :class:`Figure`
with a ``source`` id that must exist in ``sources.yaml``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from symbiose.taxonomy.model import (
    EwcMapping,
    Figure,
    PoolingFamily,
    Resource,
    SubstitutionRule,
    Taxonomy,
    load_taxonomy,
)

DATA_DIR = Path(__file__).parent / "data"


@lru_cache(maxsize=4)
def get_taxonomy(path: str | None = None) -> Taxonomy:
    """The taxonomy shipped with the package (or from ``path``), loaded once."""
    return load_taxonomy(Path(path) if path else DATA_DIR)


__all__ = [
    "DATA_DIR",
    "EwcMapping",
    "Figure",
    "PoolingFamily",
    "Resource",
    "SubstitutionRule",
    "Taxonomy",
    "get_taxonomy",
    "load_taxonomy",
]
