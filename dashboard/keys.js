// The API key: asked for once when the stream answers 401 (an accessible <dialog>), kept
// in localStorage and forgotten on request. See dashboard/README.md, "The stream".

import { setText } from "./format.js";
import { $, state } from "./state.js";

const KEY_STORAGE = "smartplace.apiKey";

let memoryKey = null; // used when localStorage is unavailable
let sentKey = null; // the key sent on the current connection attempt
let dialogDismissed = false;

export const keyStore = {
  get() {
    try {
      return window.localStorage.getItem(KEY_STORAGE);
    } catch {
      return memoryKey;
    }
  },
  set(value) {
    memoryKey = value;
    try {
      window.localStorage.setItem(KEY_STORAGE, value);
    } catch {
      // private browsing: keep it for this page only
    }
  },
  clear() {
    memoryKey = null;
    try {
      window.localStorage.removeItem(KEY_STORAGE);
    } catch {
      // nothing stored
    }
  },
};

export function updateKeyButtons() {
  $("#forget-key").hidden = !keyStore.get();
  $("#enter-key").hidden = state.connection.state !== "unauthorized";
}

export function askForKey(refused) {
  const dialog = $("#key-dialog");
  setText($("#key-reason"), refused
    ? "The saved key was not accepted. Enter a valid key from SMARTPLACE_API_KEYS."
    : "This API asks for a key. Enter one of the keys in SMARTPLACE_API_KEYS; this browser will remember it.");
  if (!dialog.open) {
    $("#key-input").value = "";
    dialog.showModal();
    $("#key-input").focus();
  }
}

export function setUpKeyForm(stream) {
  const dialog = $("#key-dialog");
  $("#key-form").addEventListener("submit", (event) => {
    const key = $("#key-input").value.trim();
    if (!key) {
      event.preventDefault();
      return;
    }
    keyStore.set(key);
    $("#key-input").value = "";
    dialogDismissed = false;
    updateKeyButtons();
    stream.retryNow();
  });
  $("#key-cancel").addEventListener("click", () => {
    dialogDismissed = true;
    dialog.close();
    $("#enter-key").focus();
  });
  dialog.addEventListener("cancel", () => {
    dialogDismissed = true;
  });
  $("#enter-key").addEventListener("click", () => askForKey(false));
  $("#forget-key").addEventListener("click", () => {
    keyStore.clear();
    dialogDismissed = false;
    updateKeyButtons();
    stream.retryNow();
  });
}

/** The stream's state changed: ask for a key on 401, forget one that was refused. */
export function followConnection(previous, next) {
  if (next.state === "connecting") {
    sentKey = keyStore.get();
  }
  if (next.state === "unauthorized") {
    const refused = Boolean(sentKey);
    if (refused) {
      keyStore.clear();
    }
    if (!dialogDismissed || refused) {
      askForKey(refused);
    }
  } else if (previous === "unauthorized" && $("#key-dialog").open) {
    $("#key-dialog").close();
  }
  updateKeyButtons();
}
