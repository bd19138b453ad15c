// Requests to the API besides the stream: the same key as the stream (X-API-Key), and an
// answer that says plainly what went wrong (401: a key is needed, 403: the key's role is
// too small, e.g. acknowledging needs an operator key).

import { keyStore } from "./keys.js";

/**
 * @param {string} path e.g. "/api/v1/alerts/history"
 * @param {{method?: string, body?: object}} [options]
 * @returns {Promise<{ok: boolean, status: number, data: any, message: string}>}
 */
export async function apiRequest(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const key = keyStore.get();
  if (key) {
    headers["X-API-Key"] = key;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, status: 0, data: null, message: `the API could not be reached (${error.message || error})` };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.ok) {
    return { ok: true, status: response.status, data, message: "" };
  }
  return { ok: false, status: response.status, data, message: describeFailure(response.status, data) };
}

function describeFailure(status, data) {
  const detail = typeof data?.detail === "string"
    ? data.detail
    : Array.isArray(data?.detail) ? data.detail.map((d) => d.msg).join("; ") : "";
  if (status === 401) {
    return "this needs an API key: use “Enter API key” at the top";
  }
  if (status === 403) {
    return detail || "this needs a key with a larger role";
  }
  return detail || `the API answered HTTP ${status}`;
}
