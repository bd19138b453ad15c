// What the dashboard's modules share: the page's state and the small DOM helpers every
// panel uses. No module here renders a panel of its own.

import { clockTime, parseTime, setText } from "./format.js";
import { shortName } from "./schematic.js";

export const $ = (selector, root = document) => root.querySelector(selector);
export const field = (name, root = document) => root.querySelector(`[data-field="${name}"]`);

export const state = {
  sites: new Map(),
  refreshS: 2,
  heartbeatS: 15,
  clockOffsetMs: 0,
  connection: { state: "connecting" },
  lastHeartbeat: null, // Date of the last heartbeat (or hello)
  lastEventAt: 0, // performance.now() of the last event of any kind
  lastStateAt: 0, // performance.now() of the last panel update
  nowFigures: null, // the tiles' latest figures, for the charts' marks (panels.js)
  flags: new Map(), // sensor id -> {simulated, retired} from the `sensors` event
};

/** The server's time: the browser's clock, corrected when the two disagree (see hello). */
export function now() {
  return new Date(Date.now() + state.clockOffsetMs);
}

export function siteName(id) {
  const site = state.sites.get(id);
  return site ? shortName(site.name) : id;
}

export function setAsOf(panel, at) {
  const element = $(`[data-asof="${panel}"]`);
  const date = parseTime(at);
  if (element && date) {
    setText(element, `as of ${clockTime(date)}`);
  }
}
