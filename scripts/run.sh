#!/usr/bin/env bash
# Set up everything on a fresh machine and start the tracker on http://127.0.0.1:5000.
#   virtualenv → install → secret key → migrate → seed → open periods → first admin →
#   web app (+ scheduler)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
HOST="${TRACKER_HOST:-127.0.0.1}"
PORT="${TRACKER_PORT:-5000}"
export TRACKER_INSTANCE_PATH="${TRACKER_INSTANCE_PATH:-$PWD/instance}"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

mkdir -p "$TRACKER_INSTANCE_PATH"
.venv/bin/python -c 'import os, tracker.config as c; c.ensure_secret_key_file(os.environ["TRACKER_INSTANCE_PATH"])'

FLASK=(.venv/bin/flask --app tracker)
"${FLASK[@]}" db upgrade
"${FLASK[@]}" seed
"${FLASK[@]}" open-periods  # the scheduler does this daily too; pages never do
"${FLASK[@]}" user ensure-admin

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

"${FLASK[@]}" scheduler &
pids+=($!)

echo "任务分工落实跟踪系统 / tracker: http://$HOST:$PORT"
.venv/bin/waitress-serve --host "$HOST" --port "$PORT" --call tracker:create_app &
pids+=($!)
wait -n "${pids[@]}"
