// The alerts panel: active alerts (worst and newest first) and those cleared in the last
// hour, each with its lifecycle: acknowledged (who, when), silenced (until when), and the
// operator's buttons (alert-actions.js). Each alert keeps its <li> while it lasts, so the
// aria-live region announces only the alerts that really came or went.
//
// A burst cannot take over the panel: past GROUP_FROM alerts of one kind, they are shown
// as one group ("Sensor silent: 40 sensors") whose members open on request.

import { bindAlertActions } from "./alert-actions.js";
import { formatDuration, parseTime, setText, shortTime } from "./format.js";
import { $, now, setAsOf, siteName } from "./state.js";

export const KIND_LABELS = {
  daqi_high: "Air quality high",
  sensor_silent: "Sensor silent",
  seq_gap: "Messages lost",
  dead_letter_spike: "Dead-letter spike",
  ingest_dropping: "Ingest dropping messages",
};
const GROUP_FROM = 4;
const GROUP_SHOWN = 8;
const alertItems = new Map(); // id -> <li>
const groupItems = new Map(); // kind -> <li>
const BASE_TITLE = document.title;
let latest = null; // the last `alerts` event

const ITEM_HTML = `
  <div class="alert-head">
    <span class="sev"><span class="sev-icon" aria-hidden="true"></span><span class="sev-text"></span></span>
    <span class="kind"></span>
    <span class="where"></span>
  </div>
  <p class="msg"></p>
  <p class="when"></p>
  <p class="life"></p>
  <div class="alert-actions"></div>`;

function lifeText(alert, current) {
  const parts = [];
  if (alert.acknowledged) {
    const at = parseTime(alert.acknowledged.at);
    const note = alert.acknowledged.note ? `: “${alert.acknowledged.note}”` : "";
    parts.push(`Acknowledged by ${alert.acknowledged.by} at ${shortTime(at, current)}${note}`);
  }
  if (alert.silenced) {
    const until = parseTime(alert.silenced.until);
    parts.push(`Silenced until ${shortTime(until, current)} by ${alert.silenced.by}`);
  }
  return parts.join(" · ");
}

function alertItem(alert, cleared) {
  let item = alertItems.get(alert.id);
  if (!item) {
    item = document.createElement("li");
    item.className = "alert";
    item.innerHTML = ITEM_HTML;
    alertItems.set(alert.id, item);
  }
  item.dataset.alertId = alert.id;
  item.dataset.kind = alert.kind;
  item.dataset.severity = alert.severity;
  item.dataset.state = cleared ? "cleared" : "active";
  item.dataset.acknowledged = String(Boolean(alert.acknowledged));
  item.dataset.silenced = String(Boolean(alert.silenced));
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
  const life = lifeText(alert, current);
  setText($(".life", item), life);
  $(".life", item).hidden = !life;
  bindAlertActions(item, alert, cleared);
  return item;
}

/** One item for many alerts of a kind: a summary and, on request, the members. */
function groupItem(kind, alerts) {
  let item = groupItems.get(kind);
  if (!item) {
    item = document.createElement("li");
    item.className = "alert alert-group";
    item.innerHTML = `
      <div class="alert-head">
        <span class="sev"><span class="sev-icon" aria-hidden="true"></span><span class="sev-text"></span></span>
        <span class="kind"></span>
      </div>
      <details><summary></summary><ul class="members"></ul></details>`;
    groupItems.set(kind, item);
  }
  const critical = alerts.some((alert) => alert.severity === "critical");
  item.dataset.group = kind;
  item.dataset.severity = critical ? "critical" : "warning";
  item.dataset.count = String(alerts.length);
  setText($(".sev-text", item), critical ? "Critical" : "Warning");
  setText($(".kind", item), `${KIND_LABELS[kind] || kind}: ${alerts.length} at once`);
  const open = alerts.filter((alert) => !alert.acknowledged && !alert.silenced).length;
  setText($("summary", item), `${open} not yet acknowledged; show ${alerts.length > GROUP_SHOWN ? `the first ${GROUP_SHOWN}` : "them"}`);
  const members = alerts.slice(0, GROUP_SHOWN).map((alert) => {
    const member = document.createElement("li");
    member.textContent = alert.message || alert.id;
    member.dataset.alertId = alert.id;
    return member;
  });
  $(".members", item).replaceChildren(...members);
  return item;
}

function syncList(list, wanted) {
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

function activeItems(active) {
  const byKind = new Map();
  for (const alert of active) {
    byKind.set(alert.kind, [...(byKind.get(alert.kind) || []), alert]);
  }
  const items = [];
  const placed = new Set();
  for (const alert of active) {
    const same = byKind.get(alert.kind);
    if (same.length >= GROUP_FROM) {
      if (!placed.has(alert.kind)) {
        placed.add(alert.kind);
        items.push(groupItem(alert.kind, same));
      }
    } else {
      items.push(alertItem(alert, false));
    }
  }
  return items;
}

function renderAlerts(data) {
  const severity = { critical: 0, warning: 1 };
  // Needing attention first: silenced and acknowledged alerts sink.
  const quiet = (alert) => (alert.silenced ? 2 : alert.acknowledged ? 1 : 0);
  const active = [...(data.active || [])].sort((a, b) => quiet(a) - quiet(b)
    || (severity[a.severity] ?? 2) - (severity[b.severity] ?? 2)
    || String(b.since).localeCompare(String(a.since)) || String(a.id).localeCompare(String(b.id)));
  const cleared = [...(data.cleared || [])].sort((a, b) =>
    String(b.cleared_at).localeCompare(String(a.cleared_at)) || String(a.id).localeCompare(String(b.id)));
  const ids = new Set([...active, ...cleared].map((alert) => alert.id));
  for (const id of [...alertItems.keys()]) {
    if (!ids.has(id)) {
      alertItems.delete(id);
    }
  }
  syncList($("#alerts-active"), activeItems(active));
  syncList($("#alerts-cleared"), cleared.slice(0, 20).map((alert) => alertItem(alert, true)));
  $("#alerts-none").hidden = active.length > 0;
  $("#cleared-title").hidden = cleared.length === 0;
  const attention = active.filter((alert) => !alert.acknowledged && !alert.silenced);
  const badge = $("#alert-count");
  setText(badge, String(attention.length));
  badge.dataset.count = String(attention.length);
  badge.dataset.level = attention.some((a) => a.severity === "critical") ? "critical" : attention.length ? "warning" : "none";
  // A laptop tab shows the count too.
  const title = `${attention.length ? `(${attention.length}) ` : ""}${BASE_TITLE}`;
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
