// Observatory pages: the stations map (MapLibre, clustered GeoJSON), a station's chart (uPlot:
// several series on a left and a right axis, rain as bars; a drag zooms and reads the series
// again, decimated by the server for the chart's width) and the CSV links of the shown period.
// BLANK_STYLE (the basemap) comes from portal.js.

(function () {
  const data = (el, key) => JSON.parse(el.dataset[key] || "null");
  const iso = (seconds) => new Date(seconds * 1000).toISOString();
  const day = (seconds) => iso(seconds).slice(0, 10);
  const COLOURS = ["#2b6cb0", "#319795", "#c05621", "#805ad5", "#b7791f", "#c53030"];

  // -- the stations map ----------------------------------------------------------------------
  function countLabels(map) {
    // cluster counts as HTML markers: the offline basemap has no glyphs for a symbol layer
    const shown = new Map();
    const refresh = () => {
      const seen = new Set();
      for (const f of map.querySourceFeatures("stations")) {
        if (!f.properties.cluster) continue;
        const id = f.properties.cluster_id;
        seen.add(id);
        if (shown.has(id)) continue;
        const el = document.createElement("div");
        el.className = "cluster-count";
        el.textContent = f.properties.point_count_abbreviated;
        shown.set(id, new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map));
      }
      for (const [id, marker] of shown) if (!seen.has(id)) { marker.remove(); shown.delete(id); }
    };
    map.on("render", () => { if (map.isSourceLoaded("stations")) refresh(); });
  }

  function fit(map, features) {
    const points = features.filter((f) => f.geometry).map((f) => f.geometry.coordinates);
    if (!points.length) return;
    const bounds = points.reduce((b, p) => b.extend(p), new maplibregl.LngLatBounds(points[0], points[0]));
    map.fitBounds(bounds, { padding: 60, maxZoom: 9, duration: 0 });
  }

  function stationsMap() {
    const el = document.getElementById("insitu-map");
    if (!el || typeof maplibregl === "undefined") return;
    const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, center: [0, 30], zoom: 1.2 });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    window.terrapoleInsituMap = map;
    const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 10 });
    map.on("load", async () => {
      const collection = await (await fetch(el.dataset.geojson)).json();
      map.addSource("stations", { type: "geojson", data: collection, cluster: true, clusterRadius: 36, clusterMaxZoom: 11 });
      map.addLayer({ id: "clusters", type: "circle", source: "stations", filter: ["has", "point_count"],
        paint: { "circle-color": "#2b6cb0", "circle-opacity": 0.9, "circle-stroke-color": "#fff", "circle-stroke-width": 2,
          "circle-radius": ["step", ["get", "point_count"], 14, 10, 18, 100, 24] } });
      map.addLayer({ id: "stations", type: "circle", source: "stations", filter: ["!", ["has", "point_count"]],
        paint: { "circle-color": "#dd6b20", "circle-radius": 7, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
      countLabels(map);
      if (!document.getElementById("insitu-bbox")?.value) fit(map, collection.features);
      else {
        const [w, s, e, n] = document.getElementById("insitu-bbox").value.split(",").map(Number);
        map.fitBounds([[w, s], [e, n]], { duration: 0 });
      }
      el.dataset.ready = "true";
    });
    map.on("click", "stations", (e) => { window.location.href = el.dataset.station + e.features[0].properties.id; });
    map.on("click", "clusters", async (e) => {
      const f = e.features[0];
      const zoom = await map.getSource("stations").getClusterExpansionZoom(f.properties.cluster_id);
      map.easeTo({ center: f.geometry.coordinates, zoom });
    });
    for (const layer of ["stations", "clusters"]) {
      map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; popup.remove(); });
    }
    map.on("mousemove", "stations", (e) => {
      const p = e.features[0].properties;
      popup.setLngLat(e.features[0].geometry.coordinates).setText(p.identifier ? `${p.name} (${p.identifier})` : p.name).addTo(map);
    });
    const form = document.getElementById("insitu-filters");
    if (form) {
      form.addEventListener("submit", () => {
        const b = map.getBounds();
        const inView = document.getElementById("insitu-in-view").checked;
        document.getElementById("insitu-bbox").value = inView
          ? [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(4)).join(",") : "";
      });
    }
  }

  function pointMap() {
    const el = document.getElementById("station-map");
    if (!el || !el.dataset.point || typeof maplibregl === "undefined") return;
    const point = data(el, "point");
    const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, center: point, zoom: 6 });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    new maplibregl.Marker({ color: "#dd6b20" }).setLngLat(point).addTo(map);
  }

  // -- a station's chart --------------------------------------------------------------------
  function stationChart() {
    const el = document.getElementById("station-chart");
    if (!el || typeof uPlot === "undefined") return;
    const all = data(el, "series");
    const words = data(el, "strings");
    const status = document.getElementById("chart-status");
    const startInput = document.getElementById("period-start");
    const endInput = document.getElementById("period-end");
    let plot = null;
    let whole = null; // [start, end] of every series, seconds: what "Whole period" shows
    let shownPeriod = null;
    let request = 0;

    const chosen = () => all.filter((s) => document.querySelector(`.plot-toggle[value="${s.id}"]`)?.checked);

    function csvLinks(period) {
      for (const a of document.querySelectorAll(".csv-link")) {
        const url = new URL(`${el.dataset.api}/${a.dataset.id}/csv`, window.location.href);
        if (period) { url.searchParams.set("start", iso(period[0])); url.searchParams.set("end", iso(period[1])); }
        a.href = url.href;
      }
    }

    function options(series, width) {
      const units = { left: [], right: [] };
      for (const s of series) {
        const unit = s.unit.symbol || s.unit.name;
        if (!units[s.axis].includes(unit)) units[s.axis].push(unit);
      }
      const barsOnly = series.filter((s) => s.axis === "right").every((s) => s.bars);
      return {
        width, height: 360,
        cursor: { drag: { x: true, y: false, setScale: false } },
        scales: { x: { time: true }, left: {}, right: barsOnly ? { range: (u, min, max) => [0, Math.max(1, max) * 1.15] } : {} },
        axes: [
          { stroke: "#4a5568", grid: { stroke: "#edf2f7" } },
          { scale: "left", label: units.left.join(", "), stroke: "#4a5568", grid: { stroke: "#edf2f7" }, size: 60 },
          ...(units.right.length ? [{ scale: "right", side: 1, label: units.right.join(", "), stroke: "#4a5568", grid: { show: false }, size: 60 }] : []),
        ],
        series: [{}, ...series.map((s) => {
          const colour = COLOURS[all.indexOf(s) % COLOURS.length];
          const unit = s.unit.symbol || s.unit.name;
          return s.bars
            ? { label: `${s.property} (${unit})`, scale: s.axis, stroke: colour, fill: colour + "99", width: 0,
                paths: uPlot.paths.bars({ size: [0.8, 12], align: 0 }), points: { show: false } }
            : { label: `${s.property} (${unit})`, scale: s.axis, stroke: colour, width: 1.5, spanGaps: true, points: { show: false } };
        })],
        hooks: {
          setSelect: [(u) => {
            if (u.select.width < 3) return;
            const lo = u.posToVal(u.select.left, "x");
            const hi = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            load([lo, hi]);
          }],
        },
      };
    }

    async function load(period) {
      const series = chosen();
      const mine = ++request;
      status.textContent = words.loading;
      const width = Math.max(300, Math.floor(el.clientWidth));
      const pixels = Math.min(4000, width - 130); // the plotting area, between the two axes
      const bodies = await Promise.all(series.map(async (s) => {
        const url = new URL(`${el.dataset.api}/${s.id}/series`, window.location.href);
        url.searchParams.set("width", pixels);
        if (period) { url.searchParams.set("start", iso(period[0])); url.searchParams.set("end", iso(period[1])); }
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
        return response.json();
      }));
      if (mine !== request) return; // a newer zoom was asked meanwhile
      if (!period && bodies.length) {
        // + 1 ms: the exclusive end (last observation + 1 µs) is cut to milliseconds by Date
        whole = [Math.min(...bodies.map((b) => Date.parse(b.start) / 1000)), Math.max(...bodies.map((b) => Date.parse(b.end) / 1000 + 0.001))];
      }
      shownPeriod = period || whole;
      draw(series, bodies, width);
      if (shownPeriod) {
        startInput.value = day(shownPeriod[0]);
        endInput.value = day(shownPeriod[1] - 0.001);
      }
      csvLinks(shownPeriod);
      const count = bodies.reduce((n, b) => n + b.count, 0);
      const decimated = bodies.some((b) => b.decimated);
      status.textContent = count ? `${count} ${words.points} · ${decimated ? words.decimated : words.raw}` : words.no_data;
      el.dataset.points = String(count);
      el.dataset.decimated = String(decimated);
      el.dataset.period = shownPeriod ? `${iso(shownPeriod[0])}/${iso(shownPeriod[1])}` : "";
    }

    function draw(series, bodies, width) {
      if (plot) { plot.destroy(); plot = null; }
      if (!series.length) return;
      const joined = uPlot.join(bodies.map((b) => [b.t, b.v]));
      plot = new uPlot(options(series, width), joined, el);
      if (shownPeriod) plot.setScale("x", { min: shownPeriod[0], max: shownPeriod[1] });
      plot.over.addEventListener("dblclick", () => load(null));
      window.terrapoleInsituChart = plot;
    }

    document.getElementById("period-picker").addEventListener("submit", (e) => {
      e.preventDefault();
      if (!startInput.value || !endInput.value) return;
      const lo = Date.parse(`${startInput.value}T00:00:00Z`) / 1000;
      const hi = Date.parse(`${endInput.value}T00:00:00Z`) / 1000 + 86400; // the end day included
      if (hi > lo) load([lo, hi]);
    });
    for (const button of document.querySelectorAll("#period-picker [data-span]")) {
      button.addEventListener("click", () => {
        const span = button.dataset.span;
        if (span === "all" || !whole) { load(null); return; }
        load([Math.max(whole[0], whole[1] - Number(span) * 86400), whole[1]]);
      });
    }
    for (const box of document.querySelectorAll(".plot-toggle")) box.addEventListener("change", () => load(shownPeriod === whole ? null : shownPeriod));
    load(null).catch((err) => { status.textContent = String(err); });
  }

  window.addEventListener("DOMContentLoaded", () => { stationsMap(); pointMap(); stationChart(); });
})();
