// What an operator does about alerts: acknowledge, silence until a time, end a silence,
// and read the history (POST /api/v1/alerts/{id}/..., GET /api/v1/alerts/history;
// acting needs a key with the operator role). The API answers every open screen with the
// new state at once, so the buttons only report how the request went.

import { apiRequest } from "./api.js";
import { fromLondonInput, parseTime, setText, shortTime, toLondonInput } from "./format.js";
import { $, now } from "./state.js";

const KIND_WORDS = {
  raised: "raised", cleared: "cleared", acknowledged: "acknowledged", silenced: "silenced",
  unsilenced: "silence ended", notified: "notification sent", notify_failed: "notification failed",
};
const SAID_FOR_MS = 20_000;
let silencing = null; // the alert the silence dialog is for
let sayTimer = null;

/** Report how an action went; the line clears itself, the wall screen is not a log. */
function say(text) {
  const status = $("#alert-action-status");
  setText(status, text);
  status.dataset.shown = text ? "true" : "false";
  clearTimeout(sayTimer);
  if (text) {
    sayTimer = setTimeout(() => say(""), SAID_FOR_MS);
  }
}

function path(alertId, action) {
  return `/api/v1/alerts/${encodeURIComponent(alertId)}/${action}`;
}

async function act(label, alertId, action, options) {
  say(`${label}…`);
  const answer = await apiRequest(path(alertId, action), options);
  say(answer.ok ? `${label}: done.` : `${label} failed: ${answer.message}.`);
  return answer.ok;
}

function button(text, onClick, name) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.dataset.action = name;
  element.addEventListener("click", onClick);
  return element;
}

/** The buttons of one alert's <li> (made once, shown by state). */
export function bindAlertActions(item, alert, cleared) {
  const box = $(".alert-actions", item);
  box.hidden = cleared;
  if (cleared) {
    return;
  }
  if (!box.childElementCount) {
    const id = () => item.dataset.alertId;
    const name = () => `${$(".kind", item).textContent} ${$(".where", item).textContent}`.trim();
    box.append(
      button("Acknowledge", () => act(`Acknowledging ${name()}`, id(), "acknowledge",
        { method: "POST", body: {} }), "acknowledge"),
      button("Silence…", () => openSilence(id(), name()), "silence"),
      button("End silence", () => act(`Ending the silence of ${name()}`, id(), "unsilence",
        { method: "POST" }), "unsilence"),
    );
  }
  $('[data-action="acknowledge"]', box).hidden = Boolean(alert.acknowledged);
  $('[data-action="silence"]', box).hidden = Boolean(alert.silenced);
  $('[data-action="unsilence"]', box).hidden = !alert.silenced;
}

function openSilence(alertId, name) {
  silencing = alertId;
  const dialog = $("#silence-dialog");
  setText($("#silence-what"), name);
  $("#silence-error").hidden = true;
  const form = $("#silence-form");
  form.elements.until.value = toLondonInput(new Date(Date.now() + 2 * 3600_000));
  dialog.showModal();
  form.querySelector('input[name="for"]:checked').focus();
}

/** Minutes from now, or an RFC 3339 end, from the dialog's choice. */
function silenceBody(form) {
  const choice = form.elements.for.value;
  const note = form.elements.note.value.trim() || null;
  if (choice === "until") {
    const until = fromLondonInput(form.elements.until.value);
    return until ? { until: until.toISOString(), note } : null;
  }
  if (choice === "morning") {
    const next = new Date();
    const eight = fromLondonInput(`${toLondonInput(next).slice(0, 10)}T08:00`);
    const until = eight > next ? eight : new Date(eight.getTime() + 86400_000);
    return { until: until.toISOString(), note };
  }
  return { minutes: Number(choice), note };
}

function setUpSilenceDialog() {
  const dialog = $("#silence-dialog");
  const form = $("#silence-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = silenceBody(form);
    if (!body) {
      $("#silence-error").hidden = false;
      setText($("#silence-error"), "Choose a date and time to silence until.");
      return;
    }
    const ok = await act(`Silencing ${$("#silence-what").textContent}`, silencing, "silence",
      { method: "POST", body });
    if (ok) {
      dialog.close();
    } else {
      $("#silence-error").hidden = false;
      setText($("#silence-error"), $("#alert-action-status").textContent);
    }
  });
}

async function openHistory() {
  const dialog = $("#history-dialog");
  const body = $("#history-body");
  body.replaceChildren(Object.assign(document.createElement("p"), { textContent: "Loading…" }));
  dialog.showModal();
  const start = new Date(Date.now() - 86400_000).toISOString();
  const answer = await apiRequest(`/api/v1/alerts/history?start=${encodeURIComponent(start)}`);
  if (!answer.ok) {
    body.replaceChildren(Object.assign(document.createElement("p"), {
      textContent: `Could not load the history: ${answer.message}.`,
    }));
    return;
  }
  const events = answer.data.events || [];
  if (!events.length) {
    body.replaceChildren(Object.assign(document.createElement("p"), { textContent: "Nothing happened in the last 24 hours." }));
    return;
  }
  const table = document.createElement("table");
  table.className = "history";
  table.innerHTML = "<caption class=\"sr-only\">Alert events, newest first</caption>"
    + "<thead><tr><th scope=\"col\">When (UK)</th><th scope=\"col\">What</th>"
    + "<th scope=\"col\">Alert</th><th scope=\"col\">By</th></tr></thead>";
  const rows = table.createTBody();
  const current = now();
  for (const one of events) {
    const row = rows.insertRow();
    row.dataset.event = one.event;
    const until = one.until ? ` until ${shortTime(parseTime(one.until), current)}` : "";
    const cells = [shortTime(parseTime(one.at), current), `${KIND_WORDS[one.event] || one.event}${until}`,
      one.message || one.alert_id, [one.by, one.note].filter(Boolean).join(": ")];
    for (const text of cells) {
      row.insertCell().textContent = text;
    }
  }
  body.replaceChildren(table);
}

/** Buttons and dialogs of the alerts panel. */
export function setUpAlertActions() {
  setUpSilenceDialog();
  $("#alert-history-open").addEventListener("click", openHistory);
  for (const dialog of document.querySelectorAll("dialog")) {
    for (const close of dialog.querySelectorAll("[data-close]")) {
      close.addEventListener("click", () => dialog.close());
    }
  }
}
