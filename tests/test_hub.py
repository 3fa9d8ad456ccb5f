"""deploy/jupyterhub/ for real: a hub on 127.0.0.1, one instructor and two students (system users).

The instructor releases lesson 01 through the formgrader's API, both students fetch it from
nbgrader's exchange, one edits and submits, the instructor collects, autogrades and releases
the feedback from their clone (tools/grading.py, nbgrader release_feedback), and the student
fetches it through her server. Then: no solution marker
anywhere a student can read (home, environment), the instructor's lessons/ is unreadable for a
student, and the formgrader answers the instructor only. Needs root (system users, setuid),
Python 3.11 at /usr/bin/python3.11 (or HUB_PYTHON) and configurable-http-proxy (npm).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.hub

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "jupyterhub"
LESSON = "01_images_bgr_rgb"
MARKER = "### BEGIN SOLUTION"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proxy() -> str:
    for candidate in (os.environ.get("FACEEXPR_CHP"), str(ROOT / "build/hub/node/node_modules/.bin/configurable-http-proxy"),
                      shutil.which("configurable-http-proxy")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("configurable-http-proxy not found: npm install --prefix build/hub/node configurable-http-proxy@5.3.0")


def _environment() -> Path:
    """The lean hub environment, built once into build/hub/env by build_student_env.sh."""
    prefix = ROOT / "build" / "hub" / "env"
    recipe = b"".join((DEPLOY / name).read_bytes() for name in ("build_student_env.sh", "requirements.txt", "requirements-lean.txt"))
    stamp = prefix / f".built-{hashlib.sha256(recipe).hexdigest()[:12]}"  # rebuilt when the recipe changes
    if not stamp.exists():
        env = dict(os.environ, PYTHON=os.environ.get("HUB_PYTHON", "/usr/bin/python3.11"))
        subprocess.run([str(DEPLOY / "build_student_env.sh"), str(prefix), "--lean"], check=True, env=env)
        stamp.touch()
    return prefix


def _request(url: str, token: str, method: str = "GET", data: dict | None = None, form: bool = False) -> tuple[int, str]:
    body, headers = None, {"Authorization": f"token {token}"}
    if data is not None:
        if form:
            body, headers["Content-Type"] = urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"
        else:
            body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=180) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _as_user(user: str, code: str, python: Path) -> subprocess.CompletedProcess:
    """Run ``code`` as ``user`` with a clean environment (nothing of this test's PYTHONPATH)."""
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin", str(python), "-c", code],
                          capture_output=True, text=True, timeout=120, cwd="/")


@pytest.fixture(scope="module")
def hub() -> Iterator[dict]:
    """A running hub with users ``instructor``, ``students`` and an admin token; torn down after."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("the hub test creates system users: run it as root (CI does)")
    prefix, chp = _environment(), _proxy()
    base = Path(tempfile.mkdtemp(prefix="faceexpr-hub-"))  # not pytest's tmp_path: it is private to root
    base.chmod(0o755)
    tag = secrets.token_hex(2)
    instructor, students = f"fxi{tag}", [f"fxa{tag}", f"fxb{tag}"]
    users = [instructor, *students]
    (base / "home").mkdir(mode=0o755)
    for name in users:
        subprocess.run(["useradd", "--create-home", "--home-dir", str(base / "home" / name), "--shell", "/bin/bash", name], check=True)
        (base / "home" / name).chmod(0o700)
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    # The instructor's clone (what they edit and grade from), in their private home.
    course_repo = base / "home" / instructor / "faceexpr"
    for part in ("lessons", "utils", "tools", "nbgrader_config.py", "pyproject.toml"):
        source = ROOT / part
        (shutil.copytree(source, course_repo / part, ignore=shutil.ignore_patterns("__pycache__")) if source.is_dir()
         else shutil.copy2(source, course_repo / part))
    release_env = {k: v for k, v in os.environ.items() if k != "FACEEXPR_COURSE_DIR"} | {"PYTHONPATH": str(course_repo)}
    subprocess.run([sys.executable, "tools/grading.py", "--course-dir", str(course_repo / "build" / "nbgrader"), "release", LESSON,
                    "--out", str(course_repo / "build" / "student")], cwd=course_repo, check=True, capture_output=True, env=release_env)
    jupyter = base / "home" / instructor / ".jupyter"
    jupyter.mkdir()
    (jupyter / "nbgrader_config.py").write_text(f"c = get_config()  # noqa: F821\nload_subconfig({str(course_repo / 'nbgrader_config.py')!r})  # noqa: F821\n")
    subprocess.run(["chown", "-R", f"{instructor}:{instructor}", str(base / "home" / instructor)], check=True)
    token, port, hub_port = secrets.token_hex(16), _free_port(), _free_port()
    while hub_port + 1 == port:
        hub_port = _free_port()
    env = dict(os.environ, FACEEXPR_PREFIX=str(prefix), FACEEXPR_EXCHANGE=str(exchange), FACEEXPR_STATE=str(base / "state"),
               FACEEXPR_INSTRUCTORS=instructor, FACEEXPR_STUDENTS=",".join(students), FACEEXPR_AUTH="dummy",
               FACEEXPR_PORT=str(port), FACEEXPR_HUB_PORT=str(hub_port), FACEEXPR_CHP=chp, FACEEXPR_API_TOKEN=token,
               FER2013_DIR=os.environ.get("FER2013_DIR", "/srv/data/fer2013"))
    env["PATH"] = f"{prefix / 'venv' / 'bin'}:{Path(chp).parent}:{env['PATH']}"
    log = open(base / "hub.log", "w")
    process = subprocess.Popen([str(prefix / "venv" / "bin" / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")],
                               cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if process.poll() is not None:
                pytest.fail(f"the hub exited ({process.returncode}):\n{(base / 'hub.log').read_text()[-4000:]}")
            try:
                if _request(f"{url}/hub/api/", token)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the hub did not answer within 60 s")
        yield {"url": url, "token": token, "instructor": instructor, "students": students, "base": base, "prefix": prefix,
               "exchange": exchange, "course": course_repo, "grading_env": release_env, "log": base / "hub.log"}
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        for name in users:
            subprocess.run(["pkill", "-u", name], check=False)
        time.sleep(1)
        for name in users:
            subprocess.run(["userdel", name], check=False, capture_output=True)
        if os.environ.get("HUB_TEST_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


def _start(hub: dict, user: str) -> str:
    """Spawn ``user``'s server; return a token of that user."""
    url, admin = hub["url"], hub["token"]
    status, text = _request(f"{url}/hub/api/users/{user}/server", admin, "POST", {})
    assert status in (201, 202), f"spawning {user}: {status} {text}\n{hub['log'].read_text()[-3000:]}"
    for _ in range(240):
        model = json.loads(_request(f"{url}/hub/api/users/{user}", admin)[1])
        if model.get("server") and not model.get("pending"):
            break
        if not model.get("pending") and "failed to start" in hub["log"].read_text():
            pytest.fail(f"{user}'s server failed to start:\n{hub['log'].read_text()[-3000:]}")
        time.sleep(0.5)
    else:
        pytest.fail(f"{user}'s server did not start in 120 s:\n{hub['log'].read_text()[-3000:]}")
    status, text = _request(f"{url}/hub/api/users/{user}/tokens", admin, "POST", {"note": "hub test", "expires_in": 3600})
    assert status == 201, text
    return json.loads(text)["token"]


def test_release_fetch_submit_collect(hub: dict) -> None:
    """The whole exchange round trip, with the formgrader for the instructor only."""
    started = time.monotonic()
    url, instructor, (alice, bob) = hub["url"], hub["instructor"], hub["students"]
    tokens = {user: _start(hub, user) for user in (instructor, alice, bob)}
    grader = f"{url}/user/{instructor}/formgrader/api"

    status, text = _request(f"{grader}/assignments", tokens[instructor])
    assert status == 200, f"formgrader for the instructor: {status} {text[:500]}"
    assert LESSON in text, f"the formgrader does not see the course directory: {text[:500]}"
    status, text = _request(f"{grader}/assignment/{LESSON}/release", tokens[instructor], "POST", {})
    assert status == 200 and json.loads(text)["success"], f"release_assignment: {text[:2000]}"
    assert (hub["exchange"] / "faceexpr" / "outbound" / LESSON / f"{LESSON}.ipynb").exists()

    for student in (alice, bob):  # the formgrader: refused on the instructor's server, absent on their own
        assert _request(f"{grader}/assignments", tokens[student])[0] in (403, 404)
        assert _request(f"{url}/user/{student}/formgrader/api/assignments", tokens[student])[0] == 404
        status, text = _request(f"{url}/user/{student}/assignments/fetch", tokens[student], "POST",
                                {"course_id": "faceexpr", "assignment_id": LESSON}, form=True)
        assert status == 200 and json.loads(text)["success"], f"{student} fetch: {text[:2000]}"

    notebook = f"{url}/user/{alice}/api/contents/faceexpr/{LESSON}/{LESSON}.ipynb"
    status, text = _request(notebook, tokens[alice])
    assert status == 200, f"alice cannot open the fetched lesson: {text[:500]}"
    model = json.loads(text)
    model["content"]["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "alice was here"})
    assert _request(notebook, tokens[alice], "PUT", {"type": "notebook", "format": "json", "content": model["content"]})[0] == 200
    status, text = _request(f"{url}/user/{alice}/assignments/submit", tokens[alice], "POST",
                            {"course_id": "faceexpr", "assignment_id": LESSON}, form=True)
    assert status == 200 and json.loads(text)["success"], f"alice submit: {text[:2000]}"
    inbound = list((hub["exchange"] / "faceexpr" / "inbound").iterdir())
    assert [path.name.split("+")[0] for path in inbound] == [alice], inbound

    status, text = _request(f"{grader}/assignment/{LESSON}/collect", tokens[instructor], "POST", {})
    assert status == 200 and json.loads(text)["success"], f"collect: {text[:2000]}"
    collected = hub["course"] / "build" / "nbgrader" / "submitted" / alice / LESSON / f"{LESSON}.ipynb"
    assert "alice was here" in collected.read_text()
    assert not (hub["course"] / "build" / "nbgrader" / "submitted" / bob).exists()

    # The instructor grades from their clone, as the guide says, and hands the feedback back.
    course_dir = hub["course"] / "build" / "nbgrader"

    def instructor_runs(*arguments: str) -> str:
        done = subprocess.run(arguments, cwd=hub["course"], capture_output=True, text=True, timeout=600,
                              env=hub["grading_env"] | {"FACEEXPR_COURSE_DIR": str(course_dir)})
        assert done.returncode == 0, f"{' '.join(arguments[1:3])}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
        return done.stdout

    graded = instructor_runs(sys.executable, "tools/grading.py", "autograde", LESSON)
    assert f"{LESSON} {alice}: graded in" in graded
    instructor_runs(sys.executable, "tools/grading.py", "feedback", LESSON)
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    instructor_runs(nbgrader, "release_feedback", LESSON, f"--Exchange.root={hub['exchange']}",
                    "--Exchange.path_includes_course=True", "--CourseDirectory.course_id=faceexpr")
    status, text = _request(f"{url}/user/{alice}/assignments/fetch_feedback", tokens[alice], "POST",
                            {"course_id": "faceexpr", "assignment_id": LESSON}, form=True)
    assert status == 200 and json.loads(text)["success"], f"alice fetch_feedback: {text[:2000]}"
    pages = list((hub["base"] / "home" / alice / "faceexpr" / LESSON / "feedback").glob(f"*/{LESSON}.html"))
    assert len(pages) == 1, f"alice's feedback: {pages}"
    page = pages[0].read_text()
    assert "alice was here" in page and "Score:" in page
    assert "BEGIN HIDDEN TESTS" not in page and "hidden=True" not in page, "the feedback shows no hidden test"
    grades = instructor_runs(sys.executable, "tools/grading.py", "grades")
    assert re.search(rf"^{LESSON}\s+{alice}\s+0\.0 / ", grades, re.M), grades

    python = hub["prefix"] / "venv" / "bin" / "python"
    secret_lesson = hub["course"] / "lessons" / f"{LESSON}.ipynb"
    assert MARKER in secret_lesson.read_text()
    for student in (alice, bob):
        probe = _as_user(student, f"open({str(secret_lesson)!r}).read()", python)
        assert "PermissionError" in probe.stderr, f"{student} can read the instructor's lessons/: {probe.stderr[-500:]}"
        probe = _as_user(student, f"import os; os.listdir({str(hub['course'] / 'build' / 'nbgrader')!r})", python)
        assert "PermissionError" in probe.stderr, f"{student} can list the gradebook folder: {probe.stderr[-500:]}"
    probe = _as_user(bob, f"import os; os.listdir({str(hub['base'] / 'home' / alice)!r})", python)
    assert "PermissionError" in probe.stderr, "bob can list alice's home"
    # Nothing a student reads holds a solution: their home (the fetched lesson) and the environment.
    probe = _as_user(alice, "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('utils').origin).parents[1])", python)
    site = Path(probe.stdout.strip())
    assert site.resolve().is_relative_to(hub["prefix"].resolve()) and not (site / "lessons").exists(), f"utils comes from {site}"
    # (nbgrader's own package and docs use the marker: search the course's files in the environment.)
    for place in (hub["base"] / "home" / alice, hub["base"] / "home" / bob, site / "utils", site / "webapp", site / "models", hub["prefix"] / "etc"):
        found = subprocess.run(["grep", "-rIl", "--include=*.ipynb", "--include=*.py", MARKER, str(place)], capture_output=True, text=True)
        assert not found.stdout.strip(), f"solution markers where a student can read: {found.stdout[:500]}"
    print(f"hub round trip: {time.monotonic() - started:.1f} s")
