// The schematic's backdrop: a 100 m grid, a north arrow and a 100 m scale bar
// (schematic.js draws the sites and sensors over it).

import { el } from "./svg.js";

/**
 * Draw the backdrop into the grid layer, replacing what was there.
 * @param {SVGGElement} grid the schematic's `.layer-grid` group
 * @param {number} pxPerMetre screen pixels per metre at the schematic's scale
 */
export function drawBackdrop(grid, width, height, pxPerMetre) {
  grid.replaceChildren();
  const step = 100 * pxPerMetre;
  if (step >= 12) {
    for (let x = step / 2; x < width; x += step) {
      el("line", { class: "grid-line", x1: x, y1: 0, x2: x, y2: height }, grid);
    }
    for (let y = step / 2; y < height; y += step) {
      el("line", { class: "grid-line", x1: 0, y1: y, x2: width, y2: y }, grid);
    }
  }
  // North arrow and a 100 m scale bar in the top-left corner.
  const north = el("g", { class: "north", transform: "translate(22 22)" }, grid);
  el("path", { d: "M0 -12 L6 6 L0 2 L-6 6 Z" }, north);
  el("text", { x: 12, y: 0, dy: "0.35em" }, north).textContent = "N";
  const bar = el("g", { class: "scale-bar", transform: "translate(52 22)" }, grid);
  el("line", { x1: 0, y1: 0, x2: step, y2: 0 }, bar);
  el("line", { x1: 0, y1: -4, x2: 0, y2: 4 }, bar);
  el("line", { x1: step, y1: -4, x2: step, y2: 4 }, bar);
  el("text", { x: step + 6, y: 0, dy: "0.35em" }, bar).textContent = "100 m";
}
