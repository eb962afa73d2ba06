#!/usr/bin/env bash
# build_release.sh VERSION DIR: a release of shopapp as it is deployed: the source of
# scripts/procedures/app/shopapp, the release's change (releases/VERSION.patch, if any) applied,
# and a VERSION file. The release folder is complete before anything points at it.
set -euo pipefail
version="${1:?build_release.sh needs a version}"
dir="${2:?build_release.sh needs a target folder}"
here="$(cd "$(dirname "$0")/.." && pwd)"
[ -e "$dir" ] && { echo "build_release: $dir exists; a release is never rebuilt in place" >&2; exit 1; }
staging="$dir.partial"
rm -rf "$staging"
mkdir -p "$staging"
cp -R "$here/shopapp" "$staging/"
if [ -f "$here/releases/$version.patch" ]; then
  patch --quiet -p1 -d "$staging" <"$here/releases/$version.patch"
fi
echo "$version" >"$staging/VERSION"
find "$staging" -name '__pycache__' -prune -exec rm -rf {} +
mv -T "$staging" "$dir"
echo "built release $version in $dir"
