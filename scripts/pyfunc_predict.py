"""Scores a CSV with a Nightshift model through MLflow's Python loader (mlflow.pyfunc).

Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:5000 \
       .nightshift/venvs/mlflow/bin/python scripts/pyfunc_predict.py models:/nightshift-demand@champion in.csv out.csv

The input CSV has one column per model feature (header = feature names); the output CSV has one column,
"prediction". This is how Python users and notebooks score with the models the Java jobs register.
"""
import sys

import mlflow.pyfunc
import pandas as pd


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    model_uri, input_csv, output_csv = argv[1:]
    model = mlflow.pyfunc.load_model(model_uri)
    frame = pd.read_csv(input_csv).astype("float64")
    predictions = model.predict(frame)
    pd.DataFrame({"prediction": predictions}).to_csv(output_csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
