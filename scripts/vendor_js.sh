#!/bin/sh
# Vendor the portal's browser libraries from npm into src/terrapole/portal/static/vendor/ and
# record name, version, licence and SHA-256 of each file in VERSIONS.json. Run by hand when a
# version changes; the server never fetches anything at run time (no CDN). The offline basemap
# (static/basemap/, see its PROVENANCE.md) is made once by hand; its hash is recorded here too.
set -eu
MAPLIBRE_VERSION="${MAPLIBRE_VERSION:-4.7.1}"
UPLOT_VERSION="${UPLOT_VERSION:-1.6.32}"
dest="$(cd "$(dirname "$0")/.." && pwd)/src/terrapole/portal/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"

# unpack NAME@VERSION into $work/NAME and print its licence
unpack() {
  mkdir -p "$work/$1"
  (cd "$work/$1" && npm pack --silent "$1@$2" >/dev/null && tar -xzf ./*.tgz)
  node -p "require('$work/$1/package/package.json').license"
}

hashes() {  # "file": "sha256", ... for the files given
  first=1
  for f in "$@"; do
    [ $first -eq 1 ] || printf ',\n'
    first=0
    printf '      "%s": "%s"' "$f" "$(sha256sum "$dest/$f" | cut -d' ' -f1)"
  done
  printf '\n'
}

maplibre_licence="$(unpack maplibre-gl "$MAPLIBRE_VERSION")"
cp "$work/maplibre-gl/package/dist/maplibre-gl.js" "$work/maplibre-gl/package/dist/maplibre-gl.css" "$dest/"
cp "$work/maplibre-gl/package/LICENSE.txt" "$dest/maplibre-gl.LICENSE.txt"

uplot_licence="$(unpack uplot "$UPLOT_VERSION")"
cp "$work/uplot/package/dist/uPlot.iife.min.js" "$work/uplot/package/dist/uPlot.min.css" "$dest/"
cp "$work/uplot/package/LICENSE" "$dest/uPlot.LICENSE.txt"

{
  echo "{"
  echo "  \"maplibre-gl\": {"
  echo "    \"version\": \"${MAPLIBRE_VERSION}\", \"licence\": \"${maplibre_licence}\", \"files\": {"
  hashes maplibre-gl.js maplibre-gl.css
  echo "    }"
  echo "  },"
  echo "  \"uplot\": {"
  echo "    \"version\": \"${UPLOT_VERSION}\", \"licence\": \"${uplot_licence}\","
  echo "    \"source\": \"npm package uplot (dist/)\", \"files\": {"
  hashes uPlot.iife.min.js uPlot.min.css
  echo "    }"
  echo "  },"
  echo "  \"natural-earth-countries-110m\": {"
  echo "    \"version\": \"world-atlas 2.0.2\", \"licence\": \"public domain (Natural Earth)\", \"files\": {"
  hashes ../basemap/countries-110m.geojson
  echo "    }"
  echo "  }"
  echo "}"
} > "$dest/VERSIONS.json"
echo "vendored maplibre-gl ${MAPLIBRE_VERSION} and uplot ${UPLOT_VERSION} into $dest"
