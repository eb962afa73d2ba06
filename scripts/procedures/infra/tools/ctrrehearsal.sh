#!/usr/bin/env bash
# ctrrehearsal.sh: the container rehearsal a procedure starts and removes: images 1.0 and 2.0, a
# "blue" container running 1.0, and HAProxy in front of blue and a free "green" port.
#
# As a procedure's setup and teardown ($EXEC_DOC_RUN_DIR set):
#   ctrrehearsal.sh use ENGINE NAME    prints ENGINE=, NAME=, CONTAINERS_CONF= (podman), IMAGE_V1=,
#                                      IMAGE_V2=, FRONT_PORT=, BLUE_PORT=, GREEN_PORT= for $EXEC_DOC_ENV
#   ctrrehearsal.sh done ENGINE NAME   stop the proxy, remove both containers and both images
#
# ENGINE is podman or docker (the daemon at $DOCKER_HOST must answer).
set -euo pipefail
tools="$(cd "$(dirname "$0")" && pwd)"
action="${1:-}" engine="${2:-}" name="${3:-}"
[ -n "$engine" ] && [ -n "$name" ] || { echo "usage: ctrrehearsal.sh use|done ENGINE NAME" >&2; exit 64; }
run_dir="${EXEC_DOC_RUN_DIR:?ctrrehearsal runs as a step of a procedure}"
export ENGINE="$engine"
[ "$engine" = podman ] && export CONTAINERS_CONF="$run_dir/containers/containers.conf"
case "$action" in
  use)
    mkdir -p "$run_dir/containers"
    if [ "$engine" = podman ]; then
      printf '[containers]\ndefault_ulimits=[]\n[engine]\ncgroup_manager="cgroupfs"\nruntime="runc"\n' > "$CONTAINERS_CONF"
      echo "CONTAINERS_CONF=$CONTAINERS_CONF"
    elif ! /usr/bin/docker info > /dev/null 2>&1; then
      echo "no Docker daemon answers at ${DOCKER_HOST:-the default socket}: start dockerd, or use podman" >&2
      exit 1
    fi
    read -r front blue green < <(python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
    images="$("$tools/ctrctl.sh" images "$run_dir/containers" "$name")"
    echo "$images"
    image_v1="$(sed -n 's/^IMAGE_V1=//p' <<< "$images")"
    "$tools/ctrctl.sh" run "$name-blue" "$image_v1" "$blue" >&2
    "$tools/proxyctl.sh" start "$run_dir/proxy" "$front" "$blue" "$green" >&2
    printf 'ENGINE=%s\nNAME=%s\nFRONT_PORT=%s\nBLUE_PORT=%s\nGREEN_PORT=%s\n' "$engine" "$name" "$front" "$blue" "$green"
    ;;
  done)
    "$tools/proxyctl.sh" stop "$run_dir/proxy"
    "$tools/ctrctl.sh" rm "$name-blue"
    "$tools/ctrctl.sh" rm "$name-green"
    "$tools/ctrctl.sh" rmi "localhost/$name:1.0" "localhost/$name:2.0"
    ;;
  *) echo "usage: ctrrehearsal.sh use|done ENGINE NAME" >&2; exit 64 ;;
esac
