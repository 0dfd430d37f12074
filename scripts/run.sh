#!/usr/bin/env bash
# Set up everything on one machine and start the tracker on http://127.0.0.1:5000.
#   port check → virtualenv → install (only when the requirements changed) → secret key →
#   migrate → seed → open periods → first admin → website (gunicorn) + scheduler, supervised
# The website keeps serving when the scheduler dies: run.sh starts the scheduler again after
# TRACKER_SCHEDULER_RESTART_SECONDS. Stop everything with Ctrl-C (or SIGTERM to run.sh).
# Production servers use the systemd units in deploy/ instead (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
HOST="${TRACKER_HOST:-127.0.0.1}"
PORT="${TRACKER_PORT:-5000}"
VENV="${TRACKER_VENV:-.venv}"
RESTART_SECONDS="${TRACKER_SCHEDULER_RESTART_SECONDS:-5}"
export TRACKER_INSTANCE_PATH="${TRACKER_INSTANCE_PATH:-$PWD/instance}"
export TRACKER_BIND="$HOST:$PORT"
export TRACKER_WEB_WORKERS="${TRACKER_WEB_WORKERS:-2}"
RUN_DIR="$TRACKER_INSTANCE_PATH/run"

# Before anything slow: is the port free? (SO_REUSEADDR, as gunicorn binds.)
port_free() {
  "$PYTHON" - "$HOST" "$PORT" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
with socket.socket(family) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sys.exit(1)
PY
}
if ! port_free; then
  echo "无法启动：端口 $PORT（$HOST）已被占用。可能系统已在运行，或有其他程序使用该端口。" >&2
  echo "请先停止占用该端口的程序，或换一个端口，例如：TRACKER_PORT=5001 scripts/run.sh" >&2
  exit 1
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh
ensure_deps runtime .

mkdir -p "$TRACKER_INSTANCE_PATH" "$RUN_DIR"
"$VENV/bin/python" -c 'import os, tracker.config as c; c.ensure_secret_key_file(os.environ["TRACKER_INSTANCE_PATH"])'

FLASK=("$VENV/bin/flask" --app tracker)
# db upgrade, seed, open-periods (the scheduler does this daily too; pages never do) and
# user ensure-admin, in one process: each is idempotent, so a restart changes nothing.
"${FLASK[@]}" prepare

# The scheduler in a loop of its own: whenever it exits, say so and start it again.
supervise_scheduler() {
  local child="" rc
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    "${FLASK[@]}" scheduler &
    child=$!
    echo "$child" >"$RUN_DIR/scheduler.pid"
    rc=0
    wait "$child" || rc=$?
    echo "调度进程已退出（状态 $rc），${RESTART_SECONDS} 秒后重新启动；网站继续运行。" >&2
    sleep "$RESTART_SECONDS" &
    wait $! || true
  done
}

web=""
supervisor=""
cleanup() {
  trap - EXIT INT TERM
  for pid in $web $supervisor; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$RUN_DIR/scheduler.pid" "$RUN_DIR/web.pid"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

supervise_scheduler &
supervisor=$!

echo "任务分工落实跟踪系统 / tracker: http://$HOST:$PORT"
"$VENV/bin/gunicorn" --config deploy/gunicorn.conf.py --pid "$RUN_DIR/web.pid" 'tracker:create_app()' &
web=$!
rc=0
wait "$web" || rc=$?
echo "网站进程已退出（状态 $rc）；正在停止调度进程。" >&2
exit "$rc"
