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
    const table = document.createElement("table");
    const caption = document.createElement("caption");
    const step = this.meta?.stepS ? `, ${stepWords(this.meta.stepS)} steps` : "";
    caption.textContent = `${this.kind.title} (${this.kind.unit}), ${this.meta?.label || ""}${step}, newest first`;
    const head = table.createTHead().insertRow();
    for (const name of ["Time (UK)", ...this.kind.series.map((spec) => spec.label)]) {
      const cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = name;
      head.append(cell);
    }
    const body = table.createTBody();
    const [times = [], ...values] = this.columns || [];
    for (let i = times.length - 1; i >= 0; i -= 1) {
      const row = body.insertRow();
      const when = document.createElement("th");
      when.scope = "row";
      when.textContent = rowTime.format(new Date(times[i] * 1000));
      row.append(when);
      for (const column of values) {
        const cell = row.insertCell();
        cell.textContent = isNumber(column[i]) ? formatNumber(column[i]) : "no data";
      }
    }
    table.prepend(caption);
    this.box.replaceChildren(table);
  }
}
