// Order pages: draw the AOI of a new order on the map (click its corners, double-click to close;
// or paste GeoJSON), and show an order's AOI. BLANK_STYLE (the basemap) comes from portal.js.

function aoiBounds(geometry) {
  const points = [];
  const walk = (c) => { if (typeof c[0] === "number") points.push(c); else c.forEach(walk); };
  walk(geometry.coordinates);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]];
}

function aoiLayers(map, data) {
  map.addSource("aoi", { type: "geojson", data: data || { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "aoi-fill", type: "fill", source: "aoi", paint: { "fill-color": "#dd6b20", "fill-opacity": 0.3 } });
  map.addLayer({ id: "aoi-line", type: "line", source: "aoi", paint: { "line-color": "#dd6b20", "line-width": 2 } });
}

function newOrderPage(form) {
  const text = document.getElementById("aoi");
  const kind = document.getElementById("order-kind");
  const toggle = () => form.querySelectorAll("fieldset[data-for]").forEach((f) => { f.hidden = f.dataset.for !== kind.value; });
  kind.addEventListener("change", toggle);
  toggle();
  const map = new maplibregl.Map({ container: "aoi-map", style: BLANK_STYLE, center: [2.5, 46.5], zoom: 4, doubleClickZoom: false });
  window.terrapoleAoiMap = map;
  let points = [];
  const show = (geojson) => { const source = map.getSource("aoi"); if (source) source.setData(geojson); };
  map.on("load", () => {
    aoiLayers(map);
    try { if (text.value.trim()) { const g = JSON.parse(text.value); show(g); map.fitBounds(aoiBounds(g), { padding: 40, maxZoom: 12, duration: 0 }); } } catch (err) { /* the server says what is wrong */ }
  });
  map.on("click", (e) => { points.push([e.lngLat.lng, e.lngLat.lat]); show({ type: "LineString", coordinates: points }); });
  map.on("dblclick", (e) => {
    e.preventDefault();
    if (points.length >= 3) {
      const polygon = { type: "Polygon", coordinates: [[...points, points[0]]] };
      text.value = JSON.stringify(polygon);
      show(polygon);
    }
    points = [];
  });
  text.addEventListener("change", () => { try { show(JSON.parse(text.value)); } catch (err) { /* idem */ } });
}

function orderPage(el) {
  const aoi = JSON.parse(el.dataset.aoi || "null");
  const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, center: [2.5, 46.5], zoom: 4 });
  window.terrapoleOrderMap = map;
  map.on("load", () => {
    aoiLayers(map, aoi);
    if (aoi) map.fitBounds(aoiBounds(aoi), { padding: 40, maxZoom: 12, duration: 0 });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("order-form");
  if (form) newOrderPage(form);
  const shown = document.getElementById("order-map");
  if (shown) orderPage(shown);
});
