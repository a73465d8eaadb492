#!/bin/sh
# Vendor the portal's browser libraries from npm into src/terrapole/portal/static/vendor/ and
# record name, version, licence and SHA-256 of each file in VERSIONS.json. Run by hand when a
# version changes; the server never fetches anything at run time (no CDN).
set -eu
MAPLIBRE_VERSION="${MAPLIBRE_VERSION:-4.7.1}"
dest="$(cd "$(dirname "$0")/.." && pwd)/src/terrapole/portal/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "maplibre-gl@${MAPLIBRE_VERSION}" >/dev/null
tar -xzf maplibre-gl-*.tgz
mkdir -p "$dest"
cp package/dist/maplibre-gl.js package/dist/maplibre-gl.css "$dest/"
cp package/LICENSE.txt "$dest/maplibre-gl.LICENSE.txt"
licence="$(node -p "require('./package/package.json').license")"
{
  echo "{"
  echo "  \"maplibre-gl\": {\"version\": \"${MAPLIBRE_VERSION}\", \"licence\": \"${licence}\", \"files\": {"
  first=1
  for f in maplibre-gl.js maplibre-gl.css; do
    [ $first -eq 1 ] || echo ","
    first=0
    printf '    "%s": "%s"' "$f" "$(sha256sum "$dest/$f" | cut -d' ' -f1)"
  done
  echo ""
  echo "  }}"
  echo "}"
} > "$dest/VERSIONS.json"
echo "vendored maplibre-gl ${MAPLIBRE_VERSION} into $dest"
