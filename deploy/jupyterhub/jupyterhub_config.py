"""JupyterHub for the faceexpr course: nbgrader's exchange, instructor and student roles.

Run as root from the hub's environment (deploy/jupyterhub/README.md):
    jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
Everything site-specific comes from the environment (defaults in brackets):
    FACEEXPR_PREFIX     [/opt/faceexpr]            build_student_env.sh's PREFIX (venv/, etc/student/)
    FACEEXPR_EXCHANGE   [/srv/nbgrader/exchange]   nbgrader's exchange (mode 1777)
    FER2013_DIR         [/srv/data/fer2013]        the data set, read-only for everyone
    FACEEXPR_STATE      [/srv/jupyterhub]          the hub's database, cookie secret, proxy token
    FACEEXPR_INSTRUCTORS, FACEEXPR_STUDENTS        comma-separated system user names
    FACEEXPR_MEM_LIMIT [2G], FACEEXPR_CPU_LIMIT [1]   per-user limits (see README: who enforces them)
    FACEEXPR_SPAWNER   [local]                     'systemd' for jupyterhub-systemdspawner (enforces limits)
    FACEEXPR_AUTH      [pam]                       'dummy' for tests only (any password)
    FACEEXPR_IP [127.0.0.1], FACEEXPR_PORT [8000], FACEEXPR_HUB_PORT [8081], FACEEXPR_CHP [configurable-http-proxy]
    FACEEXPR_API_TOKEN                             optional token of an admin service 'course-admin' (tests, scripts)
"""

from __future__ import annotations

import os
from pathlib import Path

c = get_config()  # noqa: F821 (defined by JupyterHub's loader)

COURSE_ID = "faceexpr"  # nbgrader_config.py's CourseDirectory.course_id
INSTRUCTOR_GROUP = f"formgrade-{COURSE_ID}"  # nbgrader's names for JupyterHubAuthPlugin
STUDENT_GROUP = f"nbgrader-{COURSE_ID}"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _names(name: str) -> list[str]:
    return [user.strip() for user in os.environ.get(name, "").split(",") if user.strip()]


prefix = Path(_env("FACEEXPR_PREFIX", "/opt/faceexpr"))
state = Path(_env("FACEEXPR_STATE", "/srv/jupyterhub"))
state.mkdir(parents=True, exist_ok=True)
instructors, students = _names("FACEEXPR_INSTRUCTORS"), _names("FACEEXPR_STUDENTS")

# --------------------------------------------------------------------------- hub and proxy
c.JupyterHub.ip = _env("FACEEXPR_IP", "127.0.0.1")
c.JupyterHub.port = int(_env("FACEEXPR_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(_env("FACEEXPR_HUB_PORT", "8081"))
c.ConfigurableHTTPProxy.command = [_env("FACEEXPR_CHP", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(_env('FACEEXPR_HUB_PORT', '8081')) + 1}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")

# --------------------------------------------------------------------------- who may log in
if _env("FACEEXPR_AUTH", "pam") == "dummy":
    c.JupyterHub.authenticator_class = "dummy"  # tests only: any password works
c.Authenticator.allowed_users = set(instructors) | set(students)
c.Authenticator.admin_users = set()  # instructors need no admin rights: the formgrader runs in their server
c.JupyterHub.load_groups = {
    INSTRUCTOR_GROUP: {"users": instructors},
    STUDENT_GROUP: {"users": students},
}
c.JupyterHub.load_roles = [
    # Instructors may see who is enrolled and whose server runs (nbgrader's course list asks the hub).
    {"name": "faceexpr-instructor", "groups": [INSTRUCTOR_GROUP], "scopes": ["list:users", "read:users", "read:groups", "read:services"]},
]
if os.environ.get("FACEEXPR_API_TOKEN"):
    c.JupyterHub.services = [{"name": "course-admin", "api_token": os.environ["FACEEXPR_API_TOKEN"]}]
    c.JupyterHub.load_roles.append({"name": "course-admin", "services": ["course-admin"],
                                    "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users", "groups"]})

# --------------------------------------------------------------------------- the users' servers
if _env("FACEEXPR_SPAWNER", "local") == "systemd":
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"  # pip install jupyterhub-systemdspawner
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.disable_user_sudo = True
else:
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"  # real system users, setuid
c.Spawner.cmd = [str(prefix / "venv" / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
# Limits: LocalProcessSpawner only passes them on as MEM_LIMIT/CPU_LIMIT (shown by
# jupyter-resource-usage); SystemdSpawner, DockerSpawner and KubeSpawner enforce them.
c.Spawner.mem_limit = _env("FACEEXPR_MEM_LIMIT", "2G")  # lesson 04 peaks at about 1.2 GB
c.Spawner.cpu_limit = float(_env("FACEEXPR_CPU_LIMIT", "1"))
# Not JupyterHub's default env_keep: PYTHONPATH of the hub must never reach a student (it could
# point at an instructor's clone, lessons/ and all).
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "JUPYTERHUB_SINGLEUSER_APP"]
c.Spawner.environment = {
    "FER2013_DIR": _env("FER2013_DIR", "/srv/data/fer2013"),
    "FACEEXPR_EXCHANGE": _env("FACEEXPR_EXCHANGE", "/srv/nbgrader/exchange"),
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "OMP_NUM_THREADS": _env("FACEEXPR_CPU_LIMIT", "1").split(".")[0] or "1",
}


def role_settings(spawner) -> None:
    """Students' servers read etc/student/: formgrader, create-assignment and course list off."""
    groups = {group.name for group in spawner.user.groups}
    if INSTRUCTOR_GROUP not in groups:
        spawner.environment["JUPYTER_CONFIG_PATH"] = str(prefix / "etc" / "student")


c.Spawner.pre_spawn_hook = role_settings
