// The hub client: REST calls with the token, and one WebSocket for live state (no polling).
import { currentLanguage, t } from "./i18n.js";

// Homes a cluster serves at one origin (/homes/<id>/) share the tab's storage: each keeps its token
// under a key of its own. A lone hub, based at "/", keeps the plain key.
const BASE_PATH = new URL(document.baseURI).pathname;
const TOKEN_KEY = BASE_PATH === "/" ? "oneteam.token" : `oneteam.token:${BASE_PATH}`;

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

/**
 * The address of one of the hub's paths ("api/devices", "static/icons.svg"), relative to the page's
 * base: a lone hub serves the page at "/", a cluster each home at "/homes/<id>/" (the hub writes
 * the page's <base href>). A path starting with "/" would leave the home, so it is refused.
 */
export function hubUrl(path) {
  if (path.startsWith("/")) throw new Error(`hub paths are relative to the page: ${path}`);
  return new URL(path, document.baseURI).href;
}

/** The ws:// or wss:// address of one of the hub's WebSocket paths, with a query. */
export function socketUrl(path, query) {
  const url = new URL(hubUrl(path));
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = new URLSearchParams(query).toString();
  return url.href;
}

/** Call the hub's REST API; resolves to the JSON body or throws HubError. */
export async function call(method, path, body, token = session.token) {
  const headers = {
    Authorization: `Bearer ${token}`,
    "Accept-Language": currentLanguage(),
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const url = hubUrl(path);
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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
  const response = await fetch(hubUrl("api/info"));
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
    const socket = new WebSocket(socketUrl("api/ws", { token: session.token, lang: currentLanguage() }));
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
