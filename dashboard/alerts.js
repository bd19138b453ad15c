// The alerts panel: active alerts (worst and newest first) and those cleared in the last
// hour. Each alert keeps its <li> while it lasts, so the aria-live region announces only
// the alerts that really came or went.

import { formatDuration, parseTime, setText, shortTime } from "./format.js";
import { $, now, setAsOf, siteName } from "./state.js";

const KIND_LABELS = {
  daqi_high: "Air quality high",
  sensor_silent: "Sensor silent",
  seq_gap: "Messages lost",
  dead_letter_spike: "Dead-letter spike",
};
const alertItems = new Map(); // id -> <li>
const BASE_TITLE = document.title;
let latest = null; // the last `alerts` event

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

export function onAlerts(data) {
  latest = data;
  renderAlerts(data);
  setAsOf("alerts", data.at);
}

/** Redraw the last alerts so that their "since ... (5 min)" keeps counting. */
export function refreshAlerts() {
  if (latest) {
    renderAlerts(latest);
  }
}
