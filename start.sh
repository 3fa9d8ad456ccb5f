#!/usr/bin/env bash
# Set up the course (first run) and open the lessons in JupyterLab.
#   ./start.sh              JupyterLab on http://127.0.0.1:8888 with the lessons
#   ./start.sh --headless   no browser: execute every lesson top to bottom into build/html/
# FER2013 is used when found ($FER2013_DIR or data/fer2013), else the offline synthetic faces.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup_env.sh
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=1
if [ "${1:-}" = "--headless" ]; then
  mkdir -p build/html
  for lesson in lessons/[0-9]*.ipynb; do
    echo "==> Executing $lesson"
    .venv/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=1200 \
      --ExecutePreprocessor.kernel_name=python3 --output-dir build/html "$lesson"
  done
  echo "Done: open build/html/*.html"
else
  root_flag=""
  [ "$(id -u)" = 0 ] && root_flag="--allow-root"
  exec .venv/bin/jupyter lab --ip=127.0.0.1 $root_flag --notebook-dir=. lessons/
fi
