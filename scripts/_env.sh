# Sourced by scripts/demo and scripts/test: a project virtual environment in
# .venv, (re)installed when pyproject.toml changes. Needs Python >= 3.11.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then PY="$cand"; break; fi
  done
fi
[ -n "$PY" ] || { echo "symbiose needs Python >= 3.11" >&2; exit 2; }
STAMP=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$STAMP" ]; then
  echo "Installing symbiose and its dependencies into .venv (first run only)..." >&2
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  quiet() { grep -v "^WARNING: Location" >&2 || true; }  # this machine's pip config notes
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | quiet
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet -e ".[test]" 2>&1 | quiet  # pipefail: a pip failure stops here
  rm -f .venv/.installed-*
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
