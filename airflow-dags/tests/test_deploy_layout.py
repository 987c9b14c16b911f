"""The deployment the READMEs document parses in a real Airflow DAGs folder, with nothing of the tests' setup.

pytest puts ``dags`` on ``sys.path`` (pyproject.toml) and conftest points the DagBag at this checkout, so the other
tests cannot see an import that only works from here. This one follows the documented ``rsync`` into a fresh
``$AIRFLOW_HOME/dags/<subfolder>/`` and parses that DAGs folder in a clean interpreter (``-I``: no PYTHONPATH, no
script directory on ``sys.path``) the way Airflow 3 parses a bundle: ``BundleDagBag`` adds only the bundle root (the
DAGs folder) to ``sys.path``, and each DAG file is loaded as a standalone module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

AIRFLOW_DAGS = Path(__file__).resolve().parents[1]
REPO = AIRFLOW_DAGS.parent
DOCS = [REPO / "README.md", AIRFLOW_DAGS / "README.md"]
EXPECTED = {"nightly_demand_forecast", "maintenance_scoring", "weekly_retrain"}
# rsync -a --delete <source>/ "$AIRFLOW_HOME/dags/<subfolder>/" (quotes optional)
RSYNC = re.compile(r'rsync -a --delete (\S+)/ "?\$AIRFLOW_HOME/dags/([^"\s`]+)/"?')

PARSE = """
import json, sys
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag
folder = Path(sys.argv[1])
bag = BundleDagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="dags-folder", load_op_links=False)
print(json.dumps({
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dag_ids),
    "files": sorted(str(s.file) for s in bag.dagbag_stats),
}))
"""


def documented_deploy() -> tuple[str, str]:
    """The (source, DAGs subfolder) of the rsync command, the same in every README that documents it."""
    found = {doc.name: RSYNC.findall(doc.read_text()) for doc in DOCS}
    commands = {c for cs in found.values() for c in cs}
    assert all(found.values()), f"a README lacks the rsync deploy command: {found}"
    assert len(commands) == 1, f"the READMEs document different deploy commands: {found}"
    return commands.pop()


def test_documented_deployment_parses_in_a_clean_airflow(tmp_path):
    source, subfolder = documented_deploy()
    home = tmp_path / "airflow-home"
    dags_folder = home / "dags"
    # rsync's trailing-slash semantics: the contents of <source>/ become <dags>/<subfolder>/
    shutil.copytree(REPO / source, dags_folder / subfolder)

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
    }
    proc = subprocess.run(
        [sys.executable, "-I", "-c", PARSE, str(dags_folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    errors = {f: e.strip().splitlines()[-1] for f, e in result["import_errors"].items()}
    assert errors == {}
    assert set(result["dag_ids"]) == EXPECTED
    # only the three DAG files are parsed: common/ and __init__.py are in the deployed folder's .airflowignore
    assert result["files"] == [
        f"{subfolder}/{name}" for name in ("maintenance_scoring.py", "nightly_demand_forecast.py", "weekly_retrain.py")
    ]
