// The town-centre schematic: every site at its registry position (lat/lon projected onto
// the SVG box, one unit = one screen pixel) with its sensors in a ring around it.
//
// Status is never shown by colour alone: reporting is a green circle marked R, late an
// orange triangle marked L, silent a vermillion square marked S (Okabe-Ito colours).
// When two sites are too close for their rings, the rings are pushed apart and a thin
// leader line joins each ring to the site's true position (the small dot).
//
// A burst of extra sensors cannot take over the map: simulated and retired sensors are
// not drawn (sensors-panel.js counts them apart), a site shows at most MAX_PER_SITE
// markers and the row of sensors at unknown sites what fits, the rest as one "+N" mark.
//
// Keyboard: the schematic is one stop in the tab order; the arrow keys move between the
// sensors (Home and End too) and Enter or Space opens the sensor's view, as a click does.

import { clockTime, formatDuration, parseTime } from "./format.js";
import { el } from "./svg.js";
import { drawBackdrop } from "./schematic-backdrop.js";
import { STATUS_WORDS, drawMore, moveFocus, setTabStop } from "./schematic-focus.js";
import {
  MARK_RADIUS, MARK_SPACING, MIN_RING, labelObstacles, labelSpot, ringOf, separate,
} from "./schematic-layout.js";

const PADDING = 24;
const LABEL_FONT_PX = 13;
const LABEL_CHAR_PX = 7.1;
const MAX_PER_SITE = 14;

/** A short site label: "Stockport Interchange (bus station)" -> "Stockport Interchange". */
export function shortName(name) {
  return String(name).split(/[,(]/)[0].trim();
}

export class Schematic {
  /**
   * @param {SVGSVGElement} svg the `<svg id="schematic">` with its layer groups
   * @param {HTMLElement} description the `<desc>` kept up to date for screen readers
   */
  constructor(svg, description, onOpen = () => {}) {
    this.svg = svg;
    this.onOpen = onOpen;
    this.focusId = null; // the marker that holds the tab stop
    this.description = description;
    this.layers = {
      grid: svg.querySelector(".layer-grid"),
      sites: svg.querySelector(".layer-sites"),
      sensors: svg.querySelector(".layer-sensors"),
      labels: svg.querySelector(".layer-labels"),
    };
    this.sites = new Map(); // id -> {id, name, lat, lon}
    this.sensors = new Map(); // id -> {id, site, domain, registered}
    this.status = new Map(); // id -> {status, last_seen, age_s}
    this.markers = new Map(); // id -> <g>
    this.markerSpots = []; // where markers are drawn, for the label placement
    this.size = { width: 0, height: 0 };
    this.layoutKey = "";
    svg.addEventListener("click", (event) => {
      const marker = event.target.closest?.(".sensor[data-sensor]");
      if (marker) {
        this.onOpen(marker.dataset.sensor);
      }
    });
    svg.addEventListener("keydown", (event) => moveFocus(this, event));
    let pending = null;
    new ResizeObserver(() => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => this.layout());
    }).observe(svg);
  }

  /** The registry from `hello`: sites and the sensors expected at them. */
  setRegistry(sites, sensors) {
    this.sites = new Map(sites.map((site) => [site.id, site]));
    this.sensors = new Map(sensors.map((sensor) => [sensor.id, { ...sensor, registered: true }]));
    this.layoutKey = "";
    this.layout();
  }

  /** Statuses that changed (`sensors`), including sensors the registry does not know, and
   * the sensors no longer listed (`removed`). */
  update(event) {
    let changed = false;
    for (const id of event.removed || []) {
      this.status.delete(id);
      if (this.sensors.get(id)?.registered === false) {
        this.sensors.delete(id);
        changed = true;
      }
    }
    for (const one of event.sensors || []) {
      const setAside = Boolean(one.simulated || one.retired);
      const known = this.sensors.get(one.id);
      if (!known) {
        this.sensors.set(one.id, { id: one.id, site: one.site, domain: one.domain, registered: false, setAside });
        changed = true;
      } else if (Boolean(known.setAside) !== setAside) {
        known.setAside = setAside;
        changed = true;
      }
      this.status.set(one.id, one);
    }
    if (changed) {
      this.layout();
    } else {
      for (const id of this.markers.keys()) {
        this.paint(id);
      }
    }
    const counts = event.counts || {};
    this.description.textContent =
      `${counts.reporting ?? 0} sensors reporting, ${counts.late ?? 0} late, ${counts.silent ?? 0} silent.`;
  }

  statusOf(id) {
    return this.status.get(id)?.status || "unknown";
  }

  /** Project every site, separate crowded rings, then draw sites, sensors and labels. */
  layout() {
    const width = Math.round(this.svg.clientWidth);
    const height = Math.round(this.svg.clientHeight);
    if (width < 50 || height < 50 || this.sites.size === 0) {
      return;
    }
    const drawn = [...this.sensors.values()].filter((sensor) => !sensor.setAside);
    const key = `${width}x${height}:${drawn.map((sensor) => sensor.id).sort().join(",")}`;
    if (key === this.layoutKey) {
      return;
    }
    this.layoutKey = key;
    this.size = { width, height };
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);

    const bySite = new Map();
    const unplaced = [];
    const domainOrder = { energy: 0, transport: 1, air_quality: 2 };
    const ordered = drawn.sort((a, b) =>
      (domainOrder[a.domain] ?? 3) - (domainOrder[b.domain] ?? 3) || a.id.localeCompare(b.id));
    for (const sensor of ordered) {
      if (this.sites.has(sensor.site)) {
        if (!bySite.has(sensor.site)) {
          bySite.set(sensor.site, []);
        }
        bySite.get(sensor.site).push(sensor);
      } else {
        unplaced.push(sensor);
      }
    }

    // Equirectangular projection around the sites' mean latitude, fitted to the box.
    const sites = [...this.sites.values()];
    const lat0 = sites.reduce((sum, site) => sum + site.lat, 0) / sites.length;
    const kx = Math.cos((lat0 * Math.PI) / 180);
    const xs = sites.map((site) => site.lon * kx);
    const ys = sites.map((site) => -site.lat);
    const shownAt = (list) => Math.min(list.length, MAX_PER_SITE + 1);
    const maxRing = Math.max(MIN_RING, ...[...bySite.values()].map((list) => ringOf(shownAt(list))));
    const margin = maxRing + PADDING + 8;
    const bottomReserve = unplaced.length ? 46 : 0;
    const spanX = Math.max(1e-6, Math.max(...xs) - Math.min(...xs));
    const spanY = Math.max(1e-6, Math.max(...ys) - Math.min(...ys));
    const innerW = width - 2 * margin;
    const innerH = height - 2 * margin - bottomReserve - 28;
    const scale = Math.min(innerW / spanX, innerH / spanY);
    const offsetX = margin + (innerW - spanX * scale) / 2 - Math.min(...xs) * scale;
    const offsetY = margin + 28 + (innerH - spanY * scale) / 2 - Math.min(...ys) * scale;
    const project = (lat, lon) => ({ x: lon * kx * scale + offsetX, y: -lat * scale + offsetY });
    // Metres per degree of latitude, for the scale bar and the grid.
    const pxPerMetre = scale / 111320;

    const nodes = sites.map((site) => {
      const at = project(site.lat, site.lon);
      return { site, at, x: at.x, y: at.y, r: ringOf(shownAt(bySite.get(site.id) || [])) };
    });
    separate(nodes, width, height - bottomReserve);

    drawBackdrop(this.layers.grid, width, height, pxPerMetre);
    this.layers.sites.replaceChildren();
    this.layers.sensors.replaceChildren();
    this.layers.labels.replaceChildren();
    this.markers.clear();
    this.markerSpots = [];

    for (const node of nodes) {
      const group = el("g", { class: "site", "data-site": node.site.id }, this.layers.sites);
      el("title", {}, group).textContent = node.site.name;
      const moved = Math.hypot(node.x - node.at.x, node.y - node.at.y) > 2;
      if (moved) {
        el("line", { class: "leader", x1: node.at.x, y1: node.at.y, x2: node.x, y2: node.y }, group);
      }
      el("circle", { class: "ring", cx: node.x, cy: node.y, r: node.r }, group);
      el("circle", { class: "site-dot", cx: node.at.x, cy: node.at.y, r: 3.5 }, group);
      const list = bySite.get(node.site.id) || [];
      const shown = list.length > MAX_PER_SITE + 1 ? list.slice(0, MAX_PER_SITE) : list;
      const slots = shown.length + (shown.length < list.length ? 1 : 0);
      const spot = (i) => {
        const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, slots);
        const ring = slots === 1 ? 0 : node.r;
        return [node.x + ring * Math.cos(angle), node.y + ring * Math.sin(angle)];
      };
      shown.forEach((sensor, i) => this.addMarker(sensor, ...spot(i), node.site));
      if (shown.length < list.length) {
        drawMore(this, list.slice(shown.length), ...spot(shown.length), node.site.name);
      }
    }
    this.placeLabels(nodes, width, height - bottomReserve);

    if (unplaced.length) {
      const y = height - bottomReserve / 2;
      const label = el("text", { class: "unplaced-label", x: 12, y, dy: "0.35em" }, this.layers.labels);
      label.textContent = "Site not in registry:";
      const fits = Math.max(1, Math.floor((width - 170 - MARK_SPACING) / MARK_SPACING));
      const shown = unplaced.length > fits + 1 ? unplaced.slice(0, fits) : unplaced;
      shown.forEach((sensor, i) => this.addMarker(sensor, 170 + i * MARK_SPACING, y, null));
      if (shown.length < unplaced.length) {
        drawMore(this, unplaced.slice(shown.length), 170 + shown.length * MARK_SPACING, y, "unknown sites");
      }
    }
    for (const id of this.markers.keys()) {
      this.paint(id);
    }
    setTabStop(this, this.markers.has(this.focusId) ? this.focusId : this.markers.keys().next().value);
  }

  /** Each site's name beside its ring (schematic-layout.js chooses the side). */
  placeLabels(nodes, width, height) {
    const taken = labelObstacles(this.markerSpots, nodes);
    for (const node of nodes) {
      const text = shortName(node.site.name);
      const label = el("text", { class: "site-label", dy: "0.35em" }, this.layers.labels);
      label.textContent = text;
      // The rendered width when the browser can tell (it can once the SVG is laid out).
      const measured = label.getComputedTextLength();
      const w = (measured > 0 ? measured : text.length * LABEL_CHAR_PX) + 8;
      const h = LABEL_FONT_PX + 6;
      const best = labelSpot(node, w, h, taken, width, height);
      taken.push(best.box);
      const x = best.anchor === "start" ? best.box.x + 4 : best.anchor === "end" ? best.box.x + w - 4 : best.box.x + w / 2;
      label.setAttribute("x", String(x));
      label.setAttribute("y", String(best.box.y + h / 2));
      label.setAttribute("text-anchor", best.anchor);
    }
  }

  addMarker(sensor, x, y, site) {
    const classes = sensor.registered ? "sensor" : "sensor unregistered";
    const group = el("g", {
      class: classes, "data-sensor": sensor.id, "data-site": sensor.site, "data-domain": sensor.domain,
      transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`, role: "button", tabindex: "-1",
    }, this.layers.sensors);
    el("circle", { class: "focus-ring", r: MARK_RADIUS + 6 }, group);
    if (!sensor.registered) {
      el("circle", { class: "unregistered-ring", r: MARK_RADIUS + 4 }, group);
    }
    el("use", { href: "#mark-unknown" }, group);
    el("title", {}, group);
    this.markerSpots.push({ x, y });
    group.dataset.siteName = site ? shortName(site.name) : sensor.site;
    this.markers.set(sensor.id, group);
  }

  paint(id) {
    const group = this.markers.get(id);
    const sensor = this.sensors.get(id);
    if (!group || !sensor) {
      return;
    }
    const state = this.status.get(id);
    const status = this.statusOf(id);
    if (group.dataset.status !== status) {
      group.dataset.status = status;
      group.querySelector("use").setAttribute("href", `#mark-${status}`);
    }
    const seen = parseTime(state?.last_seen);
    // A reporting sensor's reading time is not resent each time it reports (docs/live.md).
    const lastSeen = status === "reporting" && state?.interval_s
      ? `a reading in the last ${formatDuration(2 * state.interval_s)}`
      : seen ? `last seen ${clockTime(seen)} (${formatDuration(state.age_s)} ago)` : "never seen";
    const registry = sensor.registered ? "" : " (not in the registry)";
    // What the sensor sends (the devices file's format, or native): from either event.
    const source = state?.source_format || sensor.source_format || "native";
    if (group.dataset.source !== source) {
      group.dataset.source = source;
    }
    const via = source === "native" ? "" : ` via ${source}`;
    const title = `${id}${registry}: ${sensor.domain}${via} at ${group.dataset.siteName}, `
      + `${STATUS_WORDS[status] || status}, ${lastSeen}`;
    const titleNode = group.querySelector("title");
    if (titleNode.textContent !== title) {
      titleNode.textContent = title;
      group.setAttribute("aria-label", `${title}. Open the sensor's view.`);
    }
  }
}
