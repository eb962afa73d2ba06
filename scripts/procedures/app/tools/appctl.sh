#!/usr/bin/env bash
# appctl.sh: run and inspect shopapp under APP_ROOT, as the application guide's procedures do.
#
#   APP_ROOT=/srv/shopapp appctl.sh start PORT    start the supervisor; wait until /health answers
#   appctl.sh stop                                stop it (workers finish what they serve)
#   appctl.sh reload                              replace the workers from what the links point at now;
#                                                 exit 1 (old workers still serving) if the new ones fail
#   appctl.sh health [VERSION [PKG==VER|config=SHA256 ...]]
#                                                 print /health; exit 1 unless it reports that version
#                                                 (empty: any), those packages and that configuration
#   appctl.sh switch LINK TARGET                  point APP_ROOT/LINK at TARGET in one rename(2)
#
# APP_ROOT holds: releases/<version>/, venvs/<name>/, current → releases/…, venv → venvs/…,
# config/shopapp.json, run/ (pid, port, reload status), log/.
set -euo pipefail

: "${APP_ROOT:?set APP_ROOT to the folder of the application}"
RUN="$APP_ROOT/run"
WAIT_S="${APPCTL_WAIT_S:-30}"

die() {
  echo "appctl: $*" >&2
  exit 1
}

supervisor_pid() {
  local pid
  pid=$(cat "$RUN/supervisor.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

health_json() {
  local port
  port=$(cat "$RUN/port") || die "no $RUN/port: is the application started?"
  python3 - "$port" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=5) as r:
        print(json.dumps(json.load(r), sort_keys=True))
except Exception as error:
    print(json.dumps({"status": "unreachable", "error": str(error)}))
    sys.exit(1)
PY
}

case "${1:-}" in
  start)
    port="${2:?start needs a port}"
    mkdir -p "$RUN" "$APP_ROOT/log"
    if pid=$(supervisor_pid); then die "already running (pid $pid)"; fi
    echo "$port" >"$RUN/port"
    # A session of its own, every stream redirected: the step that starts it ends, the service stays.
    setsid "$APP_ROOT/venv/bin/python" "$APP_ROOT/current/shopapp/supervisor.py" --root "$APP_ROOT" --port "$port" \
      </dev/null >>"$APP_ROOT/log/supervisor.log" 2>&1 &
    for _ in $(seq 1 $((WAIT_S * 10))); do
      if health_json >/dev/null 2>&1; then
        echo "started shopapp on 127.0.0.1:$port (supervisor $(cat "$RUN/supervisor.pid"))"
        exit 0
      fi
      kill -0 $! 2>/dev/null || break
      sleep 0.1
    done
    tail -n 5 "$APP_ROOT/log/supervisor.log" >&2 || true
    die "shopapp did not answer on 127.0.0.1:$port"
    ;;
  stop)
    if ! pid=$(supervisor_pid); then
      echo "not running"
      exit 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 $((WAIT_S * 10))); do
      kill -0 "$pid" 2>/dev/null || {
        echo "stopped (supervisor $pid)"
        exit 0
      }
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
    echo "killed (supervisor $pid did not stop in ${WAIT_S} s)"
    ;;
  reload)
    pid=$(supervisor_pid) || die "not running"
    before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' "$RUN/reload.json")
    kill -HUP "$pid"
    for _ in $(seq 1 $((WAIT_S * 10))); do
      status=$(cat "$RUN/reload.json")
      now=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["generation"])' "$status")
      if [ "$now" != "$before" ]; then
        echo "$status"
        python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s["ok"] else 1)' "$status" ||
          die "reload failed; the previous workers keep serving"
        exit 0
      fi
      sleep 0.1
    done
    die "no reload outcome in ${WAIT_S} s"
    ;;
  health)
    json=$(health_json) || die "not healthy: $json"
    echo "$json"
    shift
    python3 - "$json" "$@" <<'PY'
import json, sys
health, expected = json.loads(sys.argv[1]), sys.argv[2:]
problems = []
if health.get("status") != "ok":
    problems.append(f"status {health.get('status')}")
if expected and expected[0] and health.get("version") != expected[0]:
    problems.append(f"version {health.get('version')}, expected {expected[0]}")
for pin in expected[1:]:
    if pin.startswith("config="):
        if health.get("config", {}).get("sha256") != pin[len("config="):]:
            problems.append(f"configuration {health.get('config', {}).get('sha256', '?')[:12]}, expected {pin[len('config='):][:12]}")
        continue
    name, version = pin.split("==")
    if health.get("packages", {}).get(name) != version:
        problems.append(f"{name} {health.get('packages', {}).get(name)}, expected {version}")
if problems:
    sys.exit("appctl: not the expected service: " + "; ".join(problems))
PY
    ;;
  switch)
    link="${2:?switch needs a link name}"
    target="${3:?switch needs a target}"
    [ -e "$APP_ROOT/$target" ] || die "$APP_ROOT/$target does not exist"
    ln -sfn "$target" "$APP_ROOT/.$link.next"
    mv -T "$APP_ROOT/.$link.next" "$APP_ROOT/$link"
    echo "$link → $target"
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
