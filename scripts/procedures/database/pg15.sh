#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 server from the machine's binaries, for the
# major-version upgrade rehearsal: pg15.sh start <dir> <port> | pg15.sh stop <dir>
set -euo pipefail
BIN=${PG15_BIN:-/usr/lib/postgresql/15/bin}
action=$1
dir=$2
# PostgreSQL refuses to run as root: use the postgres user then.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    port=$3
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >/dev/null
    as_owner "$BIN/pg_ctl" start -D "$dir/data" -w -t 60 -l "$dir/server.log" -o "-p $port -c listen_addresses=127.0.0.1 -k $dir" >/dev/null
    echo "PostgreSQL 15 on 127.0.0.1:$port"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$BIN/pg_ctl" stop -D "$dir/data" -m fast -w >/dev/null; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: pg15.sh start <dir> <port> | stop <dir>" >&2; exit 64 ;;
esac
