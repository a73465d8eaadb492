// EO beside in-situ: a catalogued raster's series at the station (GET .../eo-series) drawn as
// points on the right axis over one of the station's in-situ series (line, left axis), with
// each EO date listed and linked to its item page; a click on an EO point opens that page.
(function () {
  "use strict";

  function sec(text) { return Date.parse(text) / 1000; }

  async function json(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    return response.json();
  }

  function datesList(list, points) {
    list.replaceChildren(...points.map((p) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = p.href;
      a.textContent = p.datetime.slice(0, 10);
      li.append(a, ` ${p.value === null ? "–" : p.value.toFixed(3)}${p.cloudy ? " (cloudy)" : ""}`);
      return li;
    }));
  }

  // both series on one time axis: uPlot wants one sorted x array with nulls where a series
  // has no value
  function joined(eo, insitu) {
    const eoT = eo.map((p) => sec(p.datetime));
    const eoV = eo.map((p) => (p.cloudy ? null : p.value));
    if (!insitu) return [eoT, eoV];
    return uPlot.join([[insitu.t, insitu.v], [eoT, eoV]]);
  }

  function init() {
    const el = document.getElementById("insitu-eo-chart");
    const form = document.getElementById("insitu-eo-form");
    if (!el || !form || typeof uPlot === "undefined") return;
    const status = document.getElementById("insitu-eo-status");
    const list = document.getElementById("insitu-eo-dates");
    let plot = null;

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const collection = form.elements.collection.value.trim();
      const preset = form.elements.preset.value;
      const stream = form.elements.datastream ? form.elements.datastream.value : "";
      const url = new URL(el.dataset.api, window.location.href);
      url.searchParams.set("collection", collection);
      url.searchParams.set("preset", preset);
      status.textContent = "…";
      try {
        const eo = await json(url);
        let insitu = null;
        if (stream && eo.points.length) {
          const s = new URL(`${el.dataset.seriesApi}/${stream}/series`, window.location.href);
          s.searchParams.set("start", eo.points[0].datetime);
          s.searchParams.set("end", eo.points[eo.points.length - 1].datetime);
          s.searchParams.set("width", "800");
          insitu = await json(s);
        }
        if (plot) { plot.destroy(); plot = null; }
        const inSitu = insitu ? [{ label: form.elements.datastream.selectedOptions[0].textContent, scale: "left", stroke: "#2b6cb0", width: 1.5, spanGaps: true, points: { show: false } }] : [];
        const width = Math.max(300, el.clientWidth - 20);
        plot = new uPlot({
          width, height: 320, scales: { x: { time: true } },
          axes: [{}, ...(insitu ? [{ scale: "left" }] : []), { scale: "eo", side: 1, grid: { show: false } }],
          series: [{}, ...inSitu, { label: `${preset} (${collection})`, scale: "eo", stroke: "#2f855a", width: 0, points: { show: true, size: 7, fill: "#2f855a" } }],
        }, joined(eo.points, insitu), el);
        plot.over.addEventListener("click", () => {
          const idx = plot.cursor.idx;
          if (idx === null || idx === undefined) return;
          const t = plot.data[0][idx];
          const hit = eo.points.find((p) => sec(p.datetime) === t);
          if (hit) window.location.href = hit.href;
        });
        datesList(list, eo.points);
        status.textContent = `${eo.points.length} dates${eo.truncated ? " (newest kept)" : ""}`;
        el.dataset.dates = String(eo.points.length);
      } catch (err) {
        status.textContent = String(err.message || err);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
