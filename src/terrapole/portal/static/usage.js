// Usage statistics page (admins): reads /admin/usage with the API token, draws one line per kind
// (count per day) with uPlot, lists the aggregates and exports them as CSV.

(function () {
  const form = document.getElementById("usage-form");
  if (!form) return;
  const COLUMNS = ["count", "users", "success_rate", "files", "bytes", "km2", "cpu_s"];
  const COLOURS = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030"];
  let plot = null;

  const query = () => {
    const params = new URLSearchParams();
    for (const name of ["start", "end", "by"]) {
      const value = form.elements[name].value;
      if (value) params.set(name, value);
    }
    return params.toString();
  };

  const cell = (value) => (value === null || value === undefined ? "—" : String(value));

  function table(body) {
    const dims = body.by;
    const head = document.querySelector("#usage-table thead");
    head.innerHTML = "<tr>" + [...dims, ...COLUMNS].map((c) => `<th>${c}</th>`).join("") + "</tr>";
    const rows = document.querySelector("#usage-table tbody");
    rows.innerHTML = body.rows.map((r) =>
      "<tr>" + [...dims, ...COLUMNS].map((c) => `<td>${cell(r[c])}</td>`).join("") + "</tr>").join("");
  }

  function chart(body) {
    const target = document.getElementById("usage-plot");
    if (plot) { plot.destroy(); plot = null; }
    target.textContent = "";
    if (!body.by.includes("day") || typeof uPlot === "undefined") return;
    const days = [...new Set(body.rows.map((r) => r.day))].sort();
    const kinds = [...new Set(body.rows.map((r) => r.kind))].sort();
    const index = new Map(days.map((d, n) => [d, n]));
    const series = kinds.map(() => days.map(() => 0));
    for (const r of body.rows) series[kinds.indexOf(r.kind)][index.get(r.day)] += r.count;
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    plot = new uPlot({
      width: Math.min(900, target.clientWidth || 900), height: 280,
      series: [{}, ...kinds.map((k, n) => ({ label: k, stroke: COLOURS[n % COLOURS.length], width: 2 }))],
      axes: [{}, { label: "count" }],
    }, [xs, ...series], target);
  }

  async function load(event) {
    if (event) event.preventDefault();
    const error = document.getElementById("usage-error");
    error.textContent = "";
    const response = await authFetch(`${form.dataset.api}?${query()}`);
    if (!response.ok) { error.textContent = await problem(response); return; }
    const body = await response.json();
    table(body);
    chart(body);
  }

  async function csv() {
    const response = await authFetch(`${form.dataset.api}.csv?${query()}`);
    if (!response.ok) { document.getElementById("usage-error").textContent = await problem(response); return; }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = "usage.csv";
    link.click();
    URL.revokeObjectURL(link.href);
  }

  form.addEventListener("submit", load);
  document.getElementById("usage-csv").addEventListener("click", csv);
  document.getElementById("token").addEventListener("change", () => load());
  window.addEventListener("DOMContentLoaded", () => load());
})();
