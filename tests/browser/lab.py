"""Drive the lessons in a real JupyterLab, in headless Chromium: the reusable parts.

Plain functions, context managers and classes, no pytest: ``conftest.py`` wraps them in
fixtures for tests/browser/, and ``benchmarks/browser_latency.py`` uses them directly.

* :func:`start_lab_server` / :func:`lab_server`: JupyterLab on a free 127.0.0.1 port,
  serving a copy of the notebooks, with the user settings the tests need
  (``--LabApp.expose_app_in_browser``, no windowing, no news toasts, no token).
* :func:`launch_chromium`: Debian's ``/usr/bin/chromium`` through Playwright.
* :class:`LessonRunner` / :class:`Lesson`: open a notebook in its own browser context,
  Run All, wait for the widgets, move sliders. Every wait polls page state through the
  ``window.__gv`` helpers in :data:`JS_HELPERS`; nothing waits on a fixed sleep.

Failures raise :class:`LabError` (the runner's ``on_failure`` hook may raise something
else, e.g. ``pytest.fail``), after saving a screenshot and notes under ``artifacts``.

Environment:
    GRADVIZ_NOTEBOOK_DIR   notebooks to serve instead of notebooks/ (e.g. a scratch folder)
    GRADVIZ_BROWSER_TIMEOUT_S  limit for Run All of one notebook (default 180)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"  # failure screenshots and logs (git-ignored)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 900}
RUN_ALL_TIMEOUT_S = float(os.environ.get("GRADVIZ_BROWSER_TIMEOUT_S", "180"))
RENDER_TIMEOUT_S = 60.0  # widgets to render, a plot to change after a slider move
SERVER_START_TIMEOUT_S = 90.0

# Lab user settings for the test server: render every cell (no virtual windowing, so the
# DOM holds every output), and no news/update toasts over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

# ---------------------------------------------------------------------------------------
# Selectors. JupyterLab 4.6 renders an "error" output with the stderr renderer: the output
# model maps it to {"application/vnd.jupyter.error", "application/vnd.jupyter.stderr":
# traceback}, and only the stderr mime type has a renderer. ipywidgets' Output widget
# (gv-errors) renders through the same OutputArea.
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# Widget outputs carry no data-mime-type: the ipywidgets renderer *is* the output node and
# shows "Loading widget..." until the view exists, "Error displaying widget..." on failure.
OUTPUT = ".jp-OutputArea-output"
GV_ERRORS_OUTPUT = ".gv-errors .jp-OutputArea-output"
EXPLORER = ".gv-explorer"


# Installed in every page before Lab loads (page.add_init_script); Python calls these
# through page.evaluate / page.wait_for_function as window.__gv.<name>(arg).
_SELECTORS = {
    "STDERR_OUTPUT": STDERR_OUTPUT,
    "OUTPUT": OUTPUT,
    "GV_ERRORS_OUTPUT": GV_ERRORS_OUTPUT,
    "EXPLORER": EXPLORER,
}
JS_HELPERS = (
    f"window.__gvSelectors = {json.dumps(_SELECTORS)};\n"
    + """
window.__gv = {
  ...window.__gvSelectors,
  run: null,

  panel(path) {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    for (const w of Array.from(app.shell.widgets('main'))) {
      if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
    }
    return null;
  },

  kernel(path) {
    const panel = this.panel(path);
    const session = panel && panel.sessionContext.session;
    return session ? session.kernel : null;
  },

  ready(path) {
    const panel = this.panel(path);
    if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) return false;
    const kernel = this.kernel(path);
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
  },

  codeCells(path) {
    return this.panel(path).content.widgets.filter((c) => c.model.type === 'code');
  },

  // A cell tagged raises-exception is meant to fail: Lab runs on past it (stop_on_error
  // false) and nbval expects the error. A "# NBVAL_RAISES_EXCEPTION" comment alone does
  // not stop Run All from halting there, so it does not count.
  allowsError(cell) {
    const tags = (cell.model.getMetadata ? cell.model.getMetadata('tags')
                                         : (cell.model.metadata || {}).tags) || [];
    return Array.isArray(tags) && tags.includes('raises-exception');
  },

  errorsOf(cell) {
    return cell.model.outputs.toJSON().filter((o) => o.output_type === 'error')
      .map((o) => `${o.ename}: ${o.evalue}`);
  },

  unexpectedErrors(path) {
    return this.codeCells(path).flatMap((c, i) =>
      this.allowsError(c) ? [] : this.errorsOf(c).map((e) => `code cell #${i}: ${e}`));
  },

  runAll(path) {
    const app = window.jupyterapp;
    app.shell.activateById(this.panel(path).id);
    const run = {done: false, result: null, error: null};
    this.run = run;
    app.commands.execute('notebook:run-all-cells').then(
      (r) => { run.done = true; run.result = r; },
      (e) => { run.done = true; run.error = String(e); });
  },

  // Run All resolved, kernel idle, every non-empty code cell has an execution count;
  // or an unexpected error output appeared (Run All stops at the first one).
  runFinished(path) {
    const run = this.run;
    if (!run || !this.panel(path)) return false;
    if (run.error || this.unexpectedErrors(path).length) return true;
    const cells = this.codeCells(path);
    const kernel = this.kernel(path);
    if (!run.done || !kernel || kernel.status !== 'idle') return false;
    return cells.every((c) => c.model.sharedModel.getSource().trim() === ''
                              || c.model.executionCount !== null);
  },

  state(path) {
    const kernel = this.kernel(path);
    return {
      run: this.run,
      kernel: kernel ? kernel.status : null,
      loadingWidgets: this.loadingWidgets(),
      explorers: this.plots(this.EXPLORER).map(({signature, ...rest}) => rest),
      unexpectedErrors: this.unexpectedErrors(path),
      cells: this.codeCells(path).map((c, i) => ({
        index: i,
        source: c.model.sharedModel.getSource().slice(0, 120),
        executionCount: c.model.executionCount,
        errors: this.errorsOf(c),
        raisesException: this.allowsError(c),
      })),
    };
  },

  // One summary per element matching selector (an explorer or a plot): does it hold a
  // plotly graph, the longest trace, and a signature of all x/y/z data and marker colours
  // (a phase diagram's measured point may change only its colour). Plotly may keep
  // arrays as lists, typed arrays or {dtype, bdata} specs; _fullData has them decoded.
  plots(selector) {
    const toList = (v) => {
      if (v == null) return [];
      if (Array.isArray(v)) return v;
      if (ArrayBuffer.isView(v)) return Array.from(v);
      return [JSON.stringify(v)];
    };
    return Array.from(document.querySelectorAll(selector)).map((root) => {
      const gd = root.matches('.js-plotly-plot') ? root : root.querySelector('.js-plotly-plot');
      if (!gd || !Array.isArray(gd.data)) {
        return {plot: !!gd, traces: 0, points: 0, signature: null};
      }
      const full = gd._fullData || [];
      const points = Math.max(0, ...gd.data.map((t, i) => {
        const f = full[i] || t;
        return Math.max(toList(f.y).length, toList(f.x).length);
      }));
      const signature = JSON.stringify(gd.data.map((t) => [
        toList(t.x), toList(t.y), toList(t.z), toList(t.marker && t.marker.color)]));
      return {plot: true, traces: gd.data.length, points, signature};
    });
  },

  // Errors visible on the page: tracebacks in stderr renderings (cell errors render as
  // application/vnd.jupyter.stderr), anything in a .gv-errors Output widget, and widget
  // renderers that failed ("Error displaying widget", "Javascript Error").
  problems(path) {
    const text = (e) => (e.innerText || e.textContent || '').trim();
    const panel = path ? this.panel(path) : null;
    const allowed = panel ? this.codeCells(path).filter((c) => this.allowsError(c))
                                                .map((c) => c.node) : [];
    const found = [];
    for (const e of document.querySelectorAll(this.STDERR_OUTPUT)) {
      if (allowed.some((node) => node.contains(e))) continue;
      const t = text(e);
      if (/Traceback|^\\w*(Error|Exception)\\b|^Javascript Error/m.test(t)) {
        found.push('stderr: ' + t.slice(0, 1500));
      }
    }
    for (const e of document.querySelectorAll(this.GV_ERRORS_OUTPUT)) {
      found.push('gv-errors: ' + text(e).slice(0, 1500));
    }
    for (const e of document.querySelectorAll(this.OUTPUT)) {
      const t = text(e);
      if (t.startsWith('Error displaying widget') || t.startsWith('Javascript Error')) {
        found.push('widget: ' + t.slice(0, 300));
      }
    }
    return found;
  },

  loadingWidgets() {
    return Array.from(document.querySelectorAll(this.OUTPUT))
      .filter((e) => (e.textContent || '').trim().startsWith('Loading widget'))
      .map((e) => {
        const cell = e.closest('.jp-Cell');
        const prompt = cell && cell.querySelector('.jp-InputPrompt');
        return 'still "Loading widget..." in cell ' + (prompt ? prompt.textContent.trim() : '?');
      });
  },

  // Every widget output rendered, every explorer holds a plot with points (at least one
  // explorer when one is expected); true early when problems() is non-empty.
  widgetsSettled([path, expectExplorer]) {
    if (this.problems(path).length) return true;
    if (this.loadingWidgets().length) return false;
    const explorers = this.plots(this.EXPLORER);
    if (expectExplorer && explorers.length === 0) return false;
    return explorers.every((p) => p.points > 0);
  },

  plotChanged([path, before]) {
    const now = this.plots(this.EXPLORER)[0];
    return this.problems(path).length > 0 || (!!now && now.signature !== before);
  },
};
"""
)


class LabError(RuntimeError):
    """The server, the browser or a lesson did not do what was asked (details inside)."""


# --------------------------------------------------------------------------- notebooks


def notebook_dir() -> Path:
    return Path(os.environ.get("GRADVIZ_NOTEBOOK_DIR") or REPO / "notebooks").resolve()


def lesson_names(folder: Path | None = None) -> list[str]:
    return sorted(p.name for p in (folder or notebook_dir()).glob("*.ipynb"))


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


class LabServer:
    """A running JupyterLab: ``url``, ``log`` (its output), ``root`` (served folder), ``proc``."""

    def __init__(self, url: str, log: Path, root: Path, proc: subprocess.Popen):
        self.url, self.log, self.root, self.proc = url, log, root, proc

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_lab_server(
    base: Path, notebooks: Path | None = None, settings: dict | None = None
) -> LabServer:
    """Start JupyterLab on a copy of ``notebooks`` (default :func:`notebook_dir`) in ``base``.

    ``base`` (an empty scratch folder) receives the copy (``base/root``), Lab's settings
    (``settings``, default :data:`LAB_SETTINGS`: ``{settings file: its JSON}``), config and
    runtime folders, and the server log. Returns once ``/api/status`` answers;
    raises :class:`LabError` (after stopping the server) if it exits or does not answer
    within ``SERVER_START_TIMEOUT_S``. Call ``.stop()`` on the result when done.
    """
    root = base / "root"
    shutil.copytree(
        notebooks or notebook_dir(), root, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
    )
    settings_dir = base / "jupyter" / "lab" / "user-settings"
    for rel, value in (LAB_SETTINGS if settings is None else settings).items():
        (settings_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings_dir / rel).write_text(json.dumps(value))
    env = dict(os.environ)
    env.pop("GRADVIZ_BUILD_NOTEBOOKS", None)  # kernels show live widgets only
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "jupyter" / "lab" / "workspaces"),
        JUPYTER_CONFIG_DIR=str(base / "jupyter" / "config"),  # ignore ~/.jupyter
        JUPYTER_RUNTIME_DIR=str(base / "jupyter" / "runtime"),
        IPYTHONDIR=str(base / "ipython"),  # no user startup files in the kernels
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    if is_root():
        cmd.append("--allow-root")
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = LabServer(url, log, root, proc)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise LabError(f"jupyter lab exited with {proc.returncode}:\n{tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=5) as r:
                    if r.status == 200:
                        return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise LabError(f"jupyter lab did not answer /api/status in time:\n{tail(log)}")
            time.sleep(0.25)  # polling interval while the server starts
    except BaseException:
        server.stop()
        raise


@contextmanager
def lab_server(
    notebooks: Path | None = None, base: Path | None = None, settings: dict | None = None
) -> Iterator[LabServer]:
    """:func:`start_lab_server` in ``base`` (default: a temporary folder, removed after)."""
    with tempfile.TemporaryDirectory(prefix="gv-lab-") as tmp:
        server = start_lab_server(Path(base or tmp), notebooks, settings)
        try:
            yield server
        finally:
            server.stop()


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM the server (it shuts its kernels down), then SIGKILL its process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftover kernels of this session only
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=10)


# --------------------------------------------------------------------------- browser


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


@contextmanager
def launch_chromium(executable: str = CHROMIUM, args: list[str] | None = None):
    """Headless chromium (Debian's by default) driven by Playwright; yields the Browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=executable, headless=True,
            args=CHROMIUM_ARGS if args is None else args,
        )  # fmt: skip
        try:
            yield chromium
        finally:
            chromium.close()


def _raise_lab_error(message: str) -> NoReturn:
    raise LabError(message)


class Lesson:
    """One notebook open in its own browser context and Lab workspace."""

    def __init__(self, runner: LessonRunner, name: str):
        from urllib.parse import quote

        self.runner, self.name = runner, name
        self.console: list[str] = []
        self.context = runner.browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.add_init_script(JS_HELPERS)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))
        workspace = "gv-" + "".join(ch if ch.isalnum() else "-" for ch in Path(name).stem)
        self.url = f"{runner.server.url}/lab/workspaces/{workspace}/tree/{quote(name)}?reset"
        self.source = json.loads((runner.server.root / name).read_text())

    def _on_console(self, msg) -> None:
        if msg.type in ("error", "warning"):
            self.console.append(f"{msg.type}: {msg.text}")

    @property
    def expects_explorer(self) -> bool:
        return any(
            "Explorer(" in "".join(c.get("source", ""))
            for c in self.source.get("cells", [])
            if c.get("cell_type") == "code"
        )

    # -- waiting ---------------------------------------------------------------------

    def wait(self, helper: str, arg, timeout_s: float, what: str) -> None:
        """Poll window.__gv.<helper>(arg) until truthy; on timeout fail with diagnostics."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.page.wait_for_function(
                f"(arg) => window.__gv && window.__gv.{helper}(arg)",
                arg=arg,
                timeout=timeout_s * 1000,
                polling=200,
            )
            return
        except PlaywrightError as err:
            error = err
        self.fail(f"{self.name}: gave up after {timeout_s:.0f} s waiting for {what}: {error}")

    def evaluate(self, helper: str, arg=None):
        return self.page.evaluate(f"(arg) => window.__gv.{helper}(arg)", arg)

    def problems(self) -> list[str]:
        return self.evaluate("problems", self.name)

    def fail(self, message: str) -> NoReturn:
        """Save a screenshot and the page/notebook state, then raise via the runner's hook."""
        artifacts = self.runner.artifacts
        artifacts.mkdir(parents=True, exist_ok=True)
        stem = Path(self.name).stem
        shot = artifacts / f"{stem}.png"
        details = [message, f"url: {self.url}"]
        try:
            self.page.screenshot(path=str(shot))
            details.append(f"screenshot: {shot}")
            state = self.evaluate("state", self.name)
            details.append("notebook state: " + json.dumps(state, indent=1)[:6000])
            details.append("problems on page: " + json.dumps(self.problems(), indent=1))
        except Exception as err:  # diagnostics must not hide the original failure
            details.append(f"(could not collect page state: {err})")
        details.append("browser console:\n" + "\n".join(self.console[-40:]))
        details.append("jupyterlab log (tail):\n" + tail(self.runner.server.log, 3000))
        (artifacts / f"{stem}.txt").write_text("\n\n".join(details))
        self.runner.on_failure("\n\n".join(details))
        raise LabError("\n\n".join(details))  # in case the hook returned

    # -- steps -----------------------------------------------------------------------

    def open_and_run_all(self) -> Lesson:
        start = time.monotonic()
        self.page.goto(self.url, wait_until="domcontentloaded")
        self.wait("ready", self.name, RENDER_TIMEOUT_S * 2, "the notebook and an idle kernel")
        self.evaluate("runAll", self.name)
        self.wait("runFinished", self.name, RUN_ALL_TIMEOUT_S, "Run All to finish")
        state = self.evaluate("state", self.name)
        if state["unexpectedErrors"] or (state["run"] or {}).get("error"):
            errors = state["unexpectedErrors"] or [state["run"]["error"]]
            self.fail(f"{self.name}: Run All raised:\n" + "\n".join(errors))
        settled = [self.name, self.expects_explorer]
        self.wait("widgetsSettled", settled, RENDER_TIMEOUT_S, "widgets to render")
        self.run_seconds = time.monotonic() - start
        return self

    def assert_no_problems(self, when: str) -> None:
        problems = self.problems()
        if problems:
            self.fail(f"{self.name}: errors on the page {when}:\n" + "\n".join(problems))

    def explorer_plots(self) -> list[dict]:
        return self.evaluate("plots", EXPLORER)

    def move_slider(self, css_class: str, presses: int = 3) -> None:
        """Press an arrow key on the first explorer's slider; wait until its plot changes."""
        explorer = self.page.locator(EXPLORER).first
        explorer.scroll_into_view_if_needed()
        before = self.explorer_plots()[0]["signature"]
        handle = explorer.locator(f".{css_class} .noUi-handle").first
        handle.scroll_into_view_if_needed()
        now = float(handle.get_attribute("aria-valuenow") or 0)
        top = float(handle.get_attribute("aria-valuemax") or 0)
        key = "ArrowLeft" if now >= top else "ArrowRight"
        handle.focus()
        for _ in range(presses):
            handle.press(key)
        what = f"the plot to change after {presses} x {key} on .{css_class}"
        self.wait("plotChanged", [self.name, before], RENDER_TIMEOUT_S, what)
        self.assert_no_problems(f"after moving .{css_class}")

    def close(self) -> None:
        try:
            self.page.evaluate(
                "(p) => window.__gv.panel(p) && window.__gv.panel(p).sessionContext.shutdown()",
                self.name,
            )
        except Exception:
            pass  # the server stops every kernel at the end anyway
        self.context.close()


class LessonRunner:
    """Opens and runs lessons; keeps the ones asked to be kept for later tests.

    Args:
        browser: a Playwright Browser (e.g. from :func:`launch_chromium`).
        server: a :class:`LabServer`.
        on_failure: called with the full diagnostic message when a lesson fails; raises
            :class:`LabError` by default.
        artifacts: where failure screenshots and notes go.
    """

    def __init__(
        self,
        browser,
        server,
        *,
        on_failure: Callable[[str], object] | None = None,
        artifacts: Path = ARTIFACTS,
    ):
        self.browser, self.server = browser, server
        self.on_failure = on_failure or _raise_lab_error
        self.artifacts = Path(artifacts)
        self._kept: dict[str, Lesson] = {}

    def run(self, name: str) -> Lesson:
        """Open ``name`` in a fresh page and Run All; the caller closes it (or keeps it)."""
        lesson = Lesson(self, name)
        try:
            return lesson.open_and_run_all()
        except BaseException:
            lesson.close()  # do not leave its kernel running under the next lessons
            raise

    def keep(self, lesson: Lesson) -> None:
        old = self._kept.pop(lesson.name, None)
        if old is not None and old is not lesson:
            old.close()
        self._kept[lesson.name] = lesson

    def kept(self, name: str) -> Lesson | None:
        return self._kept.get(name)

    def close(self) -> None:
        for lesson in self._kept.values():
            lesson.close()
        self._kept.clear()
