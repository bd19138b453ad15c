// The sensors panel: the schematic (schematic.js), the counts by status and a readable
// list of the sensors that need attention.

import { parseTime, setText, shortTime } from "./format.js";
import { Schematic } from "./schematic.js";
import { $, now, siteName } from "./state.js";

const ATTENTION_LIMIT = 6;
let schematic = null;

export function setUpSensors() {
  schematic = new Schematic($("#schematic"), $("#schematic-desc"));
}

/** The registry from `hello`: the sites and the sensors expected at them. */
export function setSensorRegistry(sites, sensors) {
  schematic.setRegistry(sites, sensors);
}

// How many sensors send each format (native contract payloads, LoRaWAN, smart meters...).
function renderSources(sensors) {
  const tally = new Map();
  for (const sensor of sensors) {
    const source = sensor.source_format || "native";
    tally.set(source, (tally.get(source) || 0) + 1);
  }
  const order = [...tally.keys()].sort((a, b) => (a === "native" ? -1 : b === "native" ? 1 : a.localeCompare(b)));
  const text = order.map((source) => `${source} ${tally.get(source)}`).join(" · ");
  setText($("#sensor-sources"), text ? `Sources: ${text}` : "");
}

export function onSensors(data) {
  schematic.update(data);
  const counts = data.counts || {};
  for (const status of ["reporting", "late", "silent"]) {
    setText($(`[data-count="${status}"]`), String(counts[status] ?? 0));
  }
  renderSources(data.sensors || []);
  // A readable list of the sensors that need attention (worst first).
  const rank = { silent: 0, late: 1 };
  const attention = (data.sensors || [])
    .filter((sensor) => sensor.status === "silent" || sensor.status === "late")
    .sort((a, b) => rank[a.status] - rank[b.status] || (a.age_s ?? Infinity) - (b.age_s ?? Infinity)
      || a.id.localeCompare(b.id));
  const box = $("#attention");
  const shown = attention.slice(0, ATTENTION_LIMIT);
  const signature = shown.map((s) => `${s.id}:${s.status}:${s.last_seen}`).join(";") + `+${attention.length}`;
  if (box.dataset.signature === signature) {
    return;
  }
  box.dataset.signature = signature;
  if (!attention.length) {
    box.replaceChildren(Object.assign(document.createElement("p"), {
      className: "all-good", textContent: "Every sensor is reporting.",
    }));
    return;
  }
  const list = document.createElement("ul");
  list.className = "attention-list";
  for (const sensor of shown) {
    const item = document.createElement("li");
    item.dataset.sensor = sensor.id;
    item.dataset.status = sensor.status;
    const seen = parseTime(sensor.last_seen);
    item.innerHTML = `<svg class="key" viewBox="-12 -12 24 24" aria-hidden="true"><use href="#mark-${sensor.status}"></use></svg>`;
    const name = document.createElement("b");
    name.textContent = sensor.id;
    const detail = document.createElement("span");
    const via = sensor.source_format && sensor.source_format !== "native" ? ` · ${sensor.source_format}` : "";
    detail.textContent = ` ${sensor.status} · ${siteName(sensor.site)}${via} · ${seen ? `last seen ${shortTime(seen, now())}` : "never seen"}`;
    item.append(name, detail);
    list.append(item);
  }
  const parts = [list];
  if (attention.length > shown.length) {
    parts.push(Object.assign(document.createElement("p"), {
      className: "more", textContent: `and ${attention.length - shown.length} more not reporting`,
    }));
  }
  box.replaceChildren(...parts);
}
