#!/usr/bin/env bash
# Set up the course (first run) and open it in JupyterLab on http://127.0.0.1:8888.
#   ./start.sh                  the STUDENT edition (no solutions), in the locale's language
#   ./start.sh --lang ro|en     ... in Romanian / English (default: ro when LC_ALL or LANG starts with "ro", else en)
#   ./start.sh --solutions      self-learners: the same lessons in one language WITH the solutions
#   ./start.sh --instructor     the instructor's source (lessons/, bilingual, solutions + hidden tests);
#                               the server root is the repository, so nbgrader's formgrader works
#   ./start.sh --headless       no browser: execute every lesson top to bottom into build/html/
#   ./start.sh --print-command  print what would run (set-up, build, server) and run nothing
# The editions are built (tools/editions.py) when missing or older than lessons/.
# FER2013 is used when found ($FER2013_DIR or data/fer2013), else the offline synthetic faces.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }

locale_lang="${LC_ALL:-${LANG:-}}"
case "$locale_lang" in ro*) lang=ro ;; *) lang=en ;; esac
mode=student
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --lang)
      [ $# -ge 2 ] || { echo "error: --lang needs a value: --lang ro or --lang en" >&2; exit 2; }
      lang="$2"; shift 2 ;;
    --lang=*) lang="${1#--lang=}"; shift ;;
    --instructor) mode=instructor; shift ;;
    --solutions) mode=solutions; shift ;;
    --headless) mode=headless; shift ;;
    --print-command|--dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1'. Options: --lang ro|en, --solutions, --instructor, --headless, --print-command" >&2; exit 2 ;;
  esac
done
case "$lang" in
  ro|en) ;;
  *) echo "error: --lang must be 'ro' or 'en', got '$lang'" >&2; exit 2 ;;
esac

# run CMD...: print it, and run it unless --print-command.
run() {
  echo "\$ $*"
  [ "$dry_run" = 1 ] || "$@"
}

run tools/setup_env.sh
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=1

lab=(.venv/bin/jupyter lab --ip=127.0.0.1)
[ "$(id -u)" = 0 ] && lab+=(--allow-root)

case "$mode" in
  headless)
    [ "$dry_run" = 1 ] || mkdir -p build/html
    for lesson in lessons/[0-9]*.ipynb; do
      echo "==> Executing $lesson"
      run .venv/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=1200 \
        --ExecutePreprocessor.kernel_name=python3 --output-dir build/html "$lesson"
    done
    echo "Done: open build/html/*.html"
    exit 0 ;;
  student)
    root="build/student/$lang"
    run .venv/bin/python tools/editions.py student --lang "$lang" --if-stale
    echo "Student edition ($lang, no solutions): $root/"
    echo "The instructor's source (solutions, hidden tests, nbgrader): lessons/ -- ./start.sh --instructor"
    echo "Learning on your own? The lessons with their solutions: ./start.sh --solutions --lang $lang" ;;
  solutions)
    root="build/editions/$lang"
    run .venv/bin/python tools/editions.py language --lang "$lang" --if-stale
    echo "Lessons WITH solutions ($lang): $root/ -- try each exercise in ./start.sh first" ;;
  instructor)
    root="."
    course="${FACEEXPR_COURSE_DIR:-build/nbgrader}"
    case "$(realpath -m "$course")/" in
      "$(pwd -P)"/*) ;;
      *) echo "warning: FACEEXPR_COURSE_DIR=$course is outside the repository, the server root:" \
              "the formgrader will not work. Use a course directory inside $(pwd -P)." >&2 ;;
    esac
    lab+=(--ServerApp.default_url=/lab/tree/lessons)
    echo "Instructor: the bilingual source is lessons/; nbgrader's formgrader: menu Nbgrader -> Formgrader" ;;
esac
lab+=("--ServerApp.root_dir=$root")
echo "\$ ${lab[*]}"
[ "$dry_run" = 1 ] && exit 0
exec "${lab[@]}"
