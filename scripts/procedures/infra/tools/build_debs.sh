#!/usr/bin/env bash
# build_debs.sh PREFIX REPO: real Debian packages for the package procedures, in a local apt
# repository (a `file:` source: the .deb files and their Packages index).
#
#   PREFIX-lib      1.0-1, 2.0-1   a library
#   PREFIX          1.0-1          depends on PREFIX-lib (>= 1.0), (<< 2.0)
#                   2.0-1          depends on PREFIX-lib (>= 2.0): apt upgrades both together
#                   3.0-1          its postinst fails (the edge case of a broken package)
#   PREFIX-legacy   1.0-1          conflicts with PREFIX (>= 2.0): the conflict case
#
# Each installs /opt/PREFIX/<name>.version, so what is installed can be read back from disk too.
# A prefix per rehearsal keeps concurrent rehearsals (and the machine's own packages) apart.
set -euo pipefail
prefix="${1:?build_debs.sh needs a package name prefix}"
repo="${2:?build_debs.sh needs a repository folder}"
[[ "$prefix" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || { echo "build_debs: $prefix is not a Debian package name" >&2; exit 64; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$repo"

deb() { # name version "extra control lines" postinst-exit
  local name="$1" version="$2" extra="$3" postinst="${4:-0}" dir="$work/$1_$2"
  mkdir -p "$dir/DEBIAN" "$dir/opt/$prefix"
  echo "$version" >"$dir/opt/$prefix/$name.version"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: all"
    echo "Maintainer: exec-doc rehearsal <root@localhost>"
    echo "Section: misc"
    echo "Priority: optional"
    [ -n "$extra" ] && printf '%s\n' "$extra"
    echo "Description: exec-doc rehearsal package $name $version"
    echo " Built by scripts/procedures/infra/tools/build_debs.sh for the infrastructure guide."
  } >"$dir/DEBIAN/control"
  if [ "$postinst" != 0 ]; then
    printf '#!/bin/sh\necho "%s %s: postinst fails on purpose" >&2\nexit %s\n' "$name" "$version" "$postinst" >"$dir/DEBIAN/postinst"
    chmod 755 "$dir/DEBIAN/postinst"
  fi
  dpkg-deb --root-owner-group --build "$dir" "$repo/${name}_${version}_all.deb" >/dev/null
}

deb "$prefix-lib" 1.0-1 ""
deb "$prefix-lib" 2.0-1 ""
deb "$prefix" 1.0-1 "Depends: $prefix-lib (>= 1.0), $prefix-lib (<< 2.0)"
deb "$prefix" 2.0-1 "Depends: $prefix-lib (>= 2.0)"
deb "$prefix" 3.0-1 "Depends: $prefix-lib (>= 2.0)" 1
deb "$prefix-legacy" 1.0-1 "Conflicts: $prefix (>= 2.0)"
(cd "$repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages)
echo "built $(ls "$repo"/*.deb | wc -l) packages in $repo"
