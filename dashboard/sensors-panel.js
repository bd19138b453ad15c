// The sensors panel: the schematic (schematic.js), the counts by status, the sensors set
// aside (simulated and retired: counted apart, not drawn), and a readable list of the
// sensors that need attention; a sensor's view (sensor-detail.js) opens from the
// schematic or the list.

import { parseTime, setText, shortTime } from "./format.js";
import { Schematic } from "./schematic.js";
import { openSensor } from "./sensor-detail.js";
import { $, now, siteName, state } from "./state.js";

const ATTENTION_LIMIT = 6;
let schematic = null;

export function setUpSensors() {
  schematic = new Schematic($("#schematic"), $("#schematic-desc"), openSensor);
  $("#attention").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-sensor]");
    if (button) {
      openSensor(button.dataset.sensor);
    }
  });
}

/** The registry from `hello`: the sites and the sensors expected at them. */
export function setSensorRegistry(sites, sensors) {
  schematic.setRegistry(sites, sensors);
}

function setAsideText(setAside) {
  const parts = [];
  if (setAside.simulated) {
    parts.push(`${setAside.simulated} simulated`);
  }
  if (setAside.retired) {
    parts.push(`${setAside.retired} retired`);
  }
  return parts.length ? `Not shown and not counted: ${parts.join(", ")}.` : "";
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
  state.flags = new Map((data.sensors || []).map((one) => [one.id, one]));
  schematic.update(data);
  const counts = data.counts || {};
  for (const status of ["reporting", "late", "silent"]) {
    setText($(`[data-count="${status}"]`), String(counts[status] ?? 0));
  }
  const aside = setAsideText(data.set_aside || {});
  setText($("#set-aside"), aside);
  $("#set-aside").hidden = !aside;
  const inService = (data.sensors || []).filter((sensor) => !sensor.simulated && !sensor.retired);
  renderSources(inService);
  // A readable list of the sensors in service that need attention (worst first).
  const rank = { silent: 0, late: 1 };
  const attention = inService
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
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link-button";
    open.dataset.sensor = sensor.id;
    open.innerHTML = `<svg class="key" viewBox="-12 -12 24 24" aria-hidden="true"><use href="#mark-${sensor.status}"></use></svg>`;
    const name = document.createElement("b");
    name.textContent = sensor.id;
    open.append(name);
    const detail = document.createElement("span");
    const via = sensor.source_format && sensor.source_format !== "native" ? ` · ${sensor.source_format}` : "";
    detail.textContent = ` ${sensor.status} · ${siteName(sensor.site)}${via} · ${seen ? `last seen ${shortTime(seen, now())}` : "never seen"}`;
    item.append(open, detail);
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
