#!/usr/bin/env bash
# A stand-in for an application that connects to PostgreSQL: every 100 ms it reads its
# configuration (app.conf: user= and passfile=), connects with it (the password comes from a
# pgpass file, never from the command line) and writes one line per attempt to status.log:
# "<epoch-ms> ok <user>" or "<epoch-ms> fail <user> <error>". Re-reading the configuration on every
# connection is what a pool with reload does: moving it to new credentials is writing app.conf.
#
#   dbapp.sh start <dir>                 start the loop in the background (pid in <dir>/app.pid)
#   dbapp.sh stop <dir>                  stop it (and wait until it is gone)
#   dbapp.sh wait <dir> <user> <n> <s>   wait up to <s> seconds for <n> successes as <user> after now
#   dbapp.sh failures <dir>              how many attempts failed since the start
#   dbapp.sh switch <dir> <user> <passfile>   point app.conf at other credentials (one rename)
set -euo pipefail
cmd=${1:?usage: dbapp.sh start|stop|wait|failures|switch <dir> ...}
dir=${2:?the application folder}

now_ms() { date +%s%3N; }

case "$cmd" in
  start)
    [ -f "$dir/app.conf" ] || { echo "dbapp: $dir/app.conf is missing" >&2; exit 64; }
    : > "$dir/status.log"
    setsid bash -c '
      dir=$1
      while [ ! -e "$dir/stop" ]; do
        # One read of the configuration per attempt: read twice, a switch landing between the
        # reads would pair one role with the password file of the other.
        conf=$(cat "$dir/app.conf")
        user=$(printf "%s\n" "$conf" | sed -n "s/^user=//p")
        passfile=$(printf "%s\n" "$conf" | sed -n "s/^passfile=//p")
        t=$(date +%s%3N)
        if out=$(PGPASSFILE="$passfile" psql -X -A -t -q -w -h 127.0.0.1 -U "$user" -c "select current_user" 2>&1); then
          echo "$t ok $out" >> "$dir/status.log"
        else
          echo "$t fail $user $(echo "$out" | tr "\n" " ")" >> "$dir/status.log"
        fi
        sleep 0.1
      done' dbapp "$dir" > /dev/null 2>&1 < /dev/null &
    echo $! > "$dir/app.pid"
    ;;
  stop)
    [ -f "$dir/app.pid" ] || exit 0
    pid=$(cat "$dir/app.pid")
    touch "$dir/stop"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -- "-$pid" 2>/dev/null || true
    rm -f "$dir/app.pid" "$dir/stop"
    ;;
  wait)
    user=${3:?user}; n=${4:?count}; timeout=${5:?seconds}
    from=$(now_ms)
    deadline=$(( from + timeout * 1000 ))
    while :; do
      got=$(awk -v from="$from" -v user="$user" '$1 >= from && $2 == "ok" && $3 == user' "$dir/status.log" | wc -l)
      [ "$got" -ge "$n" ] && { echo "application: $got connection(s) as $user"; exit 0; }
      if [ "$(now_ms)" -gt "$deadline" ]; then
        echo "application: $got of $n connections as $user within ${timeout}s; last attempts:" >&2
        tail -n 3 "$dir/status.log" >&2
        exit 1
      fi
      sleep 0.1
    done
    ;;
  failures)
    grep -c ' fail ' "$dir/status.log" || true
    ;;
  switch)
    user=${3:?user}; passfile=${4:?passfile}
    printf 'user=%s\npassfile=%s\n' "$user" "$passfile" > "$dir/app.conf.new"
    mv "$dir/app.conf.new" "$dir/app.conf"
    ;;
  *)
    echo "dbapp: unknown command $cmd" >&2; exit 64 ;;
esac
