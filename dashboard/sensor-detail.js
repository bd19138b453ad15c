// One sensor's view (a <dialog>): its status and where its figures come from, a chart of
// its last hour, its latest readings, the gaps in its `seq`, and, for operators, retire or
// reinstate. Data: GET /api/v1/sensors/{id} and /api/v1/sensors/{id}/readings.

import { apiRequest } from "./api.js";
import { buildTable } from "./chart-table.js";
import { uPlotLoaded } from "./charts-panel.js";
import { OKABE_ITO, chartAxes } from "./charts.js";
import { TIME_ZONE, clockTime, formatDuration, formatNumber, isNumber, parseTime, setText, shortTime } from "./format.js";
import { $, now, siteName } from "./state.js";

const LAST_READINGS = 10;
const VEHICLE_FIELDS = ["count_car", "count_motorcycle", "count_van", "count_hgv", "count_bus"];
const AIR_FIELDS = [["no2_ugm3", "NO₂"], ["pm25_ugm3", "PM2.5"], ["pm10_ugm3", "PM10"]];
let chart = null;
let current = null; // the sensor id shown

/** What to plot per domain: series of [label, value(reading)] and the unit. */
function plotted(domain, readings) {
  if (domain === "energy") {
    return { unit: "kW", series: [["Mean power", (r) => (isNumber(r.values.energy_kwh) && r.values.interval_s
      ? (r.values.energy_kwh / r.values.interval_s) * 3600 : null)]] };
  }
  if (domain === "transport") {
    return { unit: "vehicles/h", series: [["Vehicles", (r) => (r.values.interval_s
      ? (VEHICLE_FIELDS.reduce((sum, name) => sum + (r.values[name] || 0), 0) / r.values.interval_s) * 3600
      : null)]] };
  }
  const present = AIR_FIELDS.filter(([name]) => readings.some((r) => isNumber(r.values[name])));
  return { unit: "µg/m³", series: present.map(([name, label]) => [label, (r) => r.values[name] ?? null]) };
}

function fact(list, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

function sourceText(sensor) {
  const parts = [sensor.registered ? "in the registry" : "not in the registry: known from its readings"];
  if (sensor.simulated) {
    parts.push("simulated (left out of the figures)");
  }
  if (sensor.retired) {
    parts.push("retired (no alerts, no completeness)");
  }
  return parts.join("; ");
}

function readingsTable(domain, readings) {
  const fields = [...new Set(readings.flatMap((r) => Object.keys(r.values)))];
  const shown = readings.slice(-LAST_READINGS).reverse();
  // Counts and intervals are whole numbers: shown as sent, not as "60.0".
  const text = (value) => (Number.isInteger(value) ? String(value) : formatNumber(value));
  const rows = shown.map((reading) => [clockTime(parseTime(reading.time)), String(reading.seq ?? "—"),
    ...fields.map((name) => text(reading.values[name]))]);
  const table = buildTable(`The last ${shown.length} readings, newest first`,
    ["Time (UK)", "seq", ...fields], rows);
  table.dataset.domain = domain;
  return table;
}

/** A <div class=...> that starts with an <h3>. */
function block(className, title) {
  const box = document.createElement("div");
  box.className = className;
  box.append(Object.assign(document.createElement("h3"), { textContent: title }));
  return box;
}

function gapsBlock(gaps, lost) {
  const box = block("gaps", "Gaps in seq (messages lost before the broker)");
  if (!gaps.length) {
    box.append(Object.assign(document.createElement("p"), { textContent: "None in the last hour." }));
    return box;
  }
  box.append(Object.assign(document.createElement("p"), { textContent: `${lost} lost in the last hour:` }));
  const list = document.createElement("ul");
  for (const gap of gaps.slice(-10).reverse()) {
    list.append(Object.assign(document.createElement("li"), {
      textContent: `${clockTime(parseTime(gap.at))}: seq ${gap.from_seq} → ${gap.to_seq} (${gap.lost} lost)`,
    }));
  }
  box.append(list);
  return box;
}

function drawChart(box, domain, readings) {
  const uPlot = uPlotLoaded();
  const spec = plotted(domain, readings);
  if (!uPlot || !readings.length || !spec.series.length) {
    return;
  }
  const colours = [OKABE_ITO.skyBlue, OKABE_ITO.orange, OKABE_ITO.bluishGreen];
  const data = [readings.map((r) => r.t_ms / 1000), ...spec.series.map(([, value]) => readings.map(value))];
  const figure = document.createElement("figure");
  figure.className = "sensor-chart";
  const caption = document.createElement("figcaption");
  caption.textContent = `Last hour, ${spec.unit}: ${spec.series.map(([label]) => label).join(", ")}`;
  const plot = document.createElement("div");
  plot.className = "plot";
  plot.setAttribute("role", "img");
  const last = spec.series.map(([label], i) => `${label} ${formatNumber(data[i + 1][data[i + 1].length - 1])} ${spec.unit}`);
  plot.setAttribute("aria-label", `${caption.textContent}; latest ${last.join(", ")}. The table below lists the readings.`);
  figure.append(caption, plot);
  box.append(figure);
  chart = new uPlot({
    width: Math.max(280, box.clientWidth - 8), height: 180, legend: { show: false },
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), TIME_ZONE),
    axes: chartAxes(),
    series: [{}, ...spec.series.map(([label], i) => ({ label, stroke: colours[i], width: 2 }))],
  }, data, plot);
}

async function retire(sensorId, retired) {
  const status = $("#sensor-action-status");
  setText(status, retired ? "Retiring…" : "Reinstating…");
  const answer = await apiRequest(`/api/v1/sensors/${encodeURIComponent(sensorId)}/${retired ? "retire" : "reinstate"}`,
    { method: "POST", body: retired ? { reason: $("#retire-reason").value.trim() || null } : undefined });
  setText(status, answer.ok
    ? `${retired ? "Retired" : "Reinstated"} by ${answer.data.by}.`
    : `Could not ${retired ? "retire" : "reinstate"}: ${answer.message}.`);
  if (answer.ok) {
    await openSensor(sensorId, { keepStatus: true });
  }
}

function actions(sensor) {
  const box = block("sensor-actions", "Operator");
  if (!sensor.retired) {
    box.insertAdjacentHTML("beforeend", '<label for="retire-reason">Reason for retiring (optional)</label><input id="retire-reason" type="text" maxlength="500">');
  }
  const button = Object.assign(document.createElement("button"), {
    type: "button", textContent: sensor.retired ? "Reinstate sensor" : "Retire sensor",
  });
  button.addEventListener("click", () => retire(sensor.id, !sensor.retired));
  box.append(button);
  box.append(Object.assign(document.createElement("p"), { id: "sensor-action-status", role: "status" }));
  return box;
}

/** Open the view of one sensor (from the schematic, the attention list or a key press). */
export async function openSensor(sensorId, { keepStatus = false } = {}) {
  const dialog = $("#sensor-dialog");
  const body = $("#sensor-body");
  const previous = keepStatus ? $("#sensor-action-status")?.textContent : "";
  current = sensorId;
  setText($("#sensor-title"), sensorId);
  if (!dialog.open) {
    body.replaceChildren(Object.assign(document.createElement("p"), { textContent: "Loading…" }));
    dialog.showModal();
  }
  const [one, readings] = await Promise.all([
    apiRequest(`/api/v1/sensors/${encodeURIComponent(sensorId)}`),
    apiRequest(`/api/v1/sensors/${encodeURIComponent(sensorId)}/readings`),
  ]);
  if (current !== sensorId) {
    return; // another sensor was opened meanwhile
  }
  if (!one.ok) {
    body.replaceChildren(Object.assign(document.createElement("p"), { textContent: `Could not load ${sensorId}: ${one.message}.` }));
    return;
  }
  const sensor = one.data;
  const facts = document.createElement("dl");
  facts.className = "facts";
  const seen = parseTime(sensor.last_seen);
  fact(facts, "Status", sensor.status + (sensor.retired ? " (retired)" : ""));
  fact(facts, "Last reading", seen ? `${shortTime(seen, now())} (${formatDuration(sensor.age_s)} ago)` : "never seen");
  fact(facts, "Site", sensor.site_name ? siteName(sensor.site) : sensor.site);
  fact(facts, "Measures", sensor.domain.replace("_", " ") + (sensor.carrier ? `, ${sensor.carrier.replace("_", " ")}` : ""));
  fact(facts, "Expected every", sensor.interval_s ? `${sensor.interval_s} s` : "not known");
  fact(facts, "Source", sourceText(sensor));
  const parts = [facts];
  if (readings.ok) {
    const list = readings.data.readings || [];
    const chartBox = document.createElement("div");
    parts.push(chartBox);
    if (list.length) {
      parts.push(readingsTable(readings.data.domain, list));
    } else {
      parts.push(Object.assign(document.createElement("p"), { textContent: "No readings in the last hour." }));
    }
    parts.push(gapsBlock(readings.data.seq_gaps || [], readings.data.lost || 0));
    body.replaceChildren(...parts, actions(sensor));
    chart?.destroy();
    chart = null;
    drawChart(chartBox, readings.data.domain, list);
  } else {
    parts.push(Object.assign(document.createElement("p"), { textContent: `Readings: ${readings.message}.` }));
    body.replaceChildren(...parts, actions(sensor));
  }
  if (previous) {
    setText($("#sensor-action-status"), previous);
  }
}
