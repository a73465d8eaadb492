// terrapole portal: maps on the search, item and compare pages (MapLibre GL JS, vendored).
"use strict";

const BLANK_STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#eef1f4" } }],
};

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
  });
  select.addEventListener("change", draw);
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

window.addEventListener("DOMContentLoaded", () => { searchPage(); itemPage(); comparePage(); });
