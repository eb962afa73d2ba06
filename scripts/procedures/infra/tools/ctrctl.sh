#!/usr/bin/env bash
# ctrctl.sh: the container procedures' commands, the same for Docker and Podman (ENGINE=docker or
# podman, default podman). No registry is reachable here: images are imported from a root file
# system built from the machine's static busybox, and pinned by their content digest (image id).
#
#   ctrctl.sh images DIR NAME            import NAME:1.0 and NAME:2.0 (each serves its version at
#                                        /version.txt); prints IMAGE_V1=sha256:… IMAGE_V2=sha256:…
#   ctrctl.sh run CONTAINER IMAGE PORT   start IMAGE's web server on 127.0.0.1:PORT (host network)
#                                        and wait until it answers; exit 1 if it never does
#   ctrctl.sh image-of CONTAINER         the image id a running container runs
#   ctrctl.sh stop|start|rm CONTAINER    stop (kept for a rollback), start again, remove
#   ctrctl.sh rmi IMAGE ...              remove images
#
# Podman runs with runc and cgroupfs (CONTAINERS_CONF is written for it); Docker is Debian's client
# (/usr/bin/docker) talking to $DOCKER_HOST.
set -euo pipefail
ENGINE="${ENGINE:-podman}"
case "$ENGINE" in
  podman)
    if [ -z "${CONTAINERS_CONF:-}" ]; then
      export CONTAINERS_CONF="${TMPDIR:-/tmp}/exec-doc-containers.conf"
      printf '[containers]\ndefault_ulimits=[]\n[engine]\ncgroup_manager="cgroupfs"\nruntime="runc"\n' >"$CONTAINERS_CONF"
    fi
    engine=(podman)
    ;;
  docker) engine=(/usr/bin/docker) ;;
  *) echo "ctrctl: ENGINE is docker or podman, not $ENGINE" >&2; exit 64 ;;
esac
die() { echo "ctrctl: $*" >&2; exit 1; }
answers() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/version.txt", timeout=2).read().decode().strip())' "$1" 2>/dev/null; }

case "${1:-}" in
  images)
    dir="${2:?images needs a folder}" name="${3:?images needs a name}"
    for version in 1.0 2.0; do
      root="$dir/rootfs-$version"
      rm -rf "$root" && mkdir -p "$root/bin" "$root/www"
      cp /bin/busybox "$root/bin/" && ln -s busybox "$root/bin/httpd" && ln -s busybox "$root/bin/sh"
      echo "$version" >"$root/www/version.txt"
      # Its own content per name: two runs at once never share an image, so one's rmi cannot pull
      # the image from under the other's import (the same bytes would give the same image id).
      echo "$name" >"$root/www/name.txt"
      tar --owner=0 --group=0 --mtime=@0 -C "$root" -cf "$dir/image-$version.tar" .
      "${engine[@]}" import "$dir/image-$version.tar" "localhost/$name:$version" >/dev/null
      id=$("${engine[@]}" image inspect --format '{{.Id}}' "localhost/$name:$version")
      echo "IMAGE_V${version%%.*}=sha256:${id#sha256:}"
    done
    ;;
  run)
    container="${2:?run needs a container name}" image="${3:?run needs an image}" port="${4:?run needs a port}"
    "${engine[@]}" run -d --name "$container" --network host "$image" /bin/httpd -f -p "127.0.0.1:$port" -h /www >/dev/null ||
      die "$ENGINE could not start $image"
    for _ in $(seq 1 100); do
      version=$(answers "$port") && { echo "$container serves $version on 127.0.0.1:$port"; exit 0; }
      sleep 0.1
    done
    "${engine[@]}" logs "$container" 2>&1 | tail -n 5 >&2 || true
    die "$container never answered on 127.0.0.1:$port"
    ;;
  image-of)
    id=$("${engine[@]}" inspect --format '{{.Image}}' "${2:?image-of needs a container}")
    echo "sha256:${id#sha256:}"
    ;;
  # busybox httpd runs as PID 1 and ignores SIGTERM: one second, then SIGKILL (it serves nothing any more).
  stop) "${engine[@]}" stop -t 1 "${2:?}" >/dev/null && echo "stopped $2" ;;
  start)
    "${engine[@]}" start "${2:?}" >/dev/null
    echo "started $2"
    ;;
  rm)
    stop_now=()
    [ "$ENGINE" = podman ] && stop_now=(-t 0)
    "${engine[@]}" rm -f "${stop_now[@]}" "${2:?}" >/dev/null 2>&1 && echo "removed $2" || echo "no container $2"
    ;;
  rmi)
    shift
    "${engine[@]}" rmi -f "$@" >/dev/null 2>&1 || true
    echo "removed images $*"
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
