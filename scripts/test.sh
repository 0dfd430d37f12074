#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, then pytest on SQLite and on PostgreSQL at
# once.
#   TRACKER_TEST_PG_URL  PostgreSQL to test against (default: local trust-auth database `test`)
#   TRACKER_TEST_WORKERS pytest-xdist workers for each of the two passes; or per pass
#   TRACKER_TEST_SQLITE_WORKERS (default 1) and TRACKER_TEST_PG_WORKERS (default 2)
#   CI=true              PostgreSQL and Chromium become mandatory instead of skipped
#   TRACKER_WHEELHOUSE   wheels to install from without a package index (scripts/wheelhouse.sh --test)
# Arguments go to both pytest runs (e.g. scripts/test.sh -k reminders).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
PG_URL="${TRACKER_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
# xdist workers per pass, measured on a loaded 2-core machine with both passes running (README):
# the PostgreSQL pass is the longer one, so it gets the second worker.
SQLITE_WORKERS="${TRACKER_TEST_SQLITE_WORKERS:-${TRACKER_TEST_WORKERS:-1}}"
PG_WORKERS="${TRACKER_TEST_PG_WORKERS:-${TRACKER_TEST_WORKERS:-2}}"

VENV=.venv
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# Installs only when the requirements changed (and from wheelhouse/ when present).
# shellcheck source=scripts/deps.sh
. scripts/deps.sh
ensure_deps test '.[test]'

# axe-core for the accessibility browser test (tests/browser/axe): `npm ci` only when its
# node_modules is missing or package-lock.json changed since the last install (the lock's hash
# is kept beside the packages). Without npm the test skips locally; under CI it is an error.
AXE=tests/browser/axe
axe_stamp="$AXE/node_modules/.tracker-lock-sha256"
axe_want="$(sha256sum "$AXE/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$axe_stamp" ] || [ "$(cat "$axe_stamp")" != "$axe_want" ]; then
  echo "== axe-core (npm ci in $AXE)"
  if command -v npm >/dev/null 2>&1 && npm ci --prefix "$AXE" --no-audit --no-fund --loglevel=error; then
    echo "$axe_want" >"$axe_stamp"
  elif [ "${CI:-}" = "true" ]; then
    echo "CI: axe-core must be installed (npm ci --prefix $AXE)" >&2
    exit 1
  else
    echo "axe-core not installed: the accessibility browser test will skip (npm ci --prefix $AXE)" >&2
  fi
fi

echo "== lint (ruff)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== types (mypy)"
scripts/typecheck.sh

# Both passes run at once, each on its own xdist workers and its own databases (SQLite files
# in pytest's tmp dirs; PostgreSQL <name>_gw0, <name>_gw1, ... derived from PG_URL). Each pass
# writes to its own log, printed whole once both are done, SQLite first.
LOGS=test-artifacts/logs
mkdir -p "$LOGS"
PYTEST=(.venv/bin/python -m pytest --dist loadgroup)

pg_reachable() {
  .venv/bin/python - "$PG_URL" <<'PY'
import sys
import sqlalchemy as sa
try:
    with sa.create_engine(sys.argv[1]).connect() as conn:
        conn.execute(sa.text("select 1"))
except Exception as exc:  # noqa: BLE001 - report any connection failure
    print(f"PostgreSQL unreachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

passes=(sqlite)
if pg_reachable; then
  passes+=(postgresql)
elif [ "${CI:-}" = "true" ]; then
  echo "CI: PostgreSQL must be reachable at $PG_URL" >&2
  exit 1
else
  echo "PostgreSQL not reachable: skipped the PostgreSQL run (CI makes this an error)." >&2
fi

echo "== tests on ${passes[*]} at the same time (xdist workers: SQLite $SQLITE_WORKERS, PostgreSQL $PG_WORKERS)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' INT TERM
env -u TRACKER_TEST_DATABASE_URL "${PYTEST[@]}" -n "$SQLITE_WORKERS" "$@" >"$LOGS/sqlite.log" 2>&1 &
pids+=($!)
if [ "${#passes[@]}" = 2 ]; then
  TRACKER_TEST_DATABASE_URL="$PG_URL" "${PYTEST[@]}" -n "$PG_WORKERS" "$@" >"$LOGS/postgresql.log" 2>&1 &
  pids+=($!)
fi

status=0
summaries=()
for i in "${!passes[@]}"; do
  name="${passes[$i]}"
  rc=0
  wait "${pids[$i]}" || rc=$?
  echo "== tests on $name"
  cat "$LOGS/$name.log"
  summaries+=("$(tail -n 1 "$LOGS/$name.log")")
  if [ "$rc" = 5 ]; then
    echo "$name: pytest collected no tests (exit 5), which fails the run" >&2
  fi
  [ "$rc" = 0 ] || status=1
done

# The closing lines CI reads: each pass's pytest summary, SQLite first.
echo "== summary (${passes[*]})"
printf '%s\n' "${summaries[@]}"
exit "$status"
