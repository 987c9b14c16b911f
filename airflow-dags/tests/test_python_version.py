"""The Python the Airflow environment needs: what the lock's packages require, and what venv.sh, pyproject and the
READMEs say. The environment running these tests was installed from requirements.txt, so its metadata is the lock's."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

AIRFLOW_DAGS = Path(__file__).resolve().parents[1]
REPO = AIRFLOW_DAGS.parent
VENV_SH = AIRFLOW_DAGS / "venv.sh"


def pinned() -> list[str]:
    lines = (AIRFLOW_DAGS / "requirements.txt").read_text().splitlines()
    return [Requirement(line.split("#")[0]).name for line in lines if "==" in line.split("#")[0]]


def oldest_python(specs: list[SpecifierSet]) -> tuple[int, int]:
    """The oldest 3.x every specifier set accepts."""
    for minor in range(6, 20):
        if all(f"3.{minor}.0" in spec or f"3.{minor}.99" in spec for spec in specs):
            return 3, minor
    raise AssertionError(f"no Python 3.x satisfies {specs}")


def lock_minimum() -> tuple[int, int]:
    specs = [SpecifierSet(metadata.metadata(name).get("Requires-Python") or "") for name in pinned()]
    return oldest_python(specs)


def test_the_lock_needs_python_3_11():
    # numpy 2.4, pandas 3.1, pyarrow 26, starlette 1.10, ... require 3.11; pip fails on 3.10 with the lock.
    assert lock_minimum() == (3, 11)


def test_pyproject_venv_sh_and_readmes_state_the_locks_minimum():
    major, minor = lock_minimum()
    pyproject = (AIRFLOW_DAGS / "pyproject.toml").read_text()
    requires = re.search(r'^requires-python = "([^"]+)"', pyproject, re.M).group(1)
    assert oldest_python([SpecifierSet(requires)]) == (major, minor)
    assert f">= ({major}, {minor})" in VENV_SH.read_text()
    for readme in (REPO / "README.md", AIRFLOW_DAGS / "README.md"):
        stated = set(re.findall(r"Python (3\.\d+)\+", readme.read_text()))
        assert stated <= {f"{major}.{minor}"}, f"{readme} states Python {stated}"
    assert f"Python {major}.{minor}+" in (REPO / "README.md").read_text()


def fake_python(tmp_path: Path, version: str) -> Path:
    """A python3 that reports `version` (sys.version_info too) and cannot create environments."""
    major, minor, micro = (int(p) for p in version.split("."))
    fake = tmp_path / f"python{major}.{minor}"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        f"if args == ['-V']:\n    print('Python {version}')\n    sys.exit(0)\n"
        "if args[:1] == ['-c']:\n"
        f"    sys.version_info = ({major}, {minor}, {micro}, 'final', 0)\n"
        "    exec(compile(args[1], '<string>', 'exec'))\n"
        "    sys.exit(0)\n"
        "print('fake python: not creating anything', args, file=sys.stderr)\n"
        "sys.exit(9)\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake


def run_venv_sh(tmp_path: Path, python: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NIGHTSHIFT_PYTHON=str(python), NIGHTSHIFT_VENVS=str(tmp_path / "venvs"))
    return subprocess.run(["bash", str(VENV_SH)], env=env, capture_output=True, text=True, timeout=60)


def test_venv_sh_refuses_python_3_10_naming_it_and_the_fix(tmp_path):
    proc = run_venv_sh(tmp_path, fake_python(tmp_path, "3.10.13"))
    assert proc.returncode == 2, proc.stderr
    assert "Python 3.11+" in proc.stderr
    assert "Python 3.10.13" in proc.stderr  # the version found
    assert "NIGHTSHIFT_PYTHON=python3.11" in proc.stderr  # the fix, in the variable venv.sh reads
    assert not (tmp_path / "venvs" / "airflow").exists()


@pytest.mark.parametrize("version", ["3.11.7", "3.12.1"])
def test_venv_sh_accepts_python_3_11_and_newer(tmp_path, version):
    proc = run_venv_sh(tmp_path, fake_python(tmp_path, version))
    # past the version check: it goes on to create the environment (which the fake python refuses to do)
    assert "creating" in proc.stderr, proc.stderr
    assert "fake python: not creating anything" in proc.stderr
