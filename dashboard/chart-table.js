// The table alternative of a trend chart: every bucket's values, newest first, behind the
// chart's "Table" button (a real button with aria-expanded). The table is only built while
// it is open, and rebuilt when the chart gets new data.

import { TIME_ZONE, formatNumber, isNumber, stepWords } from "./format.js";

const rowTime = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE, weekday: "short", day: "numeric", month: "short",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

export class ChartTable {
  /**
   * @param {HTMLElement} figure the chart's <figure> (holds .table-toggle and .chart-table)
   * @param {{title: string, unit: string, series: Array<{label: string}>}} kind
   */
  constructor(figure, kind) {
    this.kind = kind;
    this.button = figure.querySelector(".table-toggle");
    this.box = figure.querySelector(".chart-table");
    this.columns = null;
    this.meta = null;
    this.button?.addEventListener("click", () => this.toggle());
  }

  toggle(open = this.box.hidden) {
    this.box.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    this.button.textContent = open ? "Hide table" : "Table";
    this.button.closest("figure").dataset.table = open ? "open" : "closed";
    if (open) {
      this.render();
    }
  }

  update(columns, meta) {
    this.columns = columns;
    this.meta = meta;
    if (!this.box.hidden) {
      this.render();
    }
  }

  render() {
    const step = this.meta?.stepS ? `, ${stepWords(this.meta.stepS)} steps` : "";
    const caption = `${this.kind.title} (${this.kind.unit}), ${this.meta?.label || ""}${step}, newest first`;
    const [times = [], ...values] = this.columns || [];
    const rows = [];
    for (let i = times.length - 1; i >= 0; i -= 1) {
      rows.push([rowTime.format(new Date(times[i] * 1000)),
        ...values.map((column) => (isNumber(column[i]) ? formatNumber(column[i]) : "no data"))]);
    }
    const headers = ["Time (UK)", ...this.kind.series.map((spec) => spec.label)];
    this.box.replaceChildren(buildTable(caption, headers, rows));
  }
}

/**
 * A <table> with a caption, column headers, and rows whose first cell heads its row.
 * @param {string} captionText
 * @param {string[]} headers
 * @param {string[][]} rows
 */
export function buildTable(captionText, headers, rows) {
  const table = document.createElement("table");
  const caption = document.createElement("caption");
  caption.textContent = captionText;
  table.append(caption);
  const head = table.createTHead().insertRow();
  for (const name of headers) {
    const cell = document.createElement("th");
    cell.scope = "col";
    cell.textContent = name;
    head.append(cell);
  }
  const body = table.createTBody();
  for (const [first, ...rest] of rows) {
    const row = body.insertRow();
    const header = document.createElement("th");
    header.scope = "row";
    header.textContent = first;
    row.append(header);
    for (const text of rest) {
      row.insertCell().textContent = text;
    }
  }
  return table;
}
