#!/usr/bin/env bash
# Runs a JShell notebook with the Nightshift jar and the Spark/Delta jars on its class path.
# Usage: notebooks-java/run.sh notebooks-java/night_report.jsh   (or no argument for an interactive shell)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/spark-jobs/target/nightshift-jobs.jar"
CP_FILE="$ROOT/spark-jobs/target/provided-classpath.txt"
[[ -f "$JAR" && -f "$CP_FILE" ]] || (cd "$ROOT" && mvn -B -q -ntp -DskipTests package)
source "$ROOT/scripts/java-opts.sh"
REMOTE=()
for o in "${SPARK_JAVA17_OPENS[@]}"; do REMOTE+=("-R$o"); done
exec jshell --class-path "$JAR:$(cat "$CP_FILE")" "${REMOTE[@]}" -R-Xmx2g \
  "-R-Dlog4j2.configurationFile=$ROOT/conf/log4j2.properties" "$@"
