// terrapole portal: maps on the search, item and compare pages (MapLibre GL JS, vendored).
"use strict";

// The basemap under every map (jobs.js's maps too): the bundled Natural Earth countries, or
// the tile service the server is configured with (TERRAPOLE_BASEMAP_URL).
function basemapStyle() {
  const conf = JSON.parse(document.body.dataset.basemap || "{}");
  const style = { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#dbe7ef" } }] };
  if (conf.tiles) {
    style.sources.basemap = { type: "raster", tiles: [conf.tiles], tileSize: 256, attribution: conf.attribution || "" };
    style.layers.push({ id: "basemap", type: "raster", source: "basemap" });
  } else if (conf.geojson) {
    style.sources.basemap = { type: "geojson", data: conf.geojson, attribution: conf.attribution || "" };
    style.layers.push({ id: "land", type: "fill", source: "basemap", paint: { "fill-color": "#f4f1ea" } });
    style.layers.push({ id: "borders", type: "line", source: "basemap", paint: { "line-color": "#9aa5b1", "line-width": 0.8 } });
  }
  return style;
}
const BLANK_STYLE = document.body ? basemapStyle() : { version: 8, sources: {}, layers: [] };

function boundsOf(bbox) {
  return [[bbox[0], bbox[1]], [bbox[2], bbox[3]]];
}

function searchPage() {
  const el = document.getElementById("map");
  if (!el) return;
  const footprints = JSON.parse(el.dataset.footprints);
  const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, center: [2.5, 46.5], zoom: 4 });
  window.terrapoleMap = map;
  map.on("load", () => {
    map.addSource("footprints", { type: "geojson", data: footprints, promoteId: "id" });
    map.addLayer({ id: "fill", type: "fill", source: "footprints",
      paint: { "fill-color": "#2b6cb0", "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 0.5, 0.15] } });
    map.addLayer({ id: "line", type: "line", source: "footprints", paint: { "line-color": "#1a365d", "line-width": 1 } });
    const box = el.dataset.bbox ? el.dataset.bbox.split(",").map(Number) : null;
    if (box && box.length === 4) map.fitBounds(boundsOf(box), { duration: 0 });
    else if (footprints.features.length) {
      const all = footprints.features.map((f) => f.bbox);
      map.fitBounds(boundsOf([Math.min(...all.map((b) => b[0])), Math.min(...all.map((b) => b[1])),
        Math.max(...all.map((b) => b[2])), Math.max(...all.map((b) => b[3]))]), { padding: 30, duration: 0, maxZoom: 14 });
    }
    document.querySelectorAll(".card").forEach((card) => {
      card.addEventListener("mouseenter", () => { card.classList.add("hover"); map.setFeatureState({ source: "footprints", id: card.dataset.id }, { hover: true }); });
      card.addEventListener("mouseleave", () => { card.classList.remove("hover"); map.setFeatureState({ source: "footprints", id: card.dataset.id }, { hover: false }); });
    });
    map.on("click", "fill", (e) => {
      const f = e.features[0];
      window.location = `${document.querySelector(".brand").getAttribute("href")}collections/${f.properties.collection}/items/${f.properties.id}`;
    });
  });
  const use = document.getElementById("use-map-view");
  use.addEventListener("click", () => {
    const b = map.getBounds();
    document.getElementById("bbox").value = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
    document.getElementById("search-form").submit();
  });
  const clear = document.getElementById("clear-bbox");
  if (clear) clear.addEventListener("click", () => { document.getElementById("bbox").value = ""; document.getElementById("search-form").submit(); });
}

function rasterLayer(map, id, tiles, opacity, bounds) {
  if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(id)) map.removeSource(id);
  // bounds: no tile request outside the product (they would all be 404)
  map.addSource(id, { type: "raster", tiles: [tiles], tileSize: 256, ...(bounds ? { bounds } : {}) });
  map.addLayer({ id, type: "raster", source: id, paint: { "raster-opacity": opacity } });
}

function itemPage() {
  const el = document.getElementById("item-map");
  if (!el) return;
  const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, bounds: boundsOf(JSON.parse(el.dataset.bounds)), fitBoundsOptions: { padding: 20 } });
  window.terrapoleMap = map;
  const select = document.getElementById("preset");
  const draw = () => {
    const tiles = el.dataset.tiles.replace("PRESET", select.value);
    rasterLayer(map, "item", tiles, 1, JSON.parse(el.dataset.bounds));
    document.getElementById("xyz-url").textContent = new URL(tiles, window.location.href).href;
  };
  map.on("load", () => {
    map.addSource("footprint", { type: "geojson", data: JSON.parse(el.dataset.footprint) });
    draw();
    map.addLayer({ id: "outline", type: "line", source: "footprint", paint: { "line-color": "#e53e3e", "line-width": 2 } });
    map.fitBounds(boundsOf(footprintBox(JSON.parse(el.dataset.footprint), JSON.parse(el.dataset.bounds))), { padding: 20, duration: 0 });
    map.addSource("clicked", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "clicked", type: "circle", source: "clicked", paint: { "circle-radius": 6, "circle-color": "#ffd600", "circle-stroke-color": "#1a202c", "circle-stroke-width": 2 } });
  });
  select.addEventListener("change", () => { draw(); showLegend(select.value); });
  showLegend(select.value);
  const box = document.getElementById("series-box");
  if (box) {
    const preset = document.getElementById("series-preset");
    let last = null;
    const plot = () => { if (last) pixelSeries(box, map, last, preset.value); };
    map.on("click", (e) => { last = e.lngLat; plot(); });
    preset.addEventListener("change", plot);
  }
}

// The bbox of a GeoJSON geometry (the item's footprint), or `fallback`.
function footprintBox(geometry, fallback) {
  const flat = [];
  const walk = (c) => { if (typeof c[0] === "number") flat.push(c); else c.forEach(walk); };
  if (geometry && geometry.coordinates) walk(geometry.coordinates);
  if (!flat.length) return fallback;
  const xs = flat.map((c) => c[0]);
  const ys = flat.map((c) => c[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

function showLegend(name) {
  document.querySelectorAll("#legends .legend").forEach((fig) => { fig.hidden = fig.dataset.preset !== name; });
}

function apiToken() { return window.localStorage.getItem("terrapole-token") || ""; }

function authHeaders() { return apiToken() ? { Authorization: `Bearer ${apiToken()}` } : {}; }

// The values of a preset at a clicked point over the collection's items (uPlot; cloudy dates
// drawn apart, as red crosses).
async function pixelSeries(box, map, lngLat, preset) {
  const el = document.getElementById("series");
  const help = document.getElementById("series-help");
  map.getSource("clicked").setData({ type: "Point", coordinates: [lngLat.lng, lngLat.lat] });
  const url = `${box.dataset.url}?lon=${lngLat.lng.toFixed(6)}&lat=${lngLat.lat.toFixed(6)}&preset=${encodeURIComponent(preset)}`;
  const response = await fetch(url, { headers: authHeaders() });
  const body = await response.json();
  if (!response.ok) { help.textContent = body.description || body.detail || response.statusText; return; }
  const points = body.points;
  window.terrapoleSeries = body;
  help.textContent = `${lngLat.lng.toFixed(5)}, ${lngLat.lat.toFixed(5)} · ${points.length} ${el.dataset.dates} · ${points.filter((p) => p.cloudy).length} ${el.dataset.cloudy}`;
  const xs = points.map((p) => Date.parse(p.datetime) / 1000);
  const value = (p) => (p.value === null ? (Object.values(p.bands).length === 1 ? Object.values(p.bands)[0] : null) : p.value);
  // a cloudy date often has no value (the cloud is the pixel): mark it on the floor of the clear values
  const clear = points.filter((p) => !p.cloudy && value(p) !== null).map(value);
  const floor = clear.length ? Math.min(...clear) : 0;
  const data = [xs, points.map((p) => (p.cloudy ? null : value(p))), points.map((p) => (p.cloudy ? (value(p) ?? floor) : null))];
  el.innerHTML = "";
  window.terrapoleSeriesPlot = new uPlot({
    width: el.clientWidth || 560, height: 220,
    scales: { x: { time: true } },
    series: [{},
      { label: `${document.getElementById("series-preset").selectedOptions[0].textContent} (${el.dataset.clear})`, stroke: "#2b6cb0", width: 2, spanGaps: true, points: { show: true, size: 7, fill: "#2b6cb0" } },
      { label: el.dataset.cloudy, stroke: "#e53e3e", paths: () => null, points: { show: true, size: 9, fill: "#fff", stroke: "#e53e3e" } }],
  }, data, el);
}

// An acquisition timeline: one dot per product, its date across, its cloud cover upwards;
// the selected products in red. Products without a cloud cover are not drawn at 0 % (that
// would read as clear): they sit on their own line below 0 %, as hollow grey rings.
// `onPick(point)` on a click (default: open the item).
const NO_COVER_Y = -15;
function acquisitionTimeline(onPick) {
  const el = document.getElementById("timeline");
  if (!el) return;
  const points = JSON.parse(el.dataset.points);
  const selected = new Set(JSON.parse(el.dataset.selected));
  const y = (p) => (p.cloud === null ? NO_COVER_Y : p.cloud);
  window.terrapoleTimeline = { points, y };
  if (!points.length) return;
  const only = (keep) => points.map((p) => (keep(p) ? y(p) : null));
  const covered = (p) => p.cloud !== null;
  const data = [points.map((p) => p.t),
    only((p) => covered(p) && !selected.has(p.id)),
    only((p) => covered(p) && selected.has(p.id)),
    only((p) => !covered(p) && !selected.has(p.id)),
    only((p) => !covered(p) && selected.has(p.id))];
  const pick = onPick || ((p) => { window.location = `${el.dataset.root}collections/${p.collection}/items/${p.id}`; });
  const hollow = (stroke) => ({ show: true, size: 10, width: 2, fill: "#fff", stroke });
  const plot = new uPlot({
    width: el.clientWidth || 600, height: 160,
    // a margin each side: the first and last dots stay clickable, a lone one is centred
    scales: { x: { time: true, range: (u, min, max) => { const pad = Math.max((max - min) * 0.03, 15 * 86400); return [min - pad, max + pad]; } }, y: { range: [NO_COVER_Y - 8, 105] } },
    axes: [{}, { label: "%", size: 52, splits: () => [NO_COVER_Y, 0, 50, 100], values: (u, vals) => vals.map((v) => (v === NO_COVER_Y ? el.dataset.noCover : String(v))) }],
    legend: { show: false },
    series: [{},
      { stroke: "#2b6cb0", paths: () => null, points: { show: true, size: 8, fill: "#2b6cb0" } },
      { stroke: "#e53e3e", paths: () => null, points: { show: true, size: 11, fill: "#e53e3e" } },
      { stroke: "#718096", paths: () => null, points: hollow("#718096") },
      { stroke: "#e53e3e", paths: () => null, points: hollow("#e53e3e") }],
  }, data, el);
  plot.over.addEventListener("click", () => { const i = plot.cursor.idx; if (i !== null && i !== undefined) pick(points[i]); });
  window.terrapoleTimeline.plot = plot;
}

// On the compare page a timeline click replaces the left or right product.
function comparePicker() {
  const pick = document.getElementById("pick");
  if (!pick) { acquisitionTimeline(); return; }
  acquisitionTimeline((p) => {
    const side = pick.querySelector("input[name=side]:checked").value;
    const ref = `${p.collection}/${p.id}`;
    const a = side === "a" ? ref : pick.dataset.a;
    const b = side === "b" ? ref : pick.dataset.b;
    window.location = `${pick.dataset.root}compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}&preset=${encodeURIComponent(pick.dataset.preset)}`;
  });
}

function comparePage() {
  const el = document.getElementById("compare");
  if (!el || !el.dataset.left) return;
  const bounds = boundsOf(JSON.parse(el.dataset.bounds));
  const left = new maplibregl.Map({ container: "map-left", style: BLANK_STYLE, bounds, fitBoundsOptions: { padding: 20 } });
  // no background on the right map: with the opacity slider the left product shows through
  const right = new maplibregl.Map({ container: "map-right", style: { version: 8, sources: {}, layers: [] }, bounds, fitBoundsOptions: { padding: 20 } });
  window.terrapoleCompare = { left, right };
  left.on("load", () => rasterLayer(left, "left", el.dataset.left, 1, JSON.parse(el.dataset.leftBounds)));
  right.on("load", () => rasterLayer(right, "right", el.dataset.right, 1, JSON.parse(el.dataset.rightBounds)));
  let syncing = false;
  const sync = (from, to) => () => {
    if (syncing) return;
    syncing = true;
    to.jumpTo({ center: from.getCenter(), zoom: from.getZoom(), bearing: from.getBearing(), pitch: from.getPitch() });
    syncing = false;
  };
  left.on("move", sync(left, right));
  right.on("move", sync(right, left));
  const rightEl = document.getElementById("map-right");
  const line = document.getElementById("swipe-line");
  const swipe = document.getElementById("swipe");
  const applySwipe = () => {
    rightEl.style.clipPath = `inset(0 0 0 ${swipe.value}%)`;
    line.style.left = `${swipe.value}%`;
  };
  swipe.addEventListener("input", applySwipe);
  applySwipe();
  document.getElementById("opacity").addEventListener("input", (e) => {
    if (right.getLayer("right")) right.setPaintProperty("right", "raster-opacity", Number(e.target.value) / 100);
  });
}

window.addEventListener("DOMContentLoaded", () => { searchPage(); itemPage(); comparePage(); comparePicker(); });
