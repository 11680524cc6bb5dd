"""Fixtures that drive the lessons in a real JupyterLab, in headless Chromium.

A session-scoped JupyterLab server serves a copy of the notebooks (``notebooks/``, or the
folder in ``GRADVIZ_NOTEBOOK_DIR``); Playwright drives Debian's ``/usr/bin/chromium``
through ``window.jupyterapp`` (exposed by ``--LabApp.expose_app_in_browser``). Every wait
polls page state; nothing waits on a fixed sleep.

The server, the browser and the Lesson/LessonRunner helpers live in ``lab.py`` (plain
Python, also used by ``benchmarks/browser_latency.py``); this file adds the pytest parts:
fixtures, parametrization over the lessons, the ``browser`` marker, and skip-or-fail when
Chromium is missing.

Environment:
    GRADVIZ_NOTEBOOK_DIR   notebooks to test instead of notebooks/ (e.g. a scratch folder)
    GRADVIZ_BROWSER_TIMEOUT_S  limit for Run All of one notebook (default 180)
    CI=true                a missing /usr/bin/chromium fails the tests instead of skipping
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # pytest's default "prepend" import mode already adds it
    sys.path.insert(0, str(HERE))

import lab  # noqa: E402
from lab import CHROMIUM, LabError, LessonRunner, lesson_names  # noqa: E402

# --------------------------------------------------------------------------- collection


def pytest_generate_tests(metafunc):
    if "lesson_name" in metafunc.fixturenames:
        names = lesson_names()
        metafunc.parametrize("lesson_name", names, ids=names)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------- fixtures


def _fail(message: str):
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """Start JupyterLab on a copy of the notebooks; yield a lab.LabServer (.url, .log, .root)."""
    try:
        server = lab.start_lab_server(tmp_path_factory.mktemp("lab"))
    except LabError as err:
        pytest.fail(str(err))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium driven by Playwright."""
    if not lab.chromium_available():
        msg = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    with lab.launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def lessons(browser, lab_server):
    runner = LessonRunner(browser, lab_server, on_failure=_fail)
    yield runner
    runner.close()
