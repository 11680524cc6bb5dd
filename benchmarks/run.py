"""`make bench`: run every benchmark (each in its own process), then write RESULTS.md."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEPS = [
    ("probe speed", [sys.executable, "-m", "benchmarks.probe_speed"]),
    ("kernel-side slider latency", [sys.executable, "-m", "benchmarks.slider_latency"]),
    ("course execution time", [sys.executable, "-m", "benchmarks.course_time"]),
    ("browser-side slider latency", [sys.executable, "benchmarks/browser_latency.py"]),
]


def main() -> int:
    failed = []
    for name, cmd in STEPS:
        if (
            "browser" in name
            and not shutil.which("chromium")
            and not Path("/usr/bin/chromium").exists()
        ):
            print(f"== {name}: skipped (no /usr/bin/chromium)", flush=True)
            continue
        print(f"== {name}", flush=True)
        if subprocess.run(cmd, cwd=REPO).returncode != 0:
            failed.append(name)
    subprocess.run([sys.executable, "-m", "benchmarks.report"], cwd=REPO, check=True)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
