"""What the browser tests share: Debian's Chromium driven by Playwright, and Jupyter servers to point it at.

Chromium is Debian's (/usr/bin/chromium, ``apt-get install chromium``; Playwright's own browser
download is not used). Without it, or without the playwright package, the browser tests are
skipped -- except in CI (CI=true), where that is a failure.

``jupyter_server`` starts JupyterLab or Voila on 127.0.0.1 and a free port, as a child process
with its own runtime, config, data and settings folders (nothing of the user's Jupyter set-up
is read or written), and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def unavailable(reason: str) -> None:
    """Skip a browser test for a missing tool, or fail it in CI, which must have installed the tool."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must install it: apt-get install -y chromium; pip install -r requirements.txt)")
    pytest.skip(reason)


@contextlib.contextmanager
def playwright_session():
    """A running Playwright, or a skip (fail in CI) when Chromium or the package is missing."""
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (it is in requirements.txt)")
    with sync_playwright() as playwright:
        yield playwright


def launch_chromium(playwright, extra_args: tuple[str, ...] = ()):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + list(extra_args))


def open_page(browser, url: str, *, viewport: dict, permissions: tuple[str, ...] = (), routes: dict | None = None):
    """A new context and page at ``url``; ``problems`` collects every console error, uncaught exception
    and request that failed at the network level (an unreachable host, a refused connection).
    ``routes`` maps URL patterns to Playwright route handlers, installed before the page loads."""
    context = browser.new_context(viewport=viewport, locale="en-US", permissions=list(permissions))
    for pattern, handler in (routes or {}).items():
        context.route(pattern, handler)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url} ({request.failure})"))
    page.goto(url)
    return context, page, problems


def wait_until(page, function: str, timeout_ms: int = 60_000, arg=None) -> None:
    """Poll ``function`` (JavaScript) until it returns true. ``page.wait_for_function`` would need
    'unsafe-eval', which a page's Content-Security-Policy may rightly forbid."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(function, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms} ms waiting for {function}")
        page.wait_for_timeout(100)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _isolated_environment(home: Path) -> dict[str, str]:
    """The test's environment with every Jupyter/IPython folder moved under ``home``."""
    environment = dict(os.environ)
    folders = {"JUPYTER_RUNTIME_DIR": "runtime", "JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
               "JUPYTERLAB_SETTINGS_DIR": "lab-settings", "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
               "IPYTHONDIR": "ipython"}
    for variable, name in folders.items():
        (home / name).mkdir(parents=True, exist_ok=True)
        environment[variable] = str(home / name)
    environment.pop("JUPYTER_PATH", None)
    environment.pop("JUPYTER_CONFIG_PATH", None)
    environment["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environment.get("PATH", "")
    environment.update(TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="1", MPLBACKEND="Agg")
    return environment


def _wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer {url} within {timeout_s} s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def jupyter_server(kind: str, home: Path, *arguments: str, root_dir: Path = PROJECT_ROOT,
                   timeout_s: float = 120) -> Iterator[tuple[str, str]]:
    """Start ``jupyter lab`` (kind="lab") or ``voila`` (kind="voila") on loopback; yield (base URL, token).

    JupyterLab gets a random token; Voila, which serves one read-only app, runs without one
    (it only listens on 127.0.0.1). Both run in ``root_dir``. The server's log is ``home/<kind>.log``.
    """
    port, token = free_port(), secrets.token_hex(16)
    environment = _isolated_environment(home)
    common = [f"--port={port}", "--no-browser"]
    if kind == "lab":
        command = [sys.executable, "-m", "jupyterlab", *common, "--ip=127.0.0.1", "--allow-root",
                   "--ServerApp.open_browser=False", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={root_dir}", "--LabApp.expose_app_in_browser=True", *arguments]
        ready = f"http://127.0.0.1:{port}/api/status?token={token}"
    elif kind == "voila":
        command = [sys.executable, "-m", "voila", *common, "--Voila.ip=127.0.0.1", *arguments]
        token = ""
        ready = f"http://127.0.0.1:{port}/voila/static/voila.js"
    else:
        raise ValueError(f"kind must be 'lab' or 'voila', got {kind!r}")
    log = home / f"{kind}.log"
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=root_dir, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        _wait_for_http(ready, process, log, timeout_s)
        yield f"http://127.0.0.1:{port}", token
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its kernels are in the same (new) session
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
