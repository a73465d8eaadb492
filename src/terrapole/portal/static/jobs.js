// On-demand processing pages: the API token, a service's form, my jobs (live), statistics.
// Everything goes through /ogcapi with the token the user gives once (browser storage only).

const TOKEN_KEY = "terrapole-token";

function token() { return window.localStorage.getItem(TOKEN_KEY) || ""; }

function authFetch(url, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = `Bearer ${token()}`;
  return fetch(url, Object.assign({}, options, { headers }));
}

async function problem(response) {
  try { const body = await response.json(); return body.description || body.title || response.statusText; }
  catch (e) { return response.statusText; }
}

function tokenBox() {
  const input = document.getElementById("token");
  if (!input) return;
  const state = document.getElementById("token-state");
  const show = () => { state.textContent = token() ? "✔" : "—"; };
  input.value = token();
  if (!token()) document.getElementById("token-box").open = true;
  input.addEventListener("change", () => { window.localStorage.setItem(TOKEN_KEY, input.value.trim()); show(); });
  show();
}

function zoneMap(fieldset) {
  const el = fieldset.querySelector("#zone-map");
  const text = fieldset.querySelector("textarea.value");
  const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, center: [2.5, 46.5], zoom: 4, doubleClickZoom: false });
  window.terrapoleZoneMap = map;
  let points = [];
  const show = (geojson) => {
    const source = map.getSource("zone");
    if (source) source.setData(geojson);
  };
  const polygon = () => ({ type: "Polygon", coordinates: [[...points, points[0]]] });
  map.on("load", async () => {
    map.addSource("zone", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "zone-fill", type: "fill", source: "zone", paint: { "fill-color": "#dd6b20", "fill-opacity": 0.3 } });
    map.addLayer({ id: "zone-line", type: "line", source: "zone", paint: { "line-color": "#dd6b20", "line-width": 2 } });
    // the catalogue's products, to see where data is
    const found = await fetch(`${document.getElementById("service-form").dataset.api.replace(/ogcapi$/, "")}stac/search?limit=200`).then((r) => r.json()).catch(() => null);
    if (found && found.features && found.features.length) {
      map.addSource("products", { type: "geojson", data: found });
      map.addLayer({ id: "products", type: "line", source: "products", paint: { "line-color": "#2b6cb0", "line-width": 1 } });
      const b = found.features.map((f) => f.bbox).filter(Boolean);
      if (b.length) map.fitBounds([[Math.min(...b.map((x) => x[0])), Math.min(...b.map((x) => x[1]))], [Math.max(...b.map((x) => x[2])), Math.max(...b.map((x) => x[3]))]], { padding: 40, maxZoom: 14 });
    }
  });
  map.on("click", (e) => {
    points.push([e.lngLat.lng, e.lngLat.lat]);
    show({ type: "LineString", coordinates: points });
  });
  map.on("dblclick", (e) => {
    e.preventDefault();
    if (points.length >= 3) {
      text.value = JSON.stringify(polygon());
      show(polygon());
    }
    points = [];
  });
  fieldset.querySelector(".zone-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    text.value = await file.text();
    try { show(JSON.parse(text.value)); } catch (err) { /* the API says what is wrong */ }
  });
}

function readInputs(form) {
  const inputs = {};
  for (const fieldset of form.querySelectorAll("fieldset.param")) {
    const name = fieldset.dataset.name;
    const widget = fieldset.dataset.widget;
    const el = fieldset.querySelector(".value");
    let value;
    if (widget === "boolean") value = el.checked;
    else if (widget === "enum") value = JSON.parse(el.value);
    else if (widget === "number") value = el.value === "" ? undefined : Number(el.value);
    else if (widget === "json" || widget === "zone") value = el.value.trim() === "" ? undefined : JSON.parse(el.value);
    else value = el.value === "" ? undefined : el.value;
    if (value !== undefined) inputs[name] = value;
  }
  return inputs;
}

function servicePage() {
  const form = document.getElementById("service-form");
  if (!form) return;
  const api = form.dataset.api;
  const quote = document.getElementById("quote");
  for (const tab of form.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      form.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
      const expert = tab.dataset.tab === "expert";
      form.querySelectorAll("fieldset.expert").forEach((f) => { f.hidden = !expert; });
    });
  }
  const zone = form.querySelector('fieldset[data-widget="zone"]');
  if (zone) zoneMap(zone);
  for (const input of form.querySelectorAll(".text-file")) {
    input.addEventListener("change", async (e) => {
      if (e.target.files[0]) e.target.parentElement.querySelector(".value").value = await e.target.files[0].text();
    });
  }
  const send = async (path) => {
    let inputs;
    try { inputs = readInputs(form); } catch (err) { quote.textContent = `JSON: ${err.message}`; return null; }
    return authFetch(`${api}/processes/${form.dataset.process}/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ inputs }),
    });
  };
  document.getElementById("estimate").addEventListener("click", async () => {
    const response = await send("quote");
    if (!response) return;
    if (!response.ok) { quote.textContent = await problem(response); quote.className = "quote error"; return; }
    const body = await response.json();
    const left = body.credit ? ` — ${body.credit.left_cpu_s.toFixed(0)} CPU·s left of ${body.credit.credit_cpu_s.toFixed(0)}` : "";
    quote.textContent = `≈ ${body.estimate_cpu_s.toFixed(1)} CPU·s${left}`;
    quote.className = body.credit && body.estimate_cpu_s > body.credit.left_cpu_s ? "quote error" : "quote";
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const response = await send("execution");
    if (!response) return;
    if (!response.ok) { quote.textContent = await problem(response); quote.className = "quote error"; return; }
    const job = await response.json();
    window.location.href = `${api.replace(/ogcapi$/, "")}jobs#${job.jobID}`;
  });
}

function progressBar(percent) {
  return `<div class="bar"><span style="width:${Math.max(0, Math.min(100, percent))}%"></span></div> ${percent}%`;
}

let rendering = 0;  // the latest showJob call; an older one stops at its next await

async function showJob(api, job) {
  const mine = ++rendering;
  const section = document.getElementById("job-detail");
  section.hidden = false;
  section.dataset.shown = `${job.jobID}:${job.status}`;
  document.getElementById("job-title").textContent = `${job.processID} · ${job.jobID.slice(0, 12)} · ${job.status}`;
  const logs = await authFetch(`${api}/jobs/${job.jobID}/logs`).then((r) => r.json());
  if (mine !== rendering) return;
  document.getElementById("job-logs").textContent = logs.lines.map((l) => `${l.time} ${l.level} ${l.message}`).join("\n");
  const results = document.createElement("div");
  results.id = "job-results";
  document.getElementById("job-results").replaceWith(results);
  if (job.status !== "successful") return;
  const links = await authFetch(`${api}/jobs/${job.jobID}/results`).then((r) => r.json());
  if (mine !== rendering) return;
  for (const [key, link] of Object.entries(links)) {
    const a = document.createElement("a");
    a.textContent = key;
    a.href = "#";
    a.className = "button result-link";
    a.addEventListener("click", async (e) => {
      e.preventDefault();
      const blob = await authFetch(link.href).then((r) => r.blob());
      const url = URL.createObjectURL(blob);
      const save = document.createElement("a");
      save.href = url; save.download = link.href.split("/").pop(); save.click();
    });
    results.appendChild(a);
  }
  if (links.zones) {  // vector results: drawn on a map
    const zones = await authFetch(links.zones.href).then((r) => r.json());
    const el = document.createElement("div");
    el.className = "map result-map";
    results.appendChild(el);
    const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, center: [2.5, 46.5], zoom: 4 });
    map.on("load", () => {
      map.addSource("result", { type: "geojson", data: zones });
      map.addLayer({ id: "result", type: "fill", source: "result", paint: { "fill-color": "#38a169", "fill-opacity": 0.4 } });
      map.addLayer({ id: "result-line", type: "line", source: "result", paint: { "line-color": "#276749", "line-width": 2 } });
      const coords = zones.features.flatMap((f) => f.geometry.coordinates.flat(2)).filter((c) => Array.isArray(c));
      const xs = coords.map((c) => c[0]), ys = coords.map((c) => c[1]);
      if (xs.length) map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 40, maxZoom: 16 });
    });
  }
  const preview = links.plot || links.thumbnail || links.quicklook;
  if (preview) {
    const img = document.createElement("img");
    img.className = "preview";
    img.src = URL.createObjectURL(await authFetch(preview.href).then((r) => r.blob()));
    results.appendChild(img);
  }
}

function jobsPage() {
  const table = document.getElementById("jobs-table");
  if (!table) return;
  const api = table.dataset.api;
  const body = table.querySelector("tbody");
  const credit = document.getElementById("credit");
  let shown = window.location.hash.slice(1);
  const refresh = async () => {
    if (!token()) { body.innerHTML = ""; return; }
    const [jobs, account] = await Promise.all([
      authFetch(`${api}/jobs?limit=100`).then((r) => r.json()),
      authFetch(`${api}/credits`).then((r) => (r.ok ? r.json() : null)),
    ]);
    if (account) {
      const used = account.used_cpu_s + account.reserved_cpu_s;
      credit.innerHTML = `<strong>${account.used_cpu_s.toFixed(2)}</strong> CPU·s used of ${account.credit_cpu_s.toFixed(0)}` +
        ` (${account.reserved_cpu_s.toFixed(1)} reserved by jobs in progress) ${progressBar(Math.round((100 * used) / account.credit_cpu_s))}`;
    }
    body.innerHTML = "";
    for (const job of jobs.jobs) {
      const row = document.createElement("tr");
      row.className = `job ${job.status}`;
      row.innerHTML = `<td>${job.processID}<div class="meta">${job.jobID.slice(0, 12)} · ${job.created.slice(0, 19).replace("T", " ")}</div></td>` +
        `<td>${job.status}${job.crashed ? " (crashed)" : ""}<div class="meta">${job.status === "failed" ? job.message : ""}</div></td>` +
        `<td>${job.stage || ""}</td><td>${progressBar(job.progress)}</td>` +
        `<td>${job.cpu_s.toFixed(2)} <span class="meta">/ ≈${job.estimate_cpu_s.toFixed(1)}</span></td>` +
        `<td>${job.expires ? job.expires.slice(0, 10) : ""}${job.purged ? " (purged)" : ""}</td><td></td>`;
      const actions = row.lastElementChild;
      if (job.status === "accepted" || job.status === "running") {
        const cancel = document.createElement("button");
        cancel.textContent = "✕";
        cancel.title = "cancel";
        cancel.addEventListener("click", async (e) => { e.stopPropagation(); await authFetch(`${api}/jobs/${job.jobID}`, { method: "DELETE" }); refresh(); });
        actions.appendChild(cancel);
      }
      row.addEventListener("click", () => {
        shown = job.jobID;
        // already shown in this state (by the refresh that follows the job): nothing to redo
        if (document.getElementById("job-detail").dataset.shown !== `${job.jobID}:${job.status}`) showJob(api, job);
      });
      body.appendChild(row);
      if (shown === job.jobID && document.getElementById("job-detail").dataset.shown !== `${job.jobID}:${job.status}`) {
        showJob(api, job);  // a new state of the job followed: show its logs and results again
      }
    }
  };
  document.getElementById("token").addEventListener("change", refresh);
  refresh();
  window.setInterval(refresh, 2000);
}

function statisticsPage() {
  const table = document.getElementById("stats-table");
  if (!table) return;
  const load = async () => {
    const response = await authFetch(`${table.dataset.api}/statistics`);
    const body = table.querySelector("tbody");
    if (!response.ok) { body.innerHTML = `<tr><td colspan="5">${await problem(response)}</td></tr>`; return; }
    const stats = (await response.json()).processes;
    body.innerHTML = stats.map((s) => `<tr><td>${s.process}</td><td>${s.jobs}</td><td>${s.users}</td>` +
      `<td>${s.success_rate === null ? "—" : `${(100 * s.success_rate).toFixed(0)} %`}</td><td>${s.cpu_s.toFixed(2)}</td></tr>`).join("");
    const canvas = document.getElementById("stats-chart");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const most = Math.max(1, ...stats.map((s) => s.cpu_s));
    const bar = Math.min(60, (canvas.width - 40) / Math.max(1, stats.length) - 10);
    stats.forEach((s, n) => {
      const h = ((canvas.height - 50) * s.cpu_s) / most;
      const x = 30 + n * (bar + 10);
      ctx.fillStyle = "#2b6cb0";
      ctx.fillRect(x, canvas.height - 30 - h, bar, h);
      ctx.fillStyle = "#1a202c";
      ctx.font = "11px system-ui";
      ctx.fillText(s.process.slice(0, 14), x, canvas.height - 15);
      ctx.fillText(`${s.cpu_s.toFixed(0)} CPU·s`, x, canvas.height - 35 - h);
    });
  };
  document.getElementById("token").addEventListener("change", load);
  load();
}

window.addEventListener("DOMContentLoaded", () => { tokenBox(); servicePage(); jobsPage(); statisticsPage(); });
