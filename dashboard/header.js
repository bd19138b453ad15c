// The header: the Stockport clock and the state of the connection to the stream.

import { clockTime, dayLabel, formatDuration, setText } from "./format.js";
import { refreshAlerts } from "./alerts.js";
import { $, now, state } from "./state.js";

/** Once a second: the clock, the connection's age figures and the alerts' durations. */
export function tickClock() {
  const clock = $("#clock");
  const date = now();
  setText(clock, `${dayLabel(date)}  ${clockTime(date)}`);
  clock.setAttribute("datetime", date.toISOString());
  renderConnection();
  refreshAlerts();
}

export function renderConnection() {
  const conn = $("#conn");
  const { connection } = state;
  let label;
  let mode = connection.state;
  const beat = state.lastHeartbeat ? `heartbeat ${clockTime(state.lastHeartbeat)}` : "";
  if (connection.state === "live") {
    // Heartbeats prove the connection; fresh panels prove the poller behind it.
    const quietS = (performance.now() - state.lastEventAt) / 1000;
    const staleS = (performance.now() - state.lastStateAt) / 1000;
    if (state.lastEventAt && quietS > 2 * state.heartbeatS + 5) {
      mode = "stale";
      label = `Connected, nothing received for ${formatDuration(quietS)}`;
    } else if (state.lastStateAt && staleS > Math.max(5 * state.refreshS, 15)) {
      mode = "stale";
      label = `Connected, no new figures for ${formatDuration(staleS)}`;
    } else {
      label = "Live";
    }
  } else if (connection.state === "reconnecting") {
    const left = Math.max(0, Math.ceil((connection.until - Date.now()) / 1000));
    label = left > 0 ? `Reconnecting in ${left} s` : "Reconnecting…";
  } else if (connection.state === "unauthorized") {
    label = "API key needed";
  } else {
    label = "Connecting…";
  }
  conn.dataset.state = mode;
  document.body.dataset.connection = mode;
  setText($("#conn-text"), label);
  const detail = connection.state === "reconnecting" && connection.reason
    ? `${beat ? `last ${beat}` : "no heartbeat yet"} · ${connection.reason}`
    : beat;
  setText($("#conn-beat"), detail);
}
