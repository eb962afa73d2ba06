#!/usr/bin/env bash
# rehearsal.sh: a disposable shopapp for rehearsing the application guide's procedures.
#
#   APP_ROOT=DIR rehearsal.sh setup VERSION LOCK   build the wheels, release VERSION and an
#                                                  environment from LOCK under DIR (which must not
#                                                  exist), create the sample tables in $DATABASE_URL
#                                                  (schema version $SCHEMA_VERSION, default 2),
#                                                  install the first configuration, start the
#                                                  service on a free port; prints APP_PORT=…
#   APP_ROOT=DIR rehearsal.sh remove               stop it, drop its tables and delete DIR, only if
#                                                  this script made them
#
# As a procedure's setup and teardown ($EXEC_DOC_RUN_DIR set):
#   rehearsal.sh use APP_ROOT VERSION LOCK         prints APP_SRC=, APP_ROOT=, APP_PORT= for
#                                                  $EXEC_DOC_ENV: the application at APP_ROOT as it
#                                                  is, or (APP_ROOT empty) a rehearsal built in the
#                                                  run's folder
#   rehearsal.sh done APP_ROOT                     remove that rehearsal; an APP_ROOT given is left
#                                                  alone
#
# On a real system none of the building runs: the procedures take APP_ROOT as a parameter instead.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-}" in
  use)
    given="${2-}" version="${3:?use needs a release version}" lock="${4:?use needs a lock file}"
    echo "APP_SRC=$here"
    if [ -n "$given" ]; then
      printf 'APP_ROOT=%s\nAPP_PORT=%s\n' "$given" "$(cat "$given/run/port")"
    else
      export APP_ROOT="${EXEC_DOC_RUN_DIR:?use runs as a step of a procedure}/shopapp"
      echo "APP_ROOT=$APP_ROOT"
      "$0" setup "$version" "$lock"
    fi
    ;;
  done)
    [ -n "${2-}" ] && exit 0
    APP_ROOT="${EXEC_DOC_RUN_DIR:?done runs as a step of a procedure}/shopapp" "$0" remove
    ;;
  setup)
    : "${APP_ROOT:?set APP_ROOT}"
    version="${2:?setup needs a release version}" lock="${3:?setup needs a lock file}"
    [ -e "$APP_ROOT" ] && { echo "rehearsal: $APP_ROOT exists; a rehearsal starts from nothing" >&2; exit 1; }
    mkdir -p "$APP_ROOT"/{releases,venvs,config,run,log}
    touch "$APP_ROOT/.rehearsal"
    python3 "$here/tools/build_wheels.py" --out "$APP_ROOT/wheelhouse" >/dev/null
    "$here/tools/build_release.sh" "$version" "$APP_ROOT/releases/$version" >/dev/null
    name="shopapp-$(basename "$lock" .lock | sed 's/^shopapp-//')"
    "$here/tools/venvctl.sh" create "$name" "$lock" >/dev/null
    ln -s "releases/$version" "$APP_ROOT/current"
    ln -s "venvs/$name" "$APP_ROOT/venv"
    cp "$here/config/shopapp-1.json" "$APP_ROOT/config/shopapp.json"
    # The sample data the service reads; `create table` (not `if not exists`) refuses to touch
    # tables someone else made.
    "$APP_ROOT/venv/bin/python" - "${SCHEMA_VERSION:-2}" <<'PY'
import os, sys, psycopg2
with psycopg2.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
    cur.execute("create table shopapp_orders (id bigint primary key, amount_cents bigint not null, status text not null default 'new')")
    cur.execute("insert into shopapp_orders select g, 1000 + g % 9000, 'new' from generate_series(1, 2000) g")
    cur.execute("create table shopapp_schema_version (version int not null)")
    cur.execute("insert into shopapp_schema_version values (%s)", (int(sys.argv[1]),))
PY
    touch "$APP_ROOT/.rehearsal-tables"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$here/tools/appctl.sh" start "$port" >&2
    echo "APP_PORT=$port"
    ;;
  remove)
    : "${APP_ROOT:?set APP_ROOT}"
    [ -e "$APP_ROOT" ] || exit 0
    [ -e "$APP_ROOT/.rehearsal" ] || { echo "rehearsal: $APP_ROOT was not made by a rehearsal; left alone"; exit 0; }
    "$here/tools/appctl.sh" stop
    if [ -e "$APP_ROOT/.rehearsal-tables" ]; then
      "$APP_ROOT/venv/bin/python" -c 'import os, psycopg2
with psycopg2.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
    cur.execute("drop table if exists shopapp_orders, shopapp_schema_version")'
    fi
    rm -rf "$APP_ROOT"
    echo "removed the rehearsal in $APP_ROOT"
    ;;
  *)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
