#!/usr/bin/env bash
# The filter lab as a stand-alone web app (Voila): the kernel explorer of lesson 2 and the
# feature-map browser of lesson 4, without the notebook's code.
#     apps/filter_lab.sh               # then open the address it prints (http://127.0.0.1:8866/)
#     apps/filter_lab.sh --port=9000   # extra options go to voila
# Settings: apps/voila.json (only the widget extension is loaded; listens on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")"
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=1
exec ../.venv/bin/voila filter_lab.ipynb --no-browser "$@"
