// The hub client: REST calls with the token, and one WebSocket for live state (no polling).
import { currentLanguage, t } from "./i18n.js";

const TOKEN_KEY = "oneteam.token";

/** A failed call: the hub's message for people, its key, and the HTTP status (0 when unreachable). */
export class HubError extends Error {
  constructor(status, key, message) {
    super(message);
    this.status = status;
    this.key = key;
  }
}

// The token lives in sessionStorage: gone when the tab closes, never in a cookie or localStorage.
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** Call the hub's REST API; resolves to the JSON body or throws HubError. */
export async function call(method, path, body, token = session.token) {
  const headers = {
    Authorization: `Bearer ${token}`,
    "Accept-Language": currentLanguage(),
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    // The hub is down or the network is: say so in words (the browser's own text is "Failed to fetch").
    throw new HubError(0, "error.unreachable", t("hub_unreachable"));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new HubError(response.status, error.key || "error.http", error.message || response.statusText);
  }
  return data;
}

/** What this hub offers (no token needed). */
export async function info() {
  const response = await fetch("/api/info");
  return response.json();
}

/**
 * The live connection: calls onHello(states) on every (re)connect, onEvent(event, dropped) for each
 * event, onAccess(deviceIds) when the member's devices change (narrowed or widened while open),
 * onStatus("live" | "connecting" | "offline") and onUnauthorized() when the token is refused.
 * Reconnects with back-off until closed.
 */
export class LiveSocket {
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.closed = false;
    this.retryMs = 500;
    this.timer = 0;
  }

  open() {
    this.closed = false;
    this.handlers.onStatus("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ token: session.token, lang: currentLanguage() });
    const socket = new WebSocket(`${scheme}://${location.host}/api/ws?${query}`);
    this.socket = socket;
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4401) {
        this.closed = true;
        this.handlers.onUnauthorized();
        return;
      }
      if (this.closed) return;
      this.handlers.onStatus("offline");
      this.timer = setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    });
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "hello") {
      this.retryMs = 500;
      this.handlers.onStatus("live");
      this.handlers.onHello(message.states || {});
    } else if (message.type === "event") {
      this.handlers.onEvent(message.event, message.dropped || 0);
    } else if (message.type === "access") {
      this.handlers.onAccess?.(message.devices || []);
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.socket = null;
  }
}
