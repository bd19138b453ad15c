// The schematic's keyboard focus and its "+N" marks (schematic.js draws the rest).
//
// Roving tab stop: only one marker is in the tab order at a time, so the schematic is one
// stop however many sensors it shows; the arrow keys (and Home, End) move between them and
// Enter or Space opens the sensor's view, as a click does.

import { MARK_RADIUS } from "./schematic-layout.js";
import { el } from "./svg.js";

export const STATUS_WORDS = { reporting: "reporting", late: "late", silent: "silent", unknown: "status not known yet" };
const STATUS_RANK = { silent: 0, late: 1, unknown: 2, reporting: 3 };

/** One mark for the sensors that did not fit: "+N", shaped as the worst status among them. */
export function drawMore(schematic, sensors, x, y, where) {
  const worst = sensors.map((sensor) => schematic.statusOf(sensor.id))
    .sort((a, b) => STATUS_RANK[a] - STATUS_RANK[b])[0] || "unknown";
  const group = el("g", { class: "more", transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})` },
    schematic.layers.sensors);
  el("circle", { class: `more-ring m-${worst}`, r: MARK_RADIUS }, group);
  const label = el("text", { class: "m-letter more-count", dy: "0.36em" }, group);
  label.textContent = moreLabel(sensors.length);
  if (label.textContent.length > 3) {
    // Squeezed into the ring rather than spilling over its neighbours ("+30k", "+999").
    label.setAttribute("textLength", String(2 * MARK_RADIUS - 3));
    label.setAttribute("lengthAdjust", "spacingAndGlyphs");
  }
  el("title", {}, group).textContent = `${sensors.length} more sensors at ${where}, the worst ${STATUS_WORDS[worst]}`;
  group.dataset.count = String(sensors.length);
  schematic.markerSpots.push({ x, y });
}

/** "+N" short enough for a marker: thousands as "k" (the title keeps the exact count). */
export function moreLabel(count) {
  if (count < 1000) {
    return `+${count}`;
  }
  return count < 10000 ? `+${(count / 1000).toFixed(1).replace(/\.0$/, "")}k` : `+${Math.round(count / 1000)}k`;
}

/** Put the tab stop on the marker of sensor ``id``. */
export function setTabStop(schematic, id) {
  for (const [markerId, group] of schematic.markers) {
    group.setAttribute("tabindex", markerId === id ? "0" : "-1");
  }
  schematic.focusId = id ?? null;
}

/** Arrow keys, Home and End move between markers; Enter and Space open one. */
export function moveFocus(schematic, event) {
  const marker = event.target.closest?.(".sensor[data-sensor]");
  if (!marker) {
    return;
  }
  const ids = [...schematic.markers.keys()];
  const index = ids.indexOf(marker.dataset.sensor);
  const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
  let next = null;
  if (event.key in moves) {
    next = ids[(index + moves[event.key] + ids.length) % ids.length];
  } else if (event.key === "Home") {
    next = ids[0];
  } else if (event.key === "End") {
    next = ids[ids.length - 1];
  } else if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    schematic.onOpen(marker.dataset.sensor);
    return;
  } else {
    return;
  }
  event.preventDefault();
  setTabStop(schematic, next);
  schematic.markers.get(next).focus();
}
