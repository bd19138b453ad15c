// The three trend charts (energy, traffic, NO2) over the range the picker chose, drawn
// with uPlot; each has a table alternative (chart-table.js).
//
// uPlot is passed in by charts-panel.js, which imports it from /dashboard/vendor/uplot/
// (served by the API out of dashboard/node_modules/uplot/dist, installed by `npm ci`).
// Series are told apart by colour (Okabe-Ito), dash pattern and the labelled legend.
// On the last hour, the tiles' figures (5-minute means) are drawn over their own five
// minutes as short bold dashes on a shaded band, so the figure above and the line
// below visibly agree.

import { buildLegend } from "./chart-legend.js";
import { ChartTable } from "./chart-table.js";
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

const MARK_BAND = "rgba(255, 255, 255, 0.07)";
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

/** uPlot's axes as every chart here draws them: UK times (the day at midnight), compact values. */
export function chartAxes() {
  const lines = { grid: { stroke: GRID_COLOUR, width: 1 }, ticks: { stroke: GRID_COLOUR, width: 1 } };
  return [
    { stroke: AXIS_COLOUR, font: AXIS_FONT, values: timeTicks, ...lines },
    {
      stroke: AXIS_COLOUR, font: AXIS_FONT, size: 52, ...lines,
      values: (u, splits) => {
        const step = splits.length > 1 ? splits[1] - splits[0] : 1;
        return splits.map((value) => formatCompact(value, step));
      },
    },
  ];
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

/** One uPlot chart in a `<figure class="chart" data-chart=...>`. */
class TrendChart {
  constructor(uPlot, figure) {
    this.figure = figure;
    this.kind = CHART_KINDS[figure.dataset.chart];
    this.plot = figure.querySelector(".plot");
    this.table = new ChartTable(figure, this.kind);
    this.data = toColumns([], this.kind.series.length);
    this.meta = { label: "last hour", start: null, end: null };
    this.marks = null; // [{value, startS, endS}] per series, or null
    this.legendValues = buildLegend(figure, this.kind);
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
      scales: {
        x: { time: true, range: (u, min, max) => this.xRange(min, max) },
        y: { range: yRange },
      },
      axes: chartAxes(),
      series: [
        {},
        ...this.kind.series.map((spec) => ({
          label: spec.label, stroke: spec.stroke, width: 2, dash: spec.dash, spanGaps: false,
          points: { show: (u, seriesIndex, i0, i1) => i1 - i0 < 40 },
        })),
      ],
      hooks: {
        setCursor: [(u) => this.showLegendValues(u.cursor.idx)],
        draw: [(u) => this.drawMarks(u)],
      },
    }, this.data, this.plot);
    new ResizeObserver(() => this.resize()).observe(this.plot);
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

  /** The x range: the range asked for (on the last hour, up to the tiles' moment). */
  xRange(min, max) {
    return [this.meta.start ?? min, this.meta.end ?? max];
  }

  /** The tiles' figures over their five minutes: a shaded band and a bold dash per series. */
  drawMarks(u) {
    if (!this.marks) {
      return;
    }
    const { ctx } = u;
    const top = u.bbox.top;
    const height = u.bbox.height;
    ctx.save();
    this.marks.forEach((mark, i) => {
      if (!mark || !isNumber(mark.value)) {
        return;
      }
      const x0 = u.valToPos(mark.startS, "x", true);
      const x1 = u.valToPos(mark.endS, "x", true);
      const y = u.valToPos(mark.value, "y", true);
      if (i === 0) {
        ctx.fillStyle = MARK_BAND;
        ctx.fillRect(x0, top, x1 - x0, height);
      }
      ctx.strokeStyle = this.kind.series[i].stroke;
      ctx.lineWidth = 4 * (window.devicePixelRatio || 1);
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x0, y);
      ctx.lineTo(x1, y);
      ctx.stroke();
    });
    ctx.restore();
  }

  /**
   * New rows for the chart.
   * @param {Array} rows `[[t_ms, a, b, ...], ...]`
   * @param {{label: string, startMs: number, endMs: number, stepS: number}} meta
   * @param {Array|null} marks the tiles' figures per series (last hour only), or null
   */
  update(rows, meta, marks) {
    this.data = toColumns(rows, this.kind.series.length);
    this.meta = {
      label: meta.label, stepS: meta.stepS,
      start: isNumber(meta.startMs) ? meta.startMs / 1000 : null,
      end: isNumber(meta.endMs) ? meta.endMs / 1000 : null,
    };
    this.marks = marks;
    this.chart.setData(this.data);
    this.table.update(this.data, meta);
    const latest = this.kind.series.map((spec, i) => lastValue(this.data[i + 1]));
    const hasData = latest.some((found) => found !== null);
    this.empty.hidden = hasData;
    this.showLegendValues(this.chart.cursor.idx);
    const title = `${this.kind.title}, ${meta.label}`;
    if (!hasData) {
      this.plot.setAttribute("aria-label", `${title}: no data yet`);
      return;
    }
    const parts = this.kind.series.map((spec, i) =>
      `${spec.label} ${formatNumber(latest[i]?.value ?? null)} ${this.kind.unit}`);
    const index = Math.max(...latest.map((found) => found?.index ?? -1));
    const at = shortTime(new Date(this.data[0][index] * 1000));
    const table = "; the Table button shows every value";
    this.plot.setAttribute("aria-label", `${title}, latest at ${at}: ${parts.join(", ")}${table}`);
  }

  /** Redraw (the marks moved) without new data. */
  redraw() {
    this.chart.redraw(false, true);
  }
}

/** The three charts; `show(series, meta, figures)` draws one series payload on all. */
export class ChartSet {
  constructor(uPlot, root) {
    this.charts = [...root.querySelectorAll("figure.chart")].map((figure) => new TrendChart(uPlot, figure));
  }

  /**
   * @param {object} series a `series` event or a /api/v1/live/series answer
   * @param {{label: string, startMs: number, endMs: number, stepS: number}} meta
   * @param {object|null} figures the tiles' figures to mark (state.nowFigures), or null
   */
  show(series, meta, figures) {
    for (const chart of this.charts) {
      chart.update(series[chart.kind.key], meta, marksFor(chart.figure.dataset.chart, figures));
    }
  }
}

/** The tiles' figures a chart marks: the same quantities, over the tiles' five minutes. */
export function marksFor(chart, figures) {
  if (!figures || !figures.at || !figures[chart]) {
    return null;
  }
  const endS = figures.at.getTime() / 1000;
  return figures[chart].map((value) => (isNumber(value) ? { value, startS: endS - 300, endS } : null));
}
