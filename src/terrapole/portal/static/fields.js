// terrapole portal: a service form's catalogue inputs (collection list, item search on the
// map with dates and cloud cover, the item's raster assets), from the STAC API.
"use strict";

function stacGet(url) {
  const key = window.localStorage.getItem("terrapole-token");
  return fetch(url, { headers: key ? { Authorization: `Bearer ${key}` } : {} }).then((r) => (r.ok ? r.json() : Promise.reject(r)));
}

// The choices offered under a text input (its datalist); the input still takes any text.
function offer(input, values, titles) {
  const list = document.getElementById(input.getAttribute("list"));
  list.innerHTML = "";
  values.forEach((v, i) => {
    const option = document.createElement("option");
    option.value = v;
    if (titles && titles[i]) option.label = titles[i];
    list.appendChild(option);
  });
  if (!input.value && values.length === 1) input.value = values[0];
}

function fieldOf(form, widget) { return form.querySelector(`fieldset[data-widget="${widget}"] .value`); }

async function collectionsField(form, state) {
  const input = fieldOf(form, "collection");
  if (!input) return;
  const found = await stacGet(`${form.dataset.stac}/collections?limit=1000`).catch(() => ({ collections: [] }));
  state.collections = found.collections.map((c) => c.id);
  offer(input, state.collections, found.collections.map((c) => c.title));
}

async function assetsField(form, state) {
  const input = fieldOf(form, "asset");
  const item = form.querySelector('fieldset[data-widget="item"] .value');
  const collection = fieldOf(form, "collection");
  if (!input || !item || !collection || !item.value || !collection.value) return;
  const doc = await stacGet(`${form.dataset.stac}/collections/${encodeURIComponent(collection.value)}/items/${encodeURIComponent(item.value)}`).catch(() => null);
  if (!doc) return;
  const rasters = Object.entries(doc.assets).filter(([, a]) => a["raster:bands"] || (a.roles || []).includes("data"));
  state.assets = rasters.map(([key]) => key);
  offer(input, state.assets, rasters.map(([, a]) => a.title));
}

function drawFound(found) {
  const map = window.terrapoleZoneMap;
  if (!map || !map.loaded()) return;
  if (map.getSource("found")) map.getSource("found").setData(found);
  else {
    map.addSource("found", { type: "geojson", data: found });
    map.addLayer({ id: "found", type: "line", source: "found", paint: { "line-color": "#805ad5", "line-width": 2 } });
  }
}

async function itemPicker(form, fieldset, state) {
  const panel = fieldset.querySelector(".picker");
  const list = panel.querySelector(".pick-results");
  const input = fieldset.querySelector(".value");
  const params = new URLSearchParams({ limit: "50" });
  const collection = fieldOf(form, "collection");
  if (collection && collection.value) params.set("collections", collection.value);
  const map = window.terrapoleZoneMap;
  if (map) { const b = map.getBounds(); params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",")); }
  const start = panel.querySelector(".pick-start").value;
  const end = panel.querySelector(".pick-end").value;
  if (start || end) params.set("datetime", `${start || ".."}/${end ? `${end}T23:59:59Z` : ".."}`);
  const cloud = panel.querySelector(".pick-cloud").value;
  if (cloud !== "") { params.set("filter-lang", "cql2-text"); params.set("filter", `eo:cloud_cover <= ${Number(cloud)}`); }
  const found = await stacGet(`${form.dataset.stac}/search?${params}`).catch(() => ({ type: "FeatureCollection", features: [] }));
  state.found = found.features.map((f) => f.id);
  drawFound(found);
  list.innerHTML = "";
  if (!found.features.length) { list.innerHTML = `<li>${list.dataset.none}</li>`; return; }
  found.features.forEach((f) => {
    const li = document.createElement("li");
    const cover = f.properties["eo:cloud_cover"];
    li.textContent = `${(f.properties.datetime || "").slice(0, 10)} · ${cover === undefined ? "–" : `${Math.round(cover)} %`} · ${f.id}`;
    const choose = document.createElement("button");
    choose.type = "button";
    choose.textContent = list.dataset.choose;
    choose.addEventListener("click", () => { input.value = f.id; input.dispatchEvent(new Event("change")); });
    li.appendChild(choose);
    list.appendChild(li);
  });
}

function catalogueFields() {
  const form = document.getElementById("service-form");
  if (!form || !form.dataset.stac) return;
  const state = { collections: [], found: [], assets: [] };
  window.terrapoleFields = state;
  form.querySelectorAll('fieldset[data-widget="item"]').forEach((fieldset) => {
    fieldset.querySelector(".pick-search").addEventListener("click", () => itemPicker(form, fieldset, state));
  });
  const first = form.querySelector('fieldset[data-widget="item"] .value');
  if (first) first.addEventListener("change", () => assetsField(form, state));
  const collection = fieldOf(form, "collection");
  if (collection) collection.addEventListener("change", () => assetsField(form, state));
  collectionsField(form, state);
}

window.addEventListener("DOMContentLoaded", catalogueFields);
