// Making SVG elements (the schematic and the chart legends' swatches).

export const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with its attributes, appended to ``parent`` when given. */
export function el(name, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, String(value));
  }
  parent?.append(node);
  return node;
}
