#!/usr/bin/env bash
# Build the hub's shared environment: a venv that every account can run, holding JupyterHub,
# the course's pinned packages and the course package `utils` installed from a wheel
# (non-editable: lessons/, the instructor's solutions, are not in it), plus the shipped model.
#
#   deploy/jupyterhub/build_student_env.sh PREFIX [--lean]
#
# PREFIX (e.g. /opt/faceexpr) gets venv/ and etc/ (student-only Jupyter settings). --lean skips
# the course's scientific stack (tests only). Python 3.11 from PYTHON, else python3.11 on PATH:
# it must be readable by every user (not under /root).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
prefix="${1:?usage: build_student_env.sh PREFIX [--lean]}"
lean="${2:-}"
python="${PYTHON:-$(command -v python3.11 || true)}"
[ -n "$python" ] || { echo "error: python3.11 not found (set PYTHON=/path/to/python3.11)" >&2; exit 2; }
real_python="$("$python" -c 'import os, sys; print(os.path.realpath(sys.executable))')"
case "$real_python" in /root/*|/home/*) echo "error: $real_python is private to one account; students' servers could not run it. Use a system Python 3.11 (PYTHON=/usr/bin/python3.11)." >&2; exit 2;; esac
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
venv="$prefix/venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet)
if [ "$lean" = "--lean" ]; then
  "${pip[@]}" -r "$here/requirements-lean.txt" -r "$here/requirements.txt"
else
  "${pip[@]}" -r "$repo/requirements.txt" -r "$here/requirements.txt"
fi
# The course package from a wheel built from the repository: copies utils/ and webapp/ only.
wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
"$venv/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation -w "$wheels" "$repo" 2>/dev/null \
  || "$venv/bin/python" -m pip wheel --quiet --no-deps -w "$wheels" "$repo"
"${pip[@]}" --no-deps --force-reinstall "$wheels"/faceexpr_course-*.whl
# utils finds the shipped model at <folder holding utils/>/models/ (utils/constants.py).
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$site/models"
cp "$repo"/models/*.keras "$repo"/models/*.json "$repo"/models/MODEL_CARD.md "$site/models/" 2>/dev/null || true
"$venv/bin/python" -m ipykernel install --sys-prefix --name faceexpr --display-name "Python 3.11 (faceexpr)" >/dev/null
# Students' servers read $prefix/etc/student (JUPYTER_CONFIG_PATH, set by jupyterhub_config.py):
# the instructor-only nbgrader extensions are off there (nbgrader docs, "Using nbgrader with JupyterHub").
mkdir -p "$prefix/etc/student/labconfig"
cat > "$prefix/etc/student/jupyter_server_config.json" <<'JSON'
{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": false, "nbgrader.server_extensions.course_list": false}}}
JSON
cat > "$prefix/etc/student/labconfig/page_config.json" <<'JSON'
{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true, "@jupyter/nbgrader:create-assignment": true, "@jupyter/nbgrader:course-list": true}}
JSON
# Every account's nbgrader reads this: the course id and the exchange (the spawner sets FACEEXPR_EXCHANGE).
mkdir -p "$venv/etc/jupyter"
cat > "$venv/etc/jupyter/nbgrader_config.py" <<'PY'
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "faceexpr"
c.Exchange.root = os.environ.get("FACEEXPR_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
PY
chmod -R a+rX "$prefix"
if grep -rIl --include='*.ipynb' --include='*.py' "BEGIN SOLUTION" "$site/utils" "$site/webapp" "$site/models" 2>/dev/null; then
  echo "error: solution markers inside the student environment (above)" >&2; exit 1
fi
echo "student environment ready: $venv (jupyterhub-singleuser: $venv/bin/jupyterhub-singleuser)"
