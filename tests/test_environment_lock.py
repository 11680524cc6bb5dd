"""environment.yml (conda) and requirements.lock (pip) must pin the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
# conda-forge names that differ from the PyPI name
CONDA_TO_PYPI = {"python-kaleido": "kaleido", "playwright-python": "playwright"}
NOT_PACKAGES = {"python", "pip"}  # interpreter and installer, not pinned in the lock
SPEC = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:(==|=|>=|<=|>|<|!=|~=)\s*(\S+))?\s*")


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. become a single '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    """'jax>=0.10  # note' -> 'jax'; 'kaleido[extra]==1' -> 'kaleido'."""
    return normalize(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec).group(1))


def read_lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: {line!r} is not pinned with =="
        pins[normalize(name)] = version.strip()
    return pins


def read_environment() -> dict[str, str | None]:
    """Package -> pinned version (None when unpinned) from conda deps and the pip: section."""
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    specs: list[tuple[str, str]] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            specs += [("pip", s) for s in dep.get("pip", [])]
        else:
            specs.append(("conda", dep))
    pins: dict[str, str | None] = {}
    for source, spec in specs:
        if spec.startswith("-"):  # pip options such as "-e ."
            continue
        m = SPEC.fullmatch(spec)
        assert m, f"environment.yml: cannot parse {spec!r}"
        name, op, version = m.groups()
        name = normalize(name)
        if source == "conda":
            name = CONDA_TO_PYPI.get(name, name)
        if name in NOT_PACKAGES:
            continue
        assert op in (None, "=="), f"environment.yml: pin {spec!r} with =="
        assert name not in pins, f"environment.yml lists {name} twice"
        pins[name] = version
    return pins


def direct_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + list(project["optional-dependencies"].get("dev", []))
    return {requirement_name(s) for s in specs}


def test_environment_pins_match_lock():
    lock = read_lock()
    env = read_environment()
    mismatched = {
        name: (version, lock.get(name))
        for name, version in env.items()
        if version is not None and version != lock.get(name)
    }
    assert not mismatched, f"name: (environment.yml, requirements.lock) pins: {mismatched}"


def test_every_direct_dependency_is_in_both_files():
    lock = read_lock()
    env = read_environment()
    direct = direct_dependencies()
    assert direct, "pyproject.toml lists no dependencies?"
    assert not direct - lock.keys(), f"not in requirements.lock: {sorted(direct - lock.keys())}"
    assert not direct - env.keys(), f"not in environment.yml: {sorted(direct - env.keys())}"
    unpinned = sorted(n for n in direct if env[n] is None)
    assert not unpinned, f"direct dependencies not pinned in environment.yml: {unpinned}"


def test_lock_does_not_pin_gradviz_itself():
    assert "gradviz" not in read_lock(), "requirements.lock must not pin gradviz itself"
