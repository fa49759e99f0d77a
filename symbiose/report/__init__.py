"""Reports of a matching run: the synergy JSON (``synergy-output.md``) and,
beside it, the human-readable reports."""
