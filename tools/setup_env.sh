#!/usr/bin/env bash
# Create .venv (Python 3.11) with the exact pins of requirements.txt, install the course
# package (so `import utils` works from lessons and tests) and register its Jupyter kernel.
# Idempotent: a second run only checks. Sourced by start.sh and test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "error: the course needs Python 3.11 (found: ${PYTHON:-none}). Install it, or use the conda route: conda env create -f environment.yml" >&2
  exit 2
fi

stamp=.venv/.installed-$(cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> Installing the course into .venv (first run takes a few minutes)"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  .venv/bin/python -m pip install --quiet --no-deps -e .
  .venv/bin/python -m pip check
  .venv/bin/python -m ipykernel install --sys-prefix --name faceexpr --display-name "Python 3.11 (faceexpr)" >/dev/null
  rm -f .venv/.installed-*
  touch "$stamp"
fi
