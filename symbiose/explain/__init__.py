"""French sentences an animator can read out: one module per synergy type,
number formatting shared in :mod:`symbiose.explain.format`."""
