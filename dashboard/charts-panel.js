// The trends panel: loads uPlot from /dashboard/vendor/uplot/ (served by the API out of
// dashboard/node_modules), and the range picker: 1 h and 24 h come with the stream
// (`series` events), 7 days and custom ranges from GET /api/v1/live/series (docs/live.md).
// Without uPlot the page says that the charts need the set-up and shows the legends alone.

import { apiRequest } from "./api.js";
import { staticLegends } from "./chart-legend.js";
import { ChartSet } from "./charts.js";
import { fromLondonInput, parseTime, setText, shortTime, stepWords, toLondonInput } from "./format.js";
import { $, setAsOf, state } from "./state.js";

const UPLOT_MODULE = "/dashboard/vendor/uplot/uPlot.esm.js";
const UPLOT_CSS = "/dashboard/vendor/uplot/uPlot.min.css";
const WEEK_REFRESH_MS = 5 * 60_000;
const LABELS = { "1h": "last hour", "24h": "last 24 hours", "7d": "last 7 days" };

let charts = null;
let uPlotLib = null;
const streamed = new Map(); // "1h" | "24h" -> the latest `series` event
let range = "1h";
let fetched = null; // the latest /live/series answer for 7d or custom, with its label
let weekTimer = null;

export async function loadCharts() {
  const root = $("#charts");
  setUpPicker();
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
    uPlotLib = uPlot;
    charts = new ChartSet(uPlot, root);
    root.dataset.charts = "ready";
    draw();
  } catch {
    missing();
  }
}

/** uPlot, once loaded (null without it): the sensor view draws with it too. */
export function uPlotLoaded() {
  return uPlotLib;
}

export function onSeries(data) {
  streamed.set(data.window, data);
  if (data.window === range) {
    setAsOf("series", data.at);
    draw();
  }
}

/** The tiles changed: move the marks on the last-hour charts. */
export function onNowFigures() {
  if (range === "1h") {
    draw();
  }
}

function draw() {
  const root = $("#charts");
  const series = range === "1h" || range === "24h" ? streamed.get(range) : fetched?.data;
  root.dataset.range = range;
  if (!series) {
    return;
  }
  const label = fetched && (range === "7d" || range === "custom") ? fetched.label : LABELS[range];
  const marks = range === "1h" ? state.nowFigures : null;
  // On the last hour every chart runs to the tiles' moment, marked or not, so they line up.
  const endMs = Math.max(parseTime(series.end)?.getTime() ?? 0, marks?.at?.getTime() ?? 0);
  const meta = { label, stepS: series.step_s, startMs: parseTime(series.start)?.getTime(), endMs };
  root.dataset.shownRange = range;
  const note = marks
    ? `${capitalise(label)} in 1-minute steps. The bold dashes at the right are the figures above: means of the last 5 minutes.`
    : `${capitalise(label)} in ${stepWords(series.step_s)} steps.`;
  setText($("#range-note"), note);
  charts?.show(series, meta, marks);
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}


function setUpPicker() {
  const picker = $(".range-picker");
  const form = $("#custom-range");
  picker.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-range]");
    if (!button) {
      return;
    }
    if (button.dataset.range === "custom") {
      const open = form.hidden;
      form.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) {
        const end = new Date();
        form.elements.end.value = form.elements.end.value || toLondonInput(end);
        form.elements.start.value = form.elements.start.value
          || toLondonInput(new Date(end.getTime() - 3 * 86400_000));
        form.elements.start.focus();
      }
      return;
    }
    choose(button.dataset.range);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const start = fromLondonInput(form.elements.start.value);
    const end = fromLondonInput(form.elements.end.value);
    const error = $("#range-error");
    if (!start || !end || end <= start) {
      error.hidden = false;
      setText(error, "Choose a start before the end.");
      return;
    }
    error.hidden = true;
    const label = `${shortTime(start, new Date(0))} to ${shortTime(end, new Date(0))}`;
    choose("custom", { start, end, label });
  });
}

async function choose(next, custom) {
  range = next;
  for (const button of document.querySelectorAll(".range-picker button[data-range]")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === next));
  }
  clearInterval(weekTimer);
  weekTimer = null;
  fetched = null;
  if (next === "7d") {
    await fetchRange(new Date(Date.now() - 7 * 86400_000), null, LABELS["7d"]);
    weekTimer = setInterval(() => fetchRange(new Date(Date.now() - 7 * 86400_000), null,
      LABELS["7d"]), WEEK_REFRESH_MS);
  } else if (next === "custom") {
    await fetchRange(custom.start, custom.end, custom.label);
  } else {
    const latest = streamed.get(next);
    if (latest) {
      setAsOf("series", latest.at);
    }
    draw();
  }
}

async function fetchRange(start, end, label) {
  const shown = range;
  const query = new URLSearchParams({ start: start.toISOString() });
  if (end) {
    query.set("end", end.toISOString());
  }
  $("#charts").dataset.loading = "true";
  const answer = await apiRequest(`/api/v1/live/series?${query}`);
  delete $("#charts").dataset.loading;
  if (range !== shown) {
    return; // another range was chosen meanwhile
  }
  const error = $("#range-error");
  if (!answer.ok) {
    error.hidden = false;
    setText(error, `Could not load that range: ${answer.message}.`);
    $("#custom-range").hidden = false;
    return;
  }
  error.hidden = true;
  fetched = { data: answer.data, label };
  setAsOf("series", answer.data.at);
  draw();
}
