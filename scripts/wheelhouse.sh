#!/usr/bin/env bash
# On a machine with a package index: put every wheel the tracker needs into wheelhouse/, to
# be copied with the checkout to a server without one (docs/operations.md, 离线安装): the
# tracker's own wheel (for a production install) and all of its dependencies.
#   scripts/wheelhouse.sh            the runtime dependencies, the build backend and pip
#   scripts/wheelhouse.sh --test     also the test extra (ruff, mypy, pytest, playwright, …)
# Build it on the same operating system, CPU architecture and Python version (3.11) as the
# server: binary wheels (psycopg, pydantic-core, greenlet, …) are made for one platform.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
WHEELHOUSE="${TRACKER_WHEELHOUSE:-wheelhouse}"
target="."
case "${1:-}" in
  "") ;;
  --test) target=".[test]" ;;
  *) echo "用法：scripts/wheelhouse.sh [--test]" >&2; exit 2 ;;
esac

build_venv="$(mktemp -d)"
trap 'rm -rf "$build_venv"' EXIT
"$PYTHON" -m venv "$build_venv"
mkdir -p "$WHEELHOUSE"
# The tracker and all of its dependencies as wheels, then what an offline editable install
# needs besides: the build backend declared in pyproject.toml, and pip itself.
"$build_venv/bin/python" -m pip wheel --quiet --wheel-dir "$WHEELHOUSE" "$target"
"$build_venv/bin/python" -m pip download --quiet --dest "$WHEELHOUSE" "setuptools>=70.1" pip
count="$(find "$WHEELHOUSE" -name '*.whl' | wc -l)"
echo "轮子仓库 $WHEELHOUSE 已就绪：$count 个文件（含本系统的安装包 tracker-*.whl）。"
echo "单机：把整个检出目录（含 $WHEELHOUSE/）复制到服务器后运行 scripts/run.sh；生产部署见 docs/operations.md。"
