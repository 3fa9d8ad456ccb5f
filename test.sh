#!/usr/bin/env bash
# Set up the course (first run) and run the whole test suite: unit tests, every lesson
# executed headless, and the other groups (pytest markers: notebooks, grading, browser,
# webapp, slow). Extra arguments go to pytest, e.g. ./test.sh -m "not slow".
# The lint (ruff, rules in pyproject.toml) runs first: a finding fails the run, in CI too.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup_env.sh
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=1
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
