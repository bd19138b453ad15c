// The operations dashboard: reads GET /api/v1/live (see docs/live.md) and keeps the
// panels up to date. Plain ES modules, no build step; uPlot is loaded from
// /dashboard/vendor/uplot/, which the API serves out of dashboard/node_modules.

import { ChartSet, staticLegends } from "./charts.js";
import {
  clockTime, dayLabel, formatDuration, formatNumber, isNumber, parseTime, setText, shortTime,
} from "./format.js";
import { Schematic, shortName } from "./schematic.js";
import { LiveStream } from "./sse.js";

const LIVE_URL = "/api/v1/live";
const KEY_STORAGE = "smartplace.apiKey";
const UPLOT_MODULE = "/dashboard/vendor/uplot/uPlot.esm.js";
const UPLOT_CSS = "/dashboard/vendor/uplot/uPlot.min.css";

const $ = (selector, root = document) => root.querySelector(selector);
const field = (name, root = document) => root.querySelector(`[data-field="${name}"]`);

const state = {
  sites: new Map(),
  refreshS: 2,
  heartbeatS: 15,
  clockOffsetMs: 0,
  connection: { state: "connecting" },
  lastHeartbeat: null, // Date of the last heartbeat (or hello)
  lastEventAt: 0, // performance.now() of the last event of any kind
  lastStateAt: 0, // performance.now() of the last panel update
  sentKey: null, // the key sent on the current connection attempt
  charts: null,
  pendingSeries: new Map(),
  alerts: null,
  keyDialogDismissed: false,
  errorAt: null,
};

// ---------------------------------------------------------------- the API key

let memoryKey = null; // used when localStorage is unavailable

const keyStore = {
  get() {
    try {
      return window.localStorage.getItem(KEY_STORAGE);
    } catch {
      return memoryKey;
    }
  },
  set(value) {
    memoryKey = value;
    try {
      window.localStorage.setItem(KEY_STORAGE, value);
    } catch {
      // private browsing: keep it for this page only
    }
  },
  clear() {
    memoryKey = null;
    try {
      window.localStorage.removeItem(KEY_STORAGE);
    } catch {
      // nothing stored
    }
  },
};

function updateKeyButtons() {
  $("#forget-key").hidden = !keyStore.get();
  $("#enter-key").hidden = state.connection.state !== "unauthorized";
}

function askForKey(refused) {
  const dialog = $("#key-dialog");
  setText($("#key-reason"), refused
    ? "The saved key was not accepted. Enter a valid key from SMARTPLACE_API_KEYS."
    : "This API asks for a key. Enter one of the keys in SMARTPLACE_API_KEYS; this browser will remember it.");
  if (!dialog.open) {
    $("#key-input").value = "";
    dialog.showModal();
    $("#key-input").focus();
  }
}

function setUpKeyForm(stream) {
  const dialog = $("#key-dialog");
  $("#key-form").addEventListener("submit", (event) => {
    const key = $("#key-input").value.trim();
    if (!key) {
      event.preventDefault();
      return;
    }
    keyStore.set(key);
    $("#key-input").value = "";
    state.keyDialogDismissed = false;
    updateKeyButtons();
    stream.retryNow();
  });
  $("#key-cancel").addEventListener("click", () => {
    state.keyDialogDismissed = true;
    dialog.close();
    $("#enter-key").focus();
  });
  dialog.addEventListener("cancel", () => {
    state.keyDialogDismissed = true;
  });
  $("#enter-key").addEventListener("click", () => askForKey(false));
  $("#forget-key").addEventListener("click", () => {
    keyStore.clear();
    state.keyDialogDismissed = false;
    updateKeyButtons();
    stream.retryNow();
  });
}

// ------------------------------------------------------- header: clock and link

function now() {
  return new Date(Date.now() + state.clockOffsetMs);
}

function tickClock() {
  const clock = $("#clock");
  const date = now();
  setText(clock, `${dayLabel(date)}  ${clockTime(date)}`);
  clock.setAttribute("datetime", date.toISOString());
  renderConnection();
  if (state.alerts) {
    renderAlerts(state.alerts);
  }
}

function renderConnection() {
  const conn = $("#conn");
  const { connection } = state;
  let label;
  let mode = connection.state;
  const beat = state.lastHeartbeat ? `heartbeat ${clockTime(state.lastHeartbeat)}` : "";
  if (connection.state === "live") {
    // Heartbeats prove the connection; fresh panels prove the poller behind it.
    const quietS = (performance.now() - state.lastEventAt) / 1000;
    const staleS = (performance.now() - state.lastStateAt) / 1000;
    if (state.lastEventAt && quietS > 2 * state.heartbeatS + 5) {
      mode = "stale";
      label = `Connected, nothing received for ${formatDuration(quietS)}`;
    } else if (state.lastStateAt && staleS > Math.max(5 * state.refreshS, 15)) {
      mode = "stale";
      label = `Connected, no new figures for ${formatDuration(staleS)}`;
    } else {
      label = "Live";
    }
  } else if (connection.state === "reconnecting") {
    const left = Math.max(0, Math.ceil((connection.until - Date.now()) / 1000));
    label = left > 0 ? `Reconnecting in ${left} s` : "Reconnecting…";
  } else if (connection.state === "unauthorized") {
    label = "API key needed";
  } else {
    label = "Connecting…";
  }
  conn.dataset.state = mode;
  document.body.dataset.connection = mode;
  setText($("#conn-text"), label);
  const detail = connection.state === "reconnecting" && connection.reason
    ? `${beat ? `last ${beat}` : "no heartbeat yet"} · ${connection.reason}`
    : beat;
  setText($("#conn-beat"), detail);
}

// ------------------------------------------------------------------- panels

function setNumber(name, value, digits) {
  const element = field(name);
  if (!element) {
    return;
  }
  setText(element, formatNumber(value, digits));
  if (isNumber(value)) {
    element.dataset.value = String(value);
  } else {
    delete element.dataset.value;
  }
}

function setAsOf(panel, at) {
  const element = $(`[data-asof="${panel}"]`);
  const date = parseTime(at);
  if (element && date) {
    setText(element, `as of ${clockTime(date)}`);
  }
}

function sum(...values) {
  const numbers = values.filter(isNumber);
  return numbers.length ? numbers.reduce((a, b) => a + b, 0) : null;
}

const BANDS = { low: "Low", moderate: "Moderate", high: "High", "very high": "Very High" };
const POLLUTANTS = { no2: "NO₂", pm25: "PM2.5", pm10: "PM10", o3: "O₃", so2: "SO₂" };

function siteName(id) {
  const site = state.sites.get(id);
  return site ? shortName(site.name) : id;
}

function pollutantName(pollutant) {
  const key = String(pollutant || "").toLowerCase().replace(/_ugm3$/, "").replace(".", "");
  return POLLUTANTS[key] || pollutant || "";
}

function onNow(data) {
  setNumber("electricity_total_kw", sum(data.electricity_kw, data.ev_charging_kw));
  setNumber("ev_charging_kw", data.ev_charging_kw);
  setNumber("gas_kw", data.gas_kw);
  setNumber("solar_kw", data.solar_kw);
  setNumber("traffic_vehicles_per_hour", data.traffic_vehicles_per_hour, 0);
  setNumber("active_per_hour", sum(data.bicycles_per_hour, data.pedestrians_per_hour), 0);
  setNumber("bicycles_per_hour", data.bicycles_per_hour, 0);
  setNumber("pedestrians_per_hour", data.pedestrians_per_hour, 0);

  const tile = $("#tile-daqi");
  const daqi = data.worst_daqi;
  if (daqi && isNumber(daqi.index)) {
    const band = String(daqi.band || "").toLowerCase();
    tile.dataset.band = band.replace(/\s+/g, "-") || "none";
    setNumber("daqi_index", daqi.index, 0);
    setText(field("daqi_band"), BANDS[band] || daqi.band || "");
    const pollutant = pollutantName(daqi.pollutant);
    setText(field("daqi_where"), `worst: ${siteName(daqi.site)}${pollutant ? `, ${pollutant}` : ""}`);
    field("daqi_where").dataset.site = daqi.site || "";
  } else {
    tile.dataset.band = "none";
    setNumber("daqi_index", null);
    setText(field("daqi_band"), "no data");
    setText(field("daqi_where"), "no air-quality readings in the last hour");
    field("daqi_where").dataset.site = "";
  }
  if (state.errorAt && parseTime(data.at) > state.errorAt) {
    hideBanner();
  }
}

function onCarbon(data) {
  setNumber("today_kgco2e", data.today_kgco2e);
  setNumber("yesterday_same_time_kgco2e", data.yesterday_same_time_kgco2e);
  const tile = $("#tile-carbon");
  const change = data.change_pct;
  const trend = field("change_pct");
  if (isNumber(change)) {
    const size = formatNumber(Math.abs(change), 1);
    if (Math.abs(change) < 0.05) {
      tile.dataset.trend = "flat";
      setText(trend, "= same");
    } else if (change > 0) {
      tile.dataset.trend = "up";
      setText(trend, `▲ ${size}% more`);
    } else {
      tile.dataset.trend = "down";
      setText(trend, `▼ ${size}% less`);
    }
    trend.dataset.value = String(change);
  } else {
    tile.dataset.trend = "none";
    setText(trend, "no figure for yesterday to compare");
    delete trend.dataset.value;
  }
  $(".compare", tile).hidden = !isNumber(change);
}

function onPipeline(data) {
  setNumber("messages_in_per_s", data.messages_in_per_s, 1);
  setNumber("stored_per_s", data.stored_per_s, 1);
  setNumber("dead_letters_per_s", data.dead_letters_per_s, 2);
  setNumber("write_ms", data.write_ms, 1);
  setNumber("lag_s", data.lag_s, 2);
  setNumber("queue_depth", data.queue_depth, 0);
  setNumber("ingestors", data.ingestors, 0);
  const dead = field("dead_letters_per_s").closest("div");
  dead.dataset.level = isNumber(data.dead_letters_per_s) && data.dead_letters_per_s > 0 ? "attention" : "ok";
  const reasons = Object.entries(data.dead_letters_by_reason || {})
    .filter(([, count]) => isNumber(count) && count > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const list = $("#dead-letter-reasons");
  const items = reasons.length
    ? reasons.map(([reason, count]) => {
      const item = document.createElement("li");
      item.dataset.reason = reason;
      const name = document.createElement("span");
      name.className = "reason";
      name.textContent = reason.replaceAll("_", " ");
      const value = document.createElement("b");
      value.textContent = formatNumber(count, 0);
      item.append(name, value);
      return item;
    })
    : [Object.assign(document.createElement("li"), { className: "empty", textContent: "none" })];
  const signature = reasons.map(([reason, count]) => `${reason}=${count}`).join(";");
  if (list.dataset.signature !== signature) {
    list.dataset.signature = signature;
    list.replaceChildren(...items);
  }
  setAsOf("pipeline", data.at);
}

// ------------------------------------------------------------------- alerts

const KIND_LABELS = {
  daqi_high: "Air quality high",
  sensor_silent: "Sensor silent",
  seq_gap: "Messages lost",
  dead_letter_spike: "Dead-letter spike",
};
const alertItems = new Map(); // id -> <li>
const BASE_TITLE = document.title;

function alertItem(alert, cleared) {
  let item = alertItems.get(alert.id);
  if (!item) {
    item = document.createElement("li");
    item.className = "alert";
    item.innerHTML = `
      <div class="alert-head">
        <span class="sev"><span class="sev-icon" aria-hidden="true"></span><span class="sev-text"></span></span>
        <span class="kind"></span>
        <span class="where"></span>
      </div>
      <p class="msg"></p>
      <p class="when"></p>`;
    alertItems.set(alert.id, item);
  }
  item.dataset.alertId = alert.id;
  item.dataset.kind = alert.kind;
  item.dataset.severity = alert.severity;
  item.dataset.state = cleared ? "cleared" : "active";
  if (alert.sensor) {
    item.dataset.sensor = alert.sensor;
  }
  if (alert.site) {
    item.dataset.site = alert.site;
  }
  setText($(".sev-text", item), alert.severity === "critical" ? "Critical" : "Warning");
  setText($(".kind", item), KIND_LABELS[alert.kind] || String(alert.kind).replaceAll("_", " "));
  const where = [alert.site ? siteName(alert.site) : null, alert.sensor].filter(Boolean).join(" · ");
  setText($(".where", item), where);
  setText($(".msg", item), alert.message || "");
  const since = parseTime(alert.since);
  const clearedAt = parseTime(alert.cleared_at);
  const current = now();
  let when;
  if (cleared) {
    const lasted = since && clearedAt ? ` after ${formatDuration((clearedAt - since) / 1000)}` : "";
    when = `cleared ${shortTime(clearedAt, current)}${lasted} · began ${shortTime(since, current)}`;
  } else {
    when = since ? `since ${shortTime(since, current)} (${formatDuration((current - since) / 1000)})` : "";
  }
  setText($(".when", item), when);
  return item;
}

function syncList(list, alerts, cleared) {
  const wanted = alerts.map((alert) => alertItem(alert, cleared));
  const keep = new Set(wanted);
  for (const child of [...list.children]) {
    if (!keep.has(child)) {
      child.remove();
    }
  }
  wanted.forEach((item, index) => {
    if (list.children[index] !== item) {
      list.insertBefore(item, list.children[index] || null);
    }
  });
}

function renderAlerts(data) {
  const severity = { critical: 0, warning: 1 };
  const active = [...(data.active || [])].sort((a, b) =>
    (severity[a.severity] ?? 2) - (severity[b.severity] ?? 2)
    || String(b.since).localeCompare(String(a.since)) || String(a.id).localeCompare(String(b.id)));
  const cleared = [...(data.cleared || [])].sort((a, b) =>
    String(b.cleared_at).localeCompare(String(a.cleared_at)) || String(a.id).localeCompare(String(b.id)));
  const ids = new Set([...active, ...cleared].map((alert) => alert.id));
  for (const id of [...alertItems.keys()]) {
    if (!ids.has(id)) {
      alertItems.delete(id);
    }
  }
  syncList($("#alerts-active"), active, false);
  syncList($("#alerts-cleared"), cleared, true);
  $("#alerts-none").hidden = active.length > 0;
  $("#cleared-title").hidden = cleared.length === 0;
  const badge = $("#alert-count");
  setText(badge, String(active.length));
  badge.dataset.count = String(active.length);
  badge.dataset.level = active.some((a) => a.severity === "critical") ? "critical" : active.length ? "warning" : "none";
  // A laptop tab shows the count too.
  const title = `${active.length ? `(${active.length}) ` : ""}${BASE_TITLE}`;
  if (document.title !== title) {
    document.title = title;
  }
}

function onAlerts(data) {
  state.alerts = data;
  renderAlerts(data);
  setAsOf("alerts", data.at);
}

// ------------------------------------------------------------------ sensors

let schematic = null;
const ATTENTION_LIMIT = 6;

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

function onSensors(data) {
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

// ----------------------------------------------------------------- hello etc.

function onHello(data) {
  state.sites = new Map((data.sites || []).map((site) => [site.id, site]));
  if (isNumber(data.refresh_s)) {
    state.refreshS = data.refresh_s;
  }
  if (isNumber(data.heartbeat_s)) {
    state.heartbeatS = data.heartbeat_s;
    stream.setHeartbeat(data.heartbeat_s);
  }
  const serverTime = parseTime(data.server_time);
  if (serverTime) {
    const offset = serverTime.getTime() - Date.now();
    state.clockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
    state.lastHeartbeat = serverTime;
  }
  schematic.setRegistry(data.sites || [], data.sensors || []);
}

function onHeartbeat(data) {
  state.lastHeartbeat = parseTime(data.at) || now();
}

function showBanner(text) {
  const banner = $("#banner");
  setText(banner, text);
  banner.hidden = false;
}

function hideBanner() {
  state.errorAt = null;
  $("#banner").hidden = true;
}

function onError(data) {
  const message = data.message || data.detail || "the server could not compute the panels";
  const failed = Array.isArray(data.failed) && data.failed.length ? ` (${data.failed.join(", ")})` : "";
  state.errorAt = parseTime(data.at) || now();
  showBanner(`Live data problem at ${clockTime(state.errorAt)}${failed}: ${message}. `
    + "The panels it names may be out of date.");
}

function onSeries(data) {
  setAsOf("series", data.at);
  if (state.charts) {
    state.charts.update(data);
  } else {
    state.pendingSeries.set(data.window, data);
  }
}

const HANDLERS = {
  hello: onHello,
  now: onNow,
  series: onSeries,
  sensors: onSensors,
  pipeline: onPipeline,
  alerts: onAlerts,
  carbon: onCarbon,
  heartbeat: onHeartbeat,
  error: onError,
};

function onMessage(message) {
  state.lastEventAt = performance.now();
  const handler = HANDLERS[message.event];
  if (!handler) {
    return; // an event this page does not know: newer server, ignore
  }
  let data;
  try {
    data = JSON.parse(message.data);
  } catch {
    return;
  }
  if (message.event !== "heartbeat" && message.event !== "error") {
    state.lastStateAt = performance.now();
  }
  handler(data);
  document.body.dataset.lastEvent = message.event;
  if (message.id !== null) {
    document.body.dataset.lastEventId = message.id;
  }
}

function onState(next) {
  const previous = state.connection.state;
  state.connection = next;
  if (next.state === "live") {
    state.lastEventAt = performance.now();
  }
  if (next.state === "connecting") {
    state.sentKey = keyStore.get();
  }
  if (next.state === "unauthorized") {
    const refused = Boolean(state.sentKey);
    if (refused) {
      keyStore.clear();
    }
    if (!state.keyDialogDismissed || refused) {
      askForKey(refused);
    }
  } else if (previous === "unauthorized" && $("#key-dialog").open) {
    $("#key-dialog").close();
  }
  updateKeyButtons();
  renderConnection();
}

// ------------------------------------------------------------------- charts

async function loadCharts() {
  const root = $("#charts");
  const ready = $('meta[name="smartplace-charts"]')?.content === "ready";
  const missing = () => {
    root.dataset.charts = "missing";
    $("#charts-missing").hidden = false;
    staticLegends(root);
  };
  if (!ready) {
    missing();
    return;
  }
  try {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = UPLOT_CSS;
    document.head.append(link);
    const { default: uPlot } = await import(UPLOT_MODULE);
    state.charts = new ChartSet(uPlot, root);
    root.dataset.charts = "ready";
    for (const data of state.pendingSeries.values()) {
      state.charts.update(data);
    }
    state.pendingSeries.clear();
  } catch {
    missing();
  }
}

// --------------------------------------------------------------------- start

const stream = new LiveStream({
  url: LIVE_URL,
  getKey: () => keyStore.get(),
  onMessage,
  onState,
});

function start() {
  schematic = new Schematic($("#schematic"), $("#schematic-desc"));
  setUpKeyForm(stream);
  updateKeyButtons();
  tickClock();
  setInterval(tickClock, 1000);
  loadCharts();
  stream.start();
}

start();
