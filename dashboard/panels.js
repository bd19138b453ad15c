// The figures: energy, traffic, air quality, carbon and the ingest pipeline, and the
// banner that says when the server could not compute them.

import { clockTime, formatNumber, isNumber, parseTime, setText, shortTime } from "./format.js";
import { $, field, now, setAsOf, siteName, state } from "./state.js";

const WINDOW_LABELS = { "5m": { energy: "5-min mean", traffic: "5-min rate" } };

/** Each tile says the window its figure covers and when it ends (docs/live.md, `now`). */
function setWindows(data) {
  const at = parseTime(data.at);
  for (const element of document.querySelectorAll('.tile [data-window="5m"]')) {
    const kind = element.closest(".tile").dataset.kind;
    const label = WINDOW_LABELS["5m"][kind] || "5-min mean";
    setText(element, at ? `${label} to ${shortTime(at, at)}` : label);
    element.dataset.start = at ? new Date(at.getTime() - 5 * 60_000).toISOString() : "";
    element.dataset.end = at ? at.toISOString() : "";
  }
}

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

function sum(...values) {
  const numbers = values.filter(isNumber);
  return numbers.length ? numbers.reduce((a, b) => a + b, 0) : null;
}

const BANDS = { low: "Low", moderate: "Moderate", high: "High", "very high": "Very High" };
const POLLUTANTS = { no2: "NO₂", pm25: "PM2.5", pm10: "PM10", o3: "O₃", so2: "SO₂" };

function pollutantName(pollutant) {
  const key = String(pollutant || "").toLowerCase().replace(/_ugm3$/, "").replace(".", "");
  return POLLUTANTS[key] || pollutant || "";
}

export function onNow(data) {
  const electricity = sum(data.electricity_kw, data.ev_charging_kw);
  const active = sum(data.bicycles_per_hour, data.pedestrians_per_hour);
  // The charts mark these on their last five minutes, so that both visibly agree.
  state.nowFigures = {
    at: parseTime(data.at),
    energy: [electricity, data.gas_kw ?? null, data.solar_kw ?? null],
    traffic: [data.traffic_vehicles_per_hour ?? null, active],
  };
  setWindows(data);
  setNumber("electricity_total_kw", electricity);
  setNumber("ev_charging_kw", data.ev_charging_kw);
  setNumber("gas_kw", data.gas_kw);
  setNumber("solar_kw", data.solar_kw);
  setNumber("traffic_vehicles_per_hour", data.traffic_vehicles_per_hour, 0);
  setNumber("active_per_hour", active, 0);
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
  if (errorAt && parseTime(data.at) > errorAt) {
    hideBanner();
  }
}

export function onCarbon(data) {
  const at = parseTime(data.at);
  const start = parseTime(data.today_start);
  setText($('#tile-carbon [data-window="today"]'),
    start && at ? `${shortTime(start, start)} to ${shortTime(at, at)} today` : "since midnight");
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

export function onPipeline(data) {
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

let errorAt = null; // when the last `error` event happened, while its banner shows

function showBanner(text) {
  const banner = $("#banner");
  setText(banner, text);
  banner.hidden = false;
}

function hideBanner() {
  errorAt = null;
  $("#banner").hidden = true;
}

/** An `error` event: the banner stays until a `now` newer than the error arrives. */
export function onError(data) {
  const message = data.message || data.detail || "the server could not compute the panels";
  const failed = Array.isArray(data.failed) && data.failed.length ? ` (${data.failed.join(", ")})` : "";
  errorAt = parseTime(data.at) || now();
  showBanner(`Live data problem at ${clockTime(errorAt)}${failed}: ${message}. `
    + "The panels it names may be out of date.");
}
