// terrapole portal: the FAIRisation editor. Inputs are named by DataCite JSON paths; as one
// types, the form is posted to /records/check and each problem shown beside the input its
// path names, the FAIR checklist redrawn; rows are added and removed (indices renumbered);
// keywords and INSPIRE themes are picked from the thesauri (/thesauri/search); the box is
// drawn on a MapLibre map. BLANK_STYLE (the basemap) comes from portal.js.
"use strict";

function escapeRe(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

// -- live checks ------------------------------------------------------------------------------
function problemSpot(form, field) {
  let path = field;
  while (path) {
    const spot = form.parentElement.querySelector(`.problem[data-for="${CSS.escape(path)}"]`);
    if (spot) return spot;
    const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
    path = cut > 0 ? path.slice(0, cut) : "";
  }
  return null;
}

function showCheck(form, answer) {
  const root = form.parentElement;
  root.querySelectorAll(".problem").forEach((s) => { s.textContent = ""; });
  root.querySelectorAll(".has-problem").forEach((e) => e.classList.remove("has-problem"));
  const list = document.getElementById("problems");
  list.innerHTML = "";
  answer.problems.forEach((p) => {
    const spot = problemSpot(form, p.field);
    if (spot) spot.textContent = spot.textContent ? `${spot.textContent}; ${p.message}` : p.message;
    const input = form.querySelector(`[name="${CSS.escape(p.field)}"]`);
    if (input) input.classList.add("has-problem");
    const item = document.createElement("li");
    item.dataset.field = p.field;
    const code = document.createElement("code");
    code.textContent = p.field;
    item.append(code, ` ${p.message}`);
    list.appendChild(item);
  });
  document.getElementById("problem-count").textContent = String(answer.problems.length);
  document.getElementById("no-problem").hidden = answer.problems.length > 0;
  answer.checklist.forEach((principle) => {
    const item = document.querySelector(`#fair-checklist li[data-code="${CSS.escape(principle.code)}"]`);
    if (!item) return;
    item.className = principle.met ? "met" : "missing";
    item.querySelector(".missing-text").textContent = principle.missing;
  });
  document.getElementById("fair-score").textContent = String(answer.met);
  document.getElementById("fair-bar").style.width = `${Math.round((100 * answer.met) / answer.total)}%`;
}

function liveChecks(form) {
  let timer = null;
  let asked = 0;
  const check = async () => {
    const ticket = ++asked;
    const body = new URLSearchParams(new FormData(form));
    body.delete("csrf_token");
    const answer = await fetch(`${form.dataset.root}records/check`, { method: "POST", body }).then((r) => (r.ok ? r.json() : null)).catch(() => null);
    if (answer && ticket === asked) showCheck(form, answer);  // an older answer is dropped
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(check, 300); };
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("rows-changed", soon);
  check();
}

// -- rows -------------------------------------------------------------------------------------
// Renames every input of the form under `list[from]` to `list[to]` (or drops it: to = null).
function renumber(form, list, from, to) {
  const head = new RegExp(`^${escapeRe(list)}\\[${from}\\](?=$|[.[])`);
  form.querySelectorAll("[name]").forEach((input) => {
    if (!head.test(input.name)) return;
    if (to === null) input.remove();
    else input.name = input.name.replace(head, `${list}[${to}]`);
  });
  form.parentElement.querySelectorAll(".problem[data-for]").forEach((spot) => {
    if (head.test(spot.dataset.for) && to !== null) spot.dataset.for = spot.dataset.for.replace(head, `${list}[${to}]`);
  });
}

function rowIndex(row, list) {
  const named = row.querySelector("[name]");
  const found = named && named.name.match(new RegExp(`^${escapeRe(list)}\\[(\\d+)\\]`));
  return found ? Number(found[1]) : -1;
}

function countOf(form, list) {
  let count = 0;
  const head = new RegExp(`^${escapeRe(list)}\\[(\\d+)\\]`);
  form.querySelectorAll("[name]").forEach((input) => {
    const found = input.name.match(head);
    if (found) count = Math.max(count, Number(found[1]) + 1);
  });
  return count;
}

function removeRow(form, row, list) {
  const index = rowIndex(row, list);
  const count = countOf(form, list);
  row.remove();
  if (index < 0) return;
  renumber(form, list, index, null);
  for (let i = index + 1; i < count; i += 1) renumber(form, list, i, i - 1);
  form.dispatchEvent(new Event("rows-changed"));
}

function addRow(form, container) {
  const list = container.dataset.list;
  const last = container.querySelector(".row:last-of-type");
  if (!last) return;
  const copy = last.cloneNode(true);
  const index = countOf(form, list);
  const head = new RegExp(`^${escapeRe(list)}\\[\\d+\\]`);
  copy.querySelectorAll("[name]").forEach((input) => {
    input.name = input.name.replace(head, `${list}[${index}]`);
    if (input.tagName === "SELECT") return;
    if (input.type === "hidden" && input.hasAttribute("data-keep")) return;
    input.value = "";
    input.classList.remove("has-problem");
  });
  copy.querySelectorAll(".problem[data-for]").forEach((spot) => { spot.dataset.for = spot.dataset.for.replace(head, `${list}[${index}]`); spot.textContent = ""; });
  container.appendChild(copy);
  const first = copy.querySelector("input:not([type=hidden]), textarea");
  if (first) first.focus();
}

function rows(form) {
  form.addEventListener("click", (event) => {
    const add = event.target.closest(".add-row");
    if (add) { addRow(form, form.querySelector(`.rows[data-list="${CSS.escape(add.dataset.list)}"]`)); return; }
    const remove = event.target.closest(".remove-row");
    if (!remove) return;
    const chip = remove.closest(".chip");
    const row = chip || remove.closest(".row");
    const list = (chip ? chip.closest(".chips") : row.closest(".rows")).dataset.list;
    removeRow(form, row, list);
  });
}

// -- thesaurus pickers ------------------------------------------------------------------------
function hidden(name, value) {
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  return input;
}

function addChip(form, chips, label, scheme, values) {
  const list = chips.dataset.list;
  const index = countOf(form, list);
  const chip = document.createElement("li");
  chip.className = "chip";
  const text = document.createElement("span");
  text.className = "chip-label";
  text.textContent = label;
  chip.appendChild(text);
  if (scheme) { const small = document.createElement("small"); small.textContent = ` ${scheme}`; chip.appendChild(small); }
  Object.entries(values).forEach(([key, value]) => { if (value) chip.appendChild(hidden(key ? `${list}[${index}].${key}` : `${list}[${index}]`, value)); });
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "remove-row";
  remove.textContent = "×";
  chip.appendChild(remove);
  chips.appendChild(chip);
  form.dispatchEvent(new Event("rows-changed"));
}

function picker(form, box, schemes) {
  const input = box.querySelector(".picker-q");
  const found = box.querySelector(".suggestions");
  const choice = box.querySelector(".picker-scheme");
  const chips = document.querySelector(`.chips[data-list="${CSS.escape(box.dataset.target)}"]`);
  const lang = form.dataset.lang;
  const root = form.dataset.root;
  const themes = box.dataset.target === "extras.inspireThemes";
  let timer = null;
  let hits = [];
  let active = -1;
  const taken = (uri) => [...chips.querySelectorAll("input")].some((i) => i.value === uri);
  const pick = (hit) => {
    found.innerHTML = "";
    input.value = "";
    if (taken(hit.uri)) return;
    if (themes) addChip(form, chips, hit.prefLabel, "", { "": hit.uri });
    else addChip(form, chips, hit.prefLabel, schemes[hit.scheme] || "", { subject: hit.prefLabel, subjectScheme: schemes[hit.scheme] || "", schemeUri: hit.scheme, valueUri: hit.uri, lang });
    if (!themes) narrower(hit.uri);
  };
  const narrower = async (uri) => {
    const area = box.querySelector(".narrower");
    const concept = await fetch(`${root}thesauri/concept?${new URLSearchParams({ uri, lang })}`).then((r) => (r.ok ? r.json() : null)).catch(() => null);
    if (!area || !concept || !concept.narrower.length) { if (area) area.hidden = true; return; }
    const spot = area.querySelector(".narrower-list");
    spot.innerHTML = "";
    concept.narrower.filter((n) => n.known).slice(0, 20).forEach((n) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = n.prefLabel;
      button.addEventListener("click", () => pick({ uri: n.uri, prefLabel: n.prefLabel, scheme: concept.scheme }));
      spot.append(button, " ");
    });
    area.hidden = false;
  };
  const show = () => {
    found.innerHTML = "";
    hits.forEach((hit, i) => {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      item.className = i === active ? "active" : "";
      const label = document.createElement("b");
      label.textContent = hit.prefLabel;
      item.appendChild(label);
      if (hit.matched !== hit.prefLabel) item.append(` (${hit.matched})`);
      const context = document.createElement("small");
      context.textContent = [hit.broader.length ? `‹ ${hit.broader.join(", ")}` : "", schemes[hit.scheme] || ""].filter(Boolean).join(" · ");
      item.append(" ", context);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(hit); });
      found.appendChild(item);
    });
  };
  const search = async () => {
    const q = input.value.trim();
    if (!q) { hits = []; show(); return; }
    const params = new URLSearchParams({ q, lang, limit: "12" });
    const scheme = box.dataset.scheme || (choice ? choice.value : "");
    if (scheme) params.set("scheme", scheme);
    const answer = await fetch(`${root}thesauri/search?${params}`).then((r) => (r.ok ? r.json() : { hits: [] })).catch(() => ({ hits: [] }));
    if (input.value.trim() !== q) return;
    hits = answer.hits;
    active = hits.length ? 0 : -1;
    show();
  };
  input.addEventListener("input", (event) => { event.stopPropagation(); clearTimeout(timer); timer = setTimeout(search, 200); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!hits.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : hits.length - 1)) % hits.length;
      show();
    } else if (event.key === "Enter") {
      event.preventDefault();  // never submits the form
      if (active >= 0 && hits[active]) pick(hits[active]);
    } else if (event.key === "Escape") { hits = []; show(); }
  });
  input.addEventListener("blur", () => setTimeout(() => { found.innerHTML = ""; }, 150));
  const free = box.querySelector(".picker-free");
  if (free) free.addEventListener("click", () => {
    const word = input.value.trim();
    if (word) { addChip(form, chips, word, "", { subject: word, lang }); input.value = ""; found.innerHTML = ""; }
  });
}

// -- the box on the map -----------------------------------------------------------------------
function boxMap(form) {
  const el = document.getElementById("bbox-map");
  if (!el || !window.maplibregl) return;
  const named = (side) => form.querySelector(`[name="geoLocations[0].geoLocationBox.${side}"]`);
  const sides = ["westBoundLongitude", "southBoundLatitude", "eastBoundLongitude", "northBoundLatitude"].map(named);
  const read = () => {
    const v = sides.map((i) => parseFloat(i.value));
    return v.every((x) => Number.isFinite(x)) ? v : null;
  };
  const shape = (b) => ({ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [[[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]], [b[0], b[1]]]] } });
  const empty = { type: "FeatureCollection", features: [] };
  const start = read();
  const map = new maplibregl.Map({ container: el, style: BLANK_STYLE, center: [2.5, 46.5], zoom: 3.5 });
  window.terrapoleBoxMap = map;
  const draw = () => { const s = map.getSource("bbox"); const b = read(); if (s) s.setData(b ? shape(b) : empty); };
  map.on("load", () => {
    map.addSource("bbox", { type: "geojson", data: start ? shape(start) : empty });
    map.addLayer({ id: "bbox-fill", type: "fill", source: "bbox", paint: { "fill-color": "#2b6cb0", "fill-opacity": 0.2 } });
    map.addLayer({ id: "bbox-line", type: "line", source: "bbox", paint: { "line-color": "#2b6cb0", "line-width": 2 } });
    if (start) map.fitBounds([[start[0], start[1]], [start[2], start[3]]], { padding: 30, maxZoom: 10, duration: 0 });
  });
  sides.forEach((i) => i.addEventListener("input", draw));
  const button = document.getElementById("draw-box");
  if (!button || !sides.every((i) => !i.readOnly)) return;
  let corner = null;
  let drawing = false;
  button.addEventListener("click", () => { drawing = true; corner = null; document.getElementById("draw-help").hidden = false; map.getCanvas().style.cursor = "crosshair"; });
  map.on("click", (event) => {
    if (!drawing) return;
    const here = [event.lngLat.lng, event.lngLat.lat];
    if (!corner) { corner = here; return; }
    const round = (x) => String(Math.round(x * 10000) / 10000);
    const b = [Math.min(corner[0], here[0]), Math.min(corner[1], here[1]), Math.max(corner[0], here[0]), Math.max(corner[1], here[1])];
    sides.forEach((input, i) => { input.value = round(b[i]); });
    drawing = false;
    corner = null;
    document.getElementById("draw-help").hidden = true;
    map.getCanvas().style.cursor = "";
    draw();
    form.dispatchEvent(new Event("change"));
  });
}

function recordEditor(form) {
  rows(form);
  const schemes = {};
  document.querySelectorAll("#keyword-picker .picker-scheme option[value]").forEach((o) => { if (o.value) schemes[o.value] = o.textContent; });
  document.querySelectorAll(".picker").forEach((box) => picker(form, box, schemes));
  boxMap(form);
  liveChecks(form);
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("record-form");
  if (form) recordEditor(form);
});
