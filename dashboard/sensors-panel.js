// The sensors panel: the schematic (schematic.js), the counts by status, the sensors set
// aside (simulated and retired: counted apart, not drawn), and a readable list of the
// sensors that need attention; a sensor's view (sensor-detail.js) opens from the
// schematic or the list.
//
// The `sensors` event is the full list first, then only the changes (docs/live.md): the
// panel holds the list and applies each change to the rev it was made from.

import { parseTime, setText, shortTime } from "./format.js";
import { Schematic } from "./schematic.js";
import { openSensor } from "./sensor-detail.js";
import { $, now, siteName, state } from "./state.js";

const ATTENTION_LIMIT = 6;
let schematic = null;
const held = { rev: null, sensors: new Map() }; // the list as of `rev`, by sensor id

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

function seenAt(entry) {
  entry.seenMs = entry.last_seen ? Date.parse(entry.last_seen) : null;
  return entry;
}

/** Apply a `sensors` event to the held list; false when it is a change to another rev. */
function applySensors(data) {
  let changed;
  let removed;
  if (data.full === false) {
    if (held.rev === null || data.base !== held.rev) {
      return false; // a change to a list this page does not hold: the full list comes next
    }
    changed = data.changed || [];
    removed = data.removed || [];
  } else {
    changed = data.sensors || [];
    const ids = new Set(changed.map((one) => one.id));
    removed = [...held.sensors.keys()].filter((id) => !ids.has(id));
    held.sensors = new Map();
  }
  for (const one of changed) {
    held.sensors.set(one.id, seenAt(one));
  }
  for (const id of removed) {
    held.sensors.delete(id);
  }
  held.rev = data.rev ?? null;
  // Ages as of this event; a reporting sensor's reading time is only sent when its status
  // changes, so its age says "within two intervals", not more (sensor-detail.js has it exact).
  const at = Date.parse(data.at);
  for (const one of held.sensors.values()) {
    one.age_s = one.seenMs === null || Number.isNaN(at) ? null : (at - one.seenMs) / 1000;
  }
  schematic.update({ counts: data.counts, sensors: changed, removed });
  return true;
}

export function onSensors(data) {
  if (!applySensors(data)) {
    return;
  }
  state.flags = held.sensors;
  const counts = data.counts || {};
  for (const status of ["reporting", "late", "silent"]) {
    setText($(`[data-count="${status}"]`), String(counts[status] ?? 0));
  }
  const aside = setAsideText(data.set_aside || {});
  setText($("#set-aside"), aside);
  $("#set-aside").hidden = !aside;
  const inService = [...held.sensors.values()].filter((sensor) => !sensor.simulated && !sensor.retired);
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
