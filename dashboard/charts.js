// The six trend charts (energy, traffic, NO2; last hour and 24 hours), drawn with uPlot.
//
// uPlot is passed in by charts-panel.js, which imports it from /dashboard/vendor/uplot/
// (served by the API out of dashboard/node_modules/uplot/dist, installed by `npm ci`).
// Series are told apart by colour (Okabe-Ito), dash pattern and the labelled legend.

import { TIME_ZONE, formatCompact, formatNumber, isNumber, setText, shortTime } from "./format.js";

export const OKABE_ITO = {
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
};

/** What each chart plots: the `series` event's key and its columns after the time. */
export const CHART_KINDS = {
  energy: {
    title: "Energy",
    key: "energy_kw",
    unit: "kW",
    series: [
      { label: "Electricity + EV", stroke: OKABE_ITO.skyBlue, dash: [] },
      { label: "Gas", stroke: OKABE_ITO.orange, dash: [10, 5] },
      { label: "Solar", stroke: OKABE_ITO.yellow, dash: [3, 4] },
    ],
  },
  traffic: {
    title: "Traffic",
    key: "traffic_vph",
    unit: "per hour",
    series: [
      { label: "Vehicles", stroke: OKABE_ITO.skyBlue, dash: [] },
      { label: "Bicycles + pedestrians", stroke: OKABE_ITO.bluishGreen, dash: [10, 5] },
    ],
  },
  no2: {
    title: "NO₂",
    key: "no2_ugm3",
    unit: "µg/m³",
    series: [{ label: "Mean of monitors", stroke: OKABE_ITO.reddishPurple, dash: [] }],
  },
};

const WINDOW_LABELS = { "1h": "last hour", "24h": "24 hours" };
const AXIS_COLOUR = "#aab6c2";
const GRID_COLOUR = "rgba(255, 255, 255, 0.08)";
const AXIS_FONT = "13px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

const tickTime = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const tickDay = new Intl.DateTimeFormat("en-GB", { timeZone: TIME_ZONE, weekday: "short", day: "numeric" });

function timeTicks(u, splits) {
  return splits.map((seconds) => {
    const date = new Date(seconds * 1000);
    const time = tickTime.format(date);
    return time === "00:00" ? tickDay.format(date) : time;
  });
}

/** Rows `[[t_ms, a, b, ...], ...]` to uPlot's columns `[[t_s...], [a...], [b...]]`. */
export function toColumns(rows, seriesCount) {
  const sorted = Array.isArray(rows) ? [...rows].sort((a, b) => a[0] - b[0]) : [];
  const columns = [sorted.map((row) => row[0] / 1000)];
  for (let i = 1; i <= seriesCount; i += 1) {
    columns.push(sorted.map((row) => (isNumber(row[i]) ? row[i] : null)));
  }
  return columns;
}

function lastValue(column) {
  for (let i = column.length - 1; i >= 0; i -= 1) {
    if (isNumber(column[i])) {
      return { value: column[i], index: i };
    }
  }
  return null;
}

function swatch(spec) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 28 8");
  svg.setAttribute("class", "swatch");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(ns, "line");
  line.setAttribute("x1", "1");
  line.setAttribute("x2", "27");
  line.setAttribute("y1", "4");
  line.setAttribute("y2", "4");
  line.setAttribute("stroke", spec.stroke);
  line.setAttribute("stroke-width", "3");
  if (spec.dash.length) {
    line.setAttribute("stroke-dasharray", spec.dash.join(" "));
  }
  svg.append(line);
  return svg;
}

/** One uPlot chart in a `<figure class="chart" data-chart=... data-window=...>`. */
class TrendChart {
  constructor(uPlot, figure) {
    this.figure = figure;
    this.kind = CHART_KINDS[figure.dataset.chart];
    this.window = figure.dataset.window;
    this.plot = figure.querySelector(".plot");
    this.data = toColumns([], this.kind.series.length);
    this.legendValues = [];
    this.buildLegend();
    this.empty = document.createElement("p");
    this.empty.className = "plot-empty";
    this.empty.textContent = "No data yet";
    this.plot.append(this.empty);

    const size = this.size();
    const yRange = (u, min, max) => {
      const top = isNumber(max) && max > 0 ? max : 1;
      return [0, uPlot.rangeNum(0, top, 0.1, true)[1]];
    };
    this.chart = new uPlot({
      width: size.width,
      height: size.height,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), TIME_ZONE),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      scales: { x: { time: true }, y: { range: yRange } },
      axes: [
        {
          stroke: AXIS_COLOUR, font: AXIS_FONT, values: timeTicks,
          grid: { stroke: GRID_COLOUR, width: 1 }, ticks: { stroke: GRID_COLOUR, width: 1 },
        },
        {
          stroke: AXIS_COLOUR, font: AXIS_FONT, size: 52,
          values: (u, splits) => {
            const step = splits.length > 1 ? splits[1] - splits[0] : 1;
            return splits.map((value) => formatCompact(value, step));
          },
          grid: { stroke: GRID_COLOUR, width: 1 }, ticks: { stroke: GRID_COLOUR, width: 1 },
        },
      ],
      series: [
        {},
        ...this.kind.series.map((spec) => ({
          label: spec.label, stroke: spec.stroke, width: 2, dash: spec.dash, spanGaps: false,
          points: { show: (u, seriesIndex, i0, i1) => i1 - i0 < 40 },
        })),
      ],
      hooks: { setCursor: [(u) => this.showLegendValues(u.cursor.idx)] },
    }, this.data, this.plot);
    new ResizeObserver(() => this.resize()).observe(this.plot);
  }

  buildLegend() {
    const legend = this.figure.querySelector(".legend");
    legend.replaceChildren();
    for (const spec of this.kind.series) {
      const item = document.createElement("span");
      item.className = "legend-item";
      const value = document.createElement("b");
      value.textContent = "—";
      item.append(swatch(spec), ` ${spec.label} `, value);
      legend.append(item);
      this.legendValues.push(value);
    }
  }

  size() {
    return {
      width: Math.max(120, Math.floor(this.plot.clientWidth)),
      height: Math.max(80, Math.floor(this.plot.clientHeight)),
    };
  }

  resize() {
    const { width, height } = this.size();
    if (width !== this.chart.width || height !== this.chart.height) {
      this.chart.setSize({ width, height });
    }
  }

  /** Legend numbers: the hovered bucket's, else the latest of each series. */
  showLegendValues(index) {
    this.kind.series.forEach((spec, i) => {
      const column = this.data[i + 1];
      let value = null;
      if (index !== null && index !== undefined && index >= 0) {
        value = column[index];
      } else {
        value = lastValue(column)?.value ?? null;
      }
      setText(this.legendValues[i], formatNumber(value));
    });
  }

  update(rows) {
    this.data = toColumns(rows, this.kind.series.length);
    this.chart.setData(this.data);
    const latest = this.kind.series.map((spec, i) => lastValue(this.data[i + 1]));
    const hasData = latest.some((found) => found !== null);
    this.empty.hidden = hasData;
    this.showLegendValues(this.chart.cursor.idx);
    const title = `${this.kind.title}, ${WINDOW_LABELS[this.window]}`;
    if (!hasData) {
      this.plot.setAttribute("aria-label", `${title}: no data yet`);
      return;
    }
    const parts = this.kind.series.map((spec, i) =>
      `${spec.label} ${formatNumber(latest[i]?.value ?? null)} ${this.kind.unit}`);
    const index = Math.max(...latest.map((found) => found?.index ?? -1));
    const at = shortTime(new Date(this.data[0][index] * 1000));
    this.plot.setAttribute("aria-label", `${title}, latest at ${at}: ${parts.join(", ")}`);
  }
}

/** All six charts; `update(seriesEvent)` routes a `series` event to its window's charts. */
export class ChartSet {
  constructor(uPlot, root) {
    this.charts = [...root.querySelectorAll("figure.chart")].map((figure) => new TrendChart(uPlot, figure));
  }

  update(event) {
    for (const chart of this.charts) {
      if (chart.window === event.window) {
        chart.update(event[chart.kind.key]);
      }
    }
  }
}

/** Without uPlot: still show the legends so the panel explains itself. */
export function staticLegends(root) {
  for (const figure of root.querySelectorAll("figure.chart")) {
    const kind = CHART_KINDS[figure.dataset.chart];
    const legend = figure.querySelector(".legend");
    legend.replaceChildren(...kind.series.map((spec) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      item.append(swatch(spec), ` ${spec.label}`);
      return item;
    }));
  }
}
