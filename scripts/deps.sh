# Sourced by scripts/run.sh and scripts/test.sh: install into the virtualenv only when the
# declared requirements changed, from a wheelhouse without any package index when one exists.
#
#   VENV            the virtualenv (set by the caller)
#   TRACKER_WHEELHOUSE  directory of wheels made by scripts/wheelhouse.sh (default: wheelhouse)
#
# The stamp $VENV/.tracker-deps-<set> holds the hash of the requirements last installed for
# that set ("runtime" or "test"); a restart with unchanged requirements runs no pip at all.

WHEELHOUSE="${TRACKER_WHEELHOUSE:-wheelhouse}"

# The hash of what pip would install: setup.cfg's requirements and extras, the build system,
# the build hook and the Python version of the virtualenv. Comments, mypy and pytest settings
# do not count, so changing them never triggers an install.
deps_hash() {
  "$VENV/bin/python" - <<'PY'
import configparser, hashlib, sys, tomllib
cfg = configparser.ConfigParser(interpolation=None)
cfg.read("setup.cfg", encoding="utf-8")
parts = [sys.version.split()[0]]
for section, key in (("options", "install_requires"), ("options", "python_requires")):
    parts.append(cfg.get(section, key, fallback=""))
if cfg.has_section("options.extras_require"):
    parts += [f"{k}={v}" for k, v in sorted(cfg.items("options.extras_require"))]
with open("pyproject.toml", "rb") as file:
    parts.append(repr(tomllib.load(file).get("build-system")))
with open("setup.py", "rb") as file:
    parts.append(file.read().decode("utf-8"))
lines = "\n".join(parts).splitlines()
kept = [line.split("#", 1)[0].strip() for line in lines]
print(hashlib.sha256("\n".join(line for line in kept if line).encode()).hexdigest())
PY
}

# ensure_deps SET TARGET: install TARGET (".", ".[test]") editable unless the stamp of SET
# matches. Uses only the wheelhouse (--no-index) when it holds wheels.
ensure_deps() {
  local set="$1" target="$2" stamp="$VENV/.tracker-deps-$1" want
  want="$(deps_hash)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  local source=(--quiet)
  if compgen -G "$WHEELHOUSE/*.whl" >/dev/null; then
    echo "依赖已变化或尚未安装：从本地轮子仓库 $WHEELHOUSE 安装（不访问软件包索引）" >&2
    source+=(--no-index --find-links "$WHEELHOUSE")
  else
    echo "依赖已变化或尚未安装：从软件包索引安装（内网服务器请先用 scripts/wheelhouse.sh 准备轮子仓库）" >&2
  fi
  if ! "$VENV/bin/python" -m pip install "${source[@]}" -e "$target"; then
    echo "安装失败：请检查软件包索引是否可达，或把 scripts/wheelhouse.sh 生成的 $WHEELHOUSE 目录复制到本机。" >&2
    return 1
  fi
  echo "$want" >"$stamp"
  # The test set includes the runtime set: one install serves both.
  [ "$set" = test ] && echo "$want" >"$VENV/.tracker-deps-runtime"
  return 0
}
