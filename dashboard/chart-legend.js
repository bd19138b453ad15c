// The charts' legends: a swatch (colour and dash) and a label per series, and the value
// shown beside it (charts.js keeps it up to date).

import { CHART_KINDS } from "./charts.js";
import { SVG_NS, el } from "./svg.js";

function swatch(spec) {
  const svg = el("svg");
  svg.setAttribute("viewBox", "0 0 28 8");
  svg.setAttribute("class", "swatch");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(SVG_NS, "line");
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

/** The legend of one chart; returns the elements that show each series' value. */
export function buildLegend(figure, kind) {
  const legend = figure.querySelector(".legend");
  legend.replaceChildren();
  const values = [];
  for (const spec of kind.series) {
    const item = document.createElement("span");
    item.className = "legend-item";
    const value = document.createElement("b");
    value.textContent = "—";
    item.append(swatch(spec), ` ${spec.label} `, value);
    legend.append(item);
    values.push(value);
  }
  return values;
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
