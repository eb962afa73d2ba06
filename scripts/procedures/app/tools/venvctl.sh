#!/usr/bin/env bash
# venvctl.sh: shopapp's Python environments under APP_ROOT/venvs, one per lock (blue/green).
#
#   venvctl.sh create NAME LOCK   a new environment with exactly LOCK's pins, from APP_ROOT/wheelhouse
#                                 only (no index), hashes required; it appears complete or not at all
#   venvctl.sh freeze NAME        what NAME has installed (pip freeze --local)
#   venvctl.sh matches NAME LOCK  exit 1 unless NAME has exactly LOCK's pins
#   venvctl.sh remove NAME        delete NAME (refused for the one `venv` points at)
#
# APP_PYTHON (default /usr/bin/python3) makes the environments; they see its system packages
# (psycopg2 from Debian). PIP (default `python3 -m pip`, pip 22.3 or later) installs into them with
# --python, so the environments themselves carry no pip.
set -euo pipefail
: "${APP_ROOT:?set APP_ROOT to the folder of the application}"
APP_PYTHON="${APP_PYTHON:-/usr/bin/python3}"
read -r -a PIP <<<"${PIP:-python3 -m pip}"
die() {
  echo "venvctl: $*" >&2
  exit 1
}
pins() { sed -e 's/#.*//' -e 's/ .*//' "$1" | grep -v '^\s*$' | tr 'A-Z_.' 'a-z--' | sort; }
freeze() { "${PIP[@]}" --python "$APP_ROOT/venvs/$1/bin/python" freeze --local --disable-pip-version-check | tr 'A-Z_.' 'a-z--' | sort; }

case "${1:-}" in
  create)
    name="${2:?create needs a name}" lock="${3:?create needs a lock file}"
    target="$APP_ROOT/venvs/$name"
    [ -e "$target" ] && die "$target exists; an environment is never changed in place"
    rm -rf "$target.partial"
    "$APP_PYTHON" -m venv --without-pip --system-site-packages "$target.partial"
    "${PIP[@]}" --python "$target.partial/bin/python" install --quiet --disable-pip-version-check \
      --no-index --find-links "$APP_ROOT/wheelhouse" --require-hashes --no-deps -r "$lock"
    # Python writes absolute paths into a venv: it is made where it will live, then checked there.
    mv -T "$target.partial" "$target"
    sed -i "s#$target.partial#$target#g" "$target/pyvenv.cfg" "$target"/bin/* 2>/dev/null || true
    if ! diff <(pins "$lock") <(freeze "$name") >/dev/null; then
      rm -rf "$target"
      die "$name does not match $lock after the install; removed"
    fi
    echo "created $name: $(pins "$lock" | tr '\n' ' ')"
    ;;
  freeze) freeze "${2:?freeze needs a name}" ;;
  matches)
    name="${2:?matches needs a name}" lock="${3:?matches needs a lock file}"
    if diff <(pins "$lock") <(freeze "$name"); then
      echo "$name matches $(basename "$lock")"
    else
      die "$name differs from $(basename "$lock") (< lock, > installed)"
    fi
    ;;
  remove)
    name="${2:?remove needs a name}"
    [ "$(readlink "$APP_ROOT/venv")" = "venvs/$name" ] && die "$name is the environment in use; switch away first"
    rm -rf "$APP_ROOT/venvs/$name"
    echo "removed $name"
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
