// Server-sent events over fetch(): a small parser and a reconnecting reader.
//
// EventSource cannot send headers, and /api/v1/live needs `X-API-Key` when the API has
// keys, so the page reads the stream with fetch() and parses the text/event-stream
// format itself (https://html.spec.whatwg.org/multipage/server-sent-events.html).

/**
 * Create a text/event-stream parser.
 *
 * @param {object} handlers
 * @param {(message: {event: string, data: string, id: string|null}) => void} handlers.onMessage
 * @param {(ms: number) => void} [handlers.onRetry] the server's `retry:` field
 * @returns {{feed: (text: string) => void, lastEventId: () => string|null}}
 */
export function createParser({ onMessage, onRetry = () => {} }) {
  let buffer = "";
  let eventType = "";
  let dataLines = [];
  let lastEventId = null;

  function processLine(line) {
    if (line === "") {
      // A blank line dispatches the event being built (if it has data).
      if (dataLines.length > 0) {
        onMessage({ event: eventType || "message", data: dataLines.join("\n"), id: lastEventId });
      }
      eventType = "";
      dataLines = [];
      return;
    }
    if (line.startsWith(":")) {
      return; // a comment (servers send them as keep-alives)
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    if (field === "event") {
      eventType = value;
    } else if (field === "data") {
      dataLines.push(value);
    } else if (field === "id") {
      if (!value.includes("\0")) {
        lastEventId = value;
      }
    } else if (field === "retry") {
      if (/^\d+$/.test(value)) {
        onRetry(Number(value));
      }
    }
  }

  let skipLeadingLF = false; // the last chunk ended with CR: an LF now completes a CRLF

  function feed(text) {
    buffer += text;
    let start = 0;
    if (skipLeadingLF && buffer.startsWith("\n")) {
      start = 1;
    }
    skipLeadingLF = false;
    for (;;) {
      const cr = buffer.indexOf("\r", start);
      const lf = buffer.indexOf("\n", start);
      if (cr === -1 && lf === -1) {
        break;
      }
      let end;
      let next;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr === buffer.length - 1) {
          skipLeadingLF = true; // the LF of a CRLF may come with the next chunk
          next = cr + 1;
        } else {
          next = buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      processLine(buffer.slice(start, end));
      start = next;
    }
    buffer = buffer.slice(start);
  }

  return { feed, lastEventId: () => lastEventId };
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * A live connection to an SSE endpoint that reconnects with exponential backoff.
 *
 * States reported to `onState`: "connecting", "live", "reconnecting" (with `delayMs`
 * and `reason`), "unauthorized" (the server answered 401: call `retryNow()` once
 * there is a key to try).
 */
export class LiveStream {
  /**
   * @param {object} options
   * @param {string} options.url
   * @param {() => (string|null)} options.getKey the API key to send, if any
   * @param {(message: {event: string, data: string, id: string|null}) => void} options.onMessage
   * @param {(state: object) => void} options.onState
   */
  constructor({ url, getKey, onMessage, onState }) {
    this.url = url;
    this.getKey = getKey;
    this.onMessage = onMessage;
    this.onState = onState;
    this.retryMs = 3000; // replaced by the server's `retry:` field
    this.maxDelayMs = 30000;
    this.idleTimeoutMs = 45000; // replaced once `hello` gives the heartbeat period
    this.failures = 0;
    this.lastEventId = null;
    this.controller = null;
    this.wake = null;
    this.skipBackoff = false;
    this.stopped = true;
  }

  /** Start the connect / read / reconnect loop. */
  start() {
    if (!this.stopped) {
      return;
    }
    this.stopped = false;
    this.loop();
  }

  /** Drop the current connection (or wait) and connect again at once. */
  retryNow() {
    this.failures = 0;
    this.skipBackoff = true;
    this.controller?.abort();
    this.wake?.abort();
  }

  /** Stop for good. */
  stop() {
    this.stopped = true;
    this.controller?.abort();
    this.wake?.abort();
  }

  /** Called by the page once `hello` says how often heartbeats come. */
  setHeartbeat(seconds) {
    this.idleTimeoutMs = Math.max(10000, (2 * seconds + 5) * 1000);
  }

  backoffMs() {
    const base = Math.min(this.maxDelayMs, this.retryMs * 2 ** Math.min(this.failures, 6));
    const jitter = 0.8 + Math.random() * 0.4;
    return Math.round(base * jitter);
  }

  async loop() {
    while (!this.stopped) {
      let reason = "";
      try {
        const outcome = await this.connectOnce();
        if (outcome === "unauthorized") {
          this.onState({ state: "unauthorized" });
          await this.waitForWake();
          continue;
        }
        reason = "the stream ended";
      } catch (error) {
        reason = error?.name === "AbortError" ? "no data from the server" : String(error?.message || error);
      }
      if (this.stopped) {
        return;
      }
      if (this.skipBackoff) {
        this.skipBackoff = false;
        continue;
      }
      const delayMs = this.backoffMs();
      this.failures += 1;
      this.onState({ state: "reconnecting", delayMs, reason, until: Date.now() + delayMs });
      await this.waitForWake(delayMs);
    }
  }

  async waitForWake(ms) {
    this.wake = new AbortController();
    if (ms === undefined) {
      await new Promise((resolve) => this.wake.signal.addEventListener("abort", resolve, { once: true }));
    } else {
      await sleep(ms, this.wake.signal);
    }
    this.wake = null;
  }

  async connectOnce() {
    const controller = new AbortController();
    this.controller = controller;
    this.skipBackoff = false;
    const headers = { Accept: "text/event-stream" };
    if (this.lastEventId !== null) {
      headers["Last-Event-ID"] = this.lastEventId;
    }
    const key = this.getKey();
    if (key) {
      headers["X-API-Key"] = key;
    }
    this.onState({ state: "connecting" });
    let idleTimer = null;
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => controller.abort(), this.idleTimeoutMs);
    };
    armIdle();
    try {
      const response = await fetch(this.url, { headers, signal: controller.signal, cache: "no-store" });
      if (response.status === 401) {
        await response.body?.cancel();
        return "unauthorized";
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw new Error(`the server answered HTTP ${response.status}`);
      }
      const parser = createParser({
        onMessage: (message) => {
          if (message.id !== null) {
            this.lastEventId = message.id;
          }
          this.failures = 0; // data arrived: the next drop starts the backoff again
          this.onMessage(message);
        },
        onRetry: (ms) => {
          this.retryMs = Math.max(500, ms);
        },
      });
      this.onState({ state: "live" });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          return "ended";
        }
        armIdle();
        parser.feed(value);
      }
    } finally {
      clearTimeout(idleTimer);
      if (this.controller === controller) {
        this.controller = null;
      }
    }
  }
}
