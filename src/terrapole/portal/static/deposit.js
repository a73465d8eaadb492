// terrapole deposits: the upload box of a deposit page (SHA-256 in the browser, chunked and
// resumable uploads through the JSON API) and a deposited GeoTIFF's map preview.
"use strict";

// SHA-256 (FIPS 180-4), fed in pieces so that a file of any size is hashed slice by slice:
// crypto.subtle.digest only hashes one buffer, so it is used for files that fit in memory.
const SHA256_K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

function rotr(x, n) {
  return (x >>> n) | (x << (32 - n));
}

class Sha256 {
  constructor() {
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.pending = new Uint8Array(64);
    this.pendingLength = 0;
    this.length = 0; // bytes hashed so far
    this.w = new Uint32Array(64);
  }

  update(bytes) {
    let i = 0;
    this.length += bytes.length;
    if (this.pendingLength) {
      const take = Math.min(64 - this.pendingLength, bytes.length);
      this.pending.set(bytes.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      i = take;
      if (this.pendingLength < 64) return;
      this.block(this.pending, 0);
      this.pendingLength = 0;
    }
    for (; i + 64 <= bytes.length; i += 64) this.block(bytes, i);
    if (i < bytes.length) {
      this.pending.set(bytes.subarray(i), 0);
      this.pendingLength = bytes.length - i;
    }
  }

  block(m, at) {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      const o = at + 4 * t;
      w[t] = (m[o] << 24) | (m[o + 1] << 16) | (m[o + 2] << 8) | m[o + 3];
    }
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, h] = this.h;
    for (let t = 0; t < 64; t++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[t] + w[t]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    const sums = [a, b, c, d, e, f, g, h];
    for (let i = 0; i < 8; i++) this.h[i] = (this.h[i] + sums[i]) | 0;
  }

  hex() {
    const bits = this.length * 8;
    const padding = new Uint8Array((this.pendingLength < 56 ? 64 : 128) - this.pendingLength);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(padding.length - 4, bits >>> 0);
    this.update(padding);
    return Array.from(this.h, (word) => word.toString(16).padStart(8, "0")).join("");
  }
}

const HASH_SLICE = 8 * 1024 * 1024;
const SUBTLE_MAX = 256 * 1024 * 1024; // above this, a file is hashed in slices (no whole copy)

async function sha256Incremental(blob, onProgress) {
  const hash = new Sha256();
  for (let at = 0; at < blob.size; at += HASH_SLICE) {
    hash.update(new Uint8Array(await blob.slice(at, at + HASH_SLICE).arrayBuffer()));
    if (onProgress) onProgress(Math.min(blob.size, at + HASH_SLICE));
  }
  return hash.hex();
}

async function sha256Of(file, onProgress) {
  if (window.crypto && crypto.subtle && file.size <= SUBTLE_MAX) {
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return sha256Incremental(file, onProgress); // big files, or no Web Crypto (plain http)
}

// -- the upload box ----------------------------------------------------------------------------
const deposit = { chunkBytes: 8 * 1024 * 1024, Sha256, sha256Incremental, sha256Of };
window.terrapoleDeposit = deposit;

function sizeText(bytes) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return unit ? `${value.toFixed(1)} ${units[unit]}` : `${value} B`;
}

class Upload {
  constructor(box, file) {
    this.box = box;
    this.file = file;
    this.sha256 = null;
    this.url = null;
    this.strings = JSON.parse(box.dataset.strings);
    this.li = document.createElement("li");
    this.li.className = "upload";
    this.li.dataset.name = file.name;
    this.li.innerHTML = '<span class="upload-name"></span> <progress max="100" value="0"></progress> '
      + '<span class="pct">0 %</span> <span class="upload-status"></span> <button type="button" class="retry" hidden></button>';
    this.li.querySelector(".upload-name").textContent = file.name;
    this.li.querySelector(".retry").textContent = this.strings.retry;
    this.li.querySelector(".retry").addEventListener("click", () => this.run());
    box.querySelector("#uploads").append(this.li);
  }

  api(method, url, body, headers) {
    const sent = { "X-CSRF-Token": this.box.dataset.csrf, ...(headers || {}) };
    if (body && !(body instanceof Blob)) {
      sent["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    return fetch(url, { method, body, headers: sent, credentials: "same-origin" });
  }

  async json(response) {
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try { const problem = JSON.parse(text); message = problem.detail || problem.title || text; } catch (e) { /* text */ }
      const error = new Error(`${response.status}: ${message}`);
      error.status = response.status;
      throw error;
    }
    return JSON.parse(text);
  }

  show(status, done) {
    const bar = this.li.querySelector("progress");
    const pct = Math.floor((100 * done) / this.file.size);
    bar.value = pct;
    this.li.querySelector(".pct").textContent = `${pct} %`;
    this.li.querySelector(".upload-status").textContent = status;
  }

  async run() {
    const retry = this.li.querySelector(".retry");
    retry.hidden = true;
    this.li.classList.remove("failed");
    const root = `${this.box.dataset.root}deposits/${this.box.dataset.deposit}`;
    try {
      if (!this.sha256) {
        this.show(this.strings.hashing, 0);
        const status = this.li.querySelector(".upload-status");
        this.sha256 = await sha256Of(this.file, (n) => {
          status.textContent = `${this.strings.hashing} ${Math.floor((100 * n) / this.file.size)} %`;
        });
      }
      let offset = 0;
      if (!this.url) {
        const started = await this.json(await this.api("POST", `${root}/uploads`,
          { name: this.file.name, size: this.file.size, sha256: this.sha256 }));
        this.url = started.url.startsWith("/") ? this.box.dataset.root + started.url.slice(1) : started.url;
      } else {
        offset = (await this.json(await this.api("GET", this.url))).offset; // resume there
      }
      while (offset < this.file.size) {
        this.show(this.strings.sending, offset);
        const chunk = this.file.slice(offset, offset + deposit.chunkBytes);
        const sent = await this.api("PUT", this.url, chunk, {
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        });
        if (sent.status === 409) { // the server has another offset: go on from its
          offset = (await this.json(await this.api("GET", this.url))).offset;
          continue;
        }
        offset = (await this.json(sent)).received;
      }
      this.show(this.strings.verifying, offset);
      const added = await this.json(await this.api("POST", `${this.url}/complete`));
      this.show(`${this.strings.added} · SHA-256 ${added.sha256}`, this.file.size);
      this.li.classList.add("done");
      this.li.dataset.sha256 = added.sha256;
      addRow(this.box, added);
      return true;
    } catch (error) {
      if (error.status === 400 || error.status === 404) this.url = null; // refused: start again
      this.li.classList.add("failed");
      this.li.querySelector(".upload-status").textContent = `${this.strings.failed}: ${error.message}`;
      retry.hidden = false;
      return false;
    }
  }
}

function addRow(box, added) {
  const table = document.getElementById("files");
  const none = document.getElementById("no-files");
  if (none) none.remove();
  table.hidden = false;
  const tr = document.createElement("tr");
  tr.dataset.name = added.name;
  const cells = [added.name, sizeText(added.size), added.sha256, added.format, ""];
  for (const [i, text] of cells.entries()) {
    const td = document.createElement("td");
    td.className = ["name", "size", "sha256", "format", "preview-links"][i];
    if (i === 2) td.innerHTML = "<code></code>";
    (i === 2 ? td.firstChild : td).textContent = text;
    tr.append(td);
  }
  table.querySelector("tbody").append(tr);
}

function uploadBox() {
  const box = document.getElementById("upload-box");
  if (!box) return;
  const input = box.querySelector("#upload-files");
  box.querySelector("#upload-start").addEventListener("click", async () => {
    const files = Array.from(input.files);
    input.value = "";
    for (const file of files) await new Upload(box, file).run(); // one after the other
  });
}

// -- a GeoTIFF's map ---------------------------------------------------------------------------
async function depositMap() {
  const el = document.getElementById("deposit-map");
  if (!el) return;
  const base = `${el.dataset.file}/map`;
  const stats = await (await fetch(`${base}/statistics`)).json();
  const bands = Object.values(stats);
  const params = new URLSearchParams();
  (bands.length >= 3 ? [1, 2, 3] : [1]).forEach((b) => params.append("bidx", String(b)));
  const shown = bands.slice(0, bands.length >= 3 ? 3 : 1);
  const low = Math.min(...shown.map((b) => b.percentile_2));
  const high = Math.max(...shown.map((b) => b.percentile_98));
  if (!(low >= 0 && high <= 255) && high > low) params.set("rescale", `${low},${high}`);
  const tilejson = await (await fetch(`${base}/WebMercatorQuad/tilejson.json?${params}`)).json();
  const [w, s, e, n] = tilejson.bounds;
  const map = new maplibregl.Map({
    container: el, style: basemapStyle(), bounds: [[w, s], [e, n]], fitBoundsOptions: { padding: 30 },
  });
  window.terrapoleDepositMap = map;
  map.on("load", () => {
    map.addSource("deposit", { type: "raster", tiles: tilejson.tiles, tileSize: 256, bounds: tilejson.bounds,
      minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom });
    map.addLayer({ id: "deposit", type: "raster", source: "deposit" });
  });
}

uploadBox();
depositMap();
