// The trends panel: loads uPlot from /dashboard/vendor/uplot/ (served by the API out of
// dashboard/node_modules) and hands it the `series` events; without uPlot the page says
// that the charts need the set-up and shows the legends alone.

import { ChartSet, staticLegends } from "./charts.js";
import { $, setAsOf } from "./state.js";

const UPLOT_MODULE = "/dashboard/vendor/uplot/uPlot.esm.js";
const UPLOT_CSS = "/dashboard/vendor/uplot/uPlot.min.css";

let charts = null;
const pendingSeries = new Map(); // window -> the latest `series` that came before uPlot

export async function loadCharts() {
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
    charts = new ChartSet(uPlot, root);
    root.dataset.charts = "ready";
    for (const data of pendingSeries.values()) {
      charts.update(data);
    }
    pendingSeries.clear();
  } catch {
    missing();
  }
}

export function onSeries(data) {
  setAsOf("series", data.at);
  if (charts) {
    charts.update(data);
  } else {
    pendingSeries.set(data.window, data);
  }
}
