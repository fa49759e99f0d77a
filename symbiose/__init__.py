"""symbiose: an open-source industrial-symbiosis engine.

Flow diagnostics of a territory's companies go into a flow graph; an
OR-Tools optimiser says which substitution and mutualisation synergies are
worth doing, how much, how far, in euros and tonnes of CO2, and why.
"""

__version__ = "0.1.0"
