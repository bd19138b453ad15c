"""The set-up: the Makefile's targets and the CI script (what `make test` and `.ci/run` do)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ci_script_runs_make_test() -> None:
    script = ROOT / ".ci/run"
    assert script.stat().st_mode & stat.S_IXUSR
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "export CI=true" in text
    assert re.search(r"^make test\s*$", text, re.MULTILINE)


def _make(*args: str, user: int | None = None, directory: Path = ROOT,
          ) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    command = ["make", "--no-print-directory", "-C", str(directory), *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_make_help_is_the_default_and_lists_the_targets() -> None:
    result = _make()
    assert result.returncode == 0, result.stderr
    for target in ("venv", "servers", "demo", "test", "lint", "bench", "clean", "help"):
        assert f"make {target}" in result.stdout


def test_make_test_runs_lint_types_and_pytest_with_its_args() -> None:
    result = _make("-n", "test", "PYTEST_ARGS=-k something")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    assert ".venv/bin/ruff check ." in commands
    assert ".venv/bin/mypy" in commands
    assert ".venv/bin/pytest -n 2 -k something" in commands
    bench = _make("-n", "bench").stdout.splitlines()
    assert ".venv/bin/python -m bench" in [line.strip() for line in bench]
    assert ".venv/bin/smartplace demo" in _make("-n", "demo").stdout.splitlines()


def test_make_servers_tells_a_non_root_user_what_to_install() -> None:
    user: int | None = None
    if os.getuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is not installed")
        user = 65534  # nobody
    # A folder the unprivileged user can read, whatever the checkout's permissions.
    folder = Path(tempfile.mkdtemp(prefix="smartplace-make-"))
    try:
        folder.chmod(0o755)
        shutil.copy(ROOT / "Makefile", folder / "Makefile")
        (folder / "Makefile").chmod(0o644)
        result = _make("servers", "SERVER_BINARIES=smartplace-no-such-server",
                       user=user, directory=folder)
    finally:
        shutil.rmtree(folder)
    if result.stderr.startswith("setpriv:"):
        pytest.skip(f"cannot switch user here: {result.stderr.strip()}")
    assert result.returncode != 0
    assert "missing server binaries: smartplace-no-such-server" in result.stdout
    assert "sudo apt-get install mosquitto influxdb openssl" in result.stderr


