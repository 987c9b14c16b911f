"""Nightshift's Airflow DAGs. Deploy this folder as ``<DAGs folder>/nightshift/``: the DAG files import the shared
helpers as ``nightshift.common``, which resolves from the DAGs folder (the bundle root Airflow puts on sys.path)."""
