// The operations dashboard: reads GET /api/v1/live (see docs/live.md) and keeps the
// panels up to date. Plain ES modules, no build step. This module is the wiring: it
// routes each event to the module that owns its panel and starts the page.

import { setUpAlertActions } from "./alert-actions.js";
import { onAlerts } from "./alerts.js";
import { loadCharts, onNowFigures, onSeries } from "./charts-panel.js";
import { isNumber, parseTime } from "./format.js";
import { renderConnection, tickClock } from "./header.js";
import { followConnection, keyStore, setUpKeyForm, updateKeyButtons } from "./keys.js";
import { onCarbon, onError, onNow, onPipeline } from "./panels.js";
import { onSensors, setSensorRegistry, setUpSensors } from "./sensors-panel.js";
import { LiveStream } from "./sse.js";
import { now, state } from "./state.js";

const LIVE_URL = "/api/v1/live";

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
  setSensorRegistry(data.sites || [], data.sensors || []);
}

function onHeartbeat(data) {
  state.lastHeartbeat = parseTime(data.at) || now();
}

const HANDLERS = {
  hello: onHello,
  now: (data) => {
    onNow(data);
    onNowFigures();
  },
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
  followConnection(previous, next);
  renderConnection();
}

const stream = new LiveStream({
  url: LIVE_URL,
  getKey: () => keyStore.get(),
  onMessage,
  onState,
});

function start() {
  setUpSensors();
  setUpAlertActions();
  setUpKeyForm(stream);
  updateKeyButtons();
  tickClock();
  setInterval(tickClock, 1000);
  loadCharts();
  stream.start();
}

start();
