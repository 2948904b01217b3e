// The household's page: sign in, then rooms and devices, talk, warnings and activity, all live.
import { ActivityLog, WarningsPanel } from "./activity.js";
import { HubError, LiveSocket, call, hubUrl, info, session } from "./api.js";
import { DeviceBoard } from "./devices.js";
import { HistoryDialog } from "./history.js";
import { HouseholdPanel } from "./household.js";
import { RoutinePanel } from "./routines.js";
import { SchedulePanel } from "./schedules.js";
import { applyStrings, currentLanguage, loadLanguage, preferredLanguage, t } from "./i18n.js";
import { TalkBox } from "./talk.js";
import { PushToTalk } from "./voice.js";

const $ = (selector) => document.querySelector(selector);
const HISTORY = 100;
const HISTORY_KINDS = ["command", "command_failed", "availability", "finished", "warning", "alert", "notice", "say", "scheduled", "schedule_done", "device_added", "device_removed"];

let socket = null;
let features = [];
/** The ids of the cards drawn by the last `enter`, to notice a change the new socket cannot report. */
let drawn = new Set();

async function send(deviceId, body) {
  try {
    return await call("POST", `api/devices/${encodeURIComponent(deviceId)}/commands`, body);
  } catch (error) {
    if (error instanceof HubError && error.status === 401) expire();
    throw error;
  }
}

const board = new DeviceBoard($("#rooms"), send);
const history = new HistoryDialog();
board.onHistory = (id, name) => history.open(id, name);
const activity = new ActivityLog({ list: $("#activity-log"), empty: $("#activity-empty"), roomFilter: $("#filter-room"), deviceFilter: $("#filter-device"), board });
const warnings = new WarningsPanel({ panel: $("#warnings"), list: $("#warnings-list"), empty: $("#warnings-empty"), board });
const talk = new TalkBox({ form: $("#talk-form"), input: $("#talk-input"), log: $("#talk-log"), board });
const ptt = new PushToTalk({ button: $("#talk-ptt"), talk });
const schedules = new SchedulePanel({ panel: $("#schedules"), list: $("#schedules-list"), board });
const routines = new RoutinePanel({ panel: $("#routines"), list: $("#routines-list"), onExpired: () => expire() });
const household = new HouseholdPanel({ panel: $("#household"), members: $("#household-members"), tokens: $("#household-tokens"), form: $("#token-form"), name: $("#token-name"), created: $("#token-created"), error: $("#household-error") });

function setStatus(status) {
  const node = $("#connection");
  node.dataset.status = status;
  node.textContent = t(`status_${status}`);
  // A click while the hub was down said so on its card; back online, that message goes.
  if (status === "live") board.clearUnreachable();
}

function showSignIn(messageKey = "") {
  socket?.close();
  socket = null;
  $("#home").hidden = true;
  $("#signout").hidden = true;
  $("#connection").hidden = true;
  $("#signin").hidden = false;
  const error = $("#signin-error");
  error.textContent = messageKey ? t(messageKey) : "";
  error.hidden = !messageKey;
  $("#signin-name").focus();
}

function expire() {
  session.token = "";
  showSignIn("signin_expired");
}

function onEvent(event, dropped) {
  board.applyEvent(event);
  activity.add(event);
  warnings.add(event);
  schedules.onEvent(event);
  routines.onEvent(event);
  if (event.kind === "alert" || event.kind === "warning" || event.kind === "say") sayAloud(event);
  if (["device_added", "device_removed", "device_changed"].includes(event.kind)) enter(session.token);
  if (dropped) $("#dropped").textContent = t("dropped_events", { n: dropped });
}

async function loadHistory() {
  // Simulated sensors and countdowns publish a state change every second; asked for apart, they
  // cannot crowd the commands, warnings and availability changes out of the history.
  const kinds = HISTORY_KINDS.map((kind) => `kind=${kind}`).join("&");
  const [happenings, changes, notices] = await Promise.all([
    call("GET", `api/events?${kinds}&limit=${HISTORY}`),
    call("GET", `api/events?kind=state_changed&limit=${HISTORY * 3}`),
    call("GET", "api/events?kind=warning&kind=alert&limit=50"),
  ]);
  for (const event of [...notices.events].reverse()) warnings.add(event);
  // Keep state changes only as far back as the other history reaches, so the log has no hole.
  const oldestHappening = happenings.events.length < HISTORY ? 0 : happenings.events.at(-1).id;
  const merged = [...happenings.events, ...changes.events.filter((e) => e.id >= oldestHappening)];
  for (const event of merged.sort((a, b) => a.id - b.id)) activity.add(event);
}

/** A socket reports the member's devices changing only from when it opened: a change between the
 * cards' drawing and a (re)connect (permissions widened while the page was entering) is caught by
 * asking once more after each hello. */
async function redrawIfChanged() {
  const now = await call("GET", "api/devices").catch(() => null);
  if (!now) return;
  const ids = now.devices.map((device) => device.id);
  if (ids.length !== drawn.size || ids.some((id) => !drawn.has(id))) await enter(session.token);
}

/** Check a token by loading the home with it; on success show the home and go live. An empty
 * token enters with the sign-in cookie alone (the one-time link sets it, HttpOnly); `quiet`: a
 * refusal only answers false, the caller shows the sign-in form without an error. */
async function enter(token, quiet = false) {
  let home;
  try {
    home = await call("GET", "api/devices", undefined, token);
  } catch (error) {
    session.token = "";
    if (quiet) return false;
    showSignIn(error.status === 401 ? "signin_wrong" : error.status === 0 ? "signin_unreachable" : "");
    if (error.status !== 401 && error.status !== 0) $("#signin-error").textContent = error.message;
    $("#signin-error").hidden = false;
    return false;
  }
  session.token = token;
  features = (await info()).features || [];
  $("#signin").hidden = true;
  $("#home").hidden = false;
  $("#signout").hidden = false;
  $("#connection").hidden = false;
  $("#home-name").textContent = home.home.name || home.home.id;
  board.render(home.rooms, home.devices);
  drawn = new Set(home.devices.map((device) => device.id));
  // What this member may use: the controls of the other devices are hidden, their state still shown.
  const me = await call("GET", "api/me").catch(() => null);
  document.body.dataset.role = me?.role || "";
  board.applyAccess(me?.devices ?? null);
  board.applyManage(me ? Boolean(me.manages) : false);
  await household.load(me ? Boolean(me.manages) : false);
  activity.reset();
  warnings.reset(features);
  $("#talk").hidden = !features.includes("conversation");
  ptt.enable(features.includes("voice"));
  await routines.load(features);
  await schedules.load();
  socket?.close();
  socket = new LiveSocket({
    onHello: (states) => {
      board.applyStates(states);
      redrawIfChanged();
    },
    onEvent,
    onStatus: setStatus,
    onUnauthorized: expire,
    // The member's devices changed while the page is open: load the home again as they now stand.
    onAccess: () => enter(session.token),
  });
  socket.open();
  try {
    await loadHistory();
  } catch (error) {
    if (error.status === 401) expire();
  }
  document.body.dataset.ready = "true";
  return true;
}

/** A member's name and password → a sign-in session, used as this tab's token. */
async function signInWithPassword(name, password) {
  let answer;
  try {
    answer = await call("POST", "api/session", { name, password }, "");
  } catch (error) {
    // 401: wrong details or an expired guest; 429: too many tries, the hub says for how long.
    showSignIn(error.status === 401 ? "signin_wrong_password" : error.status === 0 ? "signin_unreachable" : "");
    if (error.status !== 401 && error.status !== 0) $("#signin-error").textContent = error.message;
    $("#signin-error").hidden = false;
    return false;
  }
  $("#signin-password").value = "";
  return enter(answer.token);
}

async function switchLanguage() {
  await loadLanguage(t("other_lang_code"));
  applyStrings();
  if (session.token && !$("#home").hidden) await enter(session.token);
  else if (!$("#signin-error").hidden) $("#signin-error").hidden = true;
}

async function start() {
  await loadLanguage(preferredLanguage());
  applyStrings();
  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("#signin-name").value.trim();
    const password = $("#signin-password").value;
    const token = $("#token-input").value.trim();
    if (!(name && password) && !token) {
      showSignIn("signin_missing");
      return;
    }
    const button = $("#signin-submit");
    button.disabled = true;
    button.textContent = t("signin_checking");
    if (name && password) await signInWithPassword(name, password);
    else await enter(token);
    button.disabled = false;
    button.textContent = t("signin_button");
  });
  $("#lang-toggle").addEventListener("click", switchLanguage);
  $("#signout").addEventListener("click", async () => {
    // A member's sign-in session ends at the hub too (every door refuses it from now on).
    // (No token in the tab: the page entered with the cookie of a one-time link.)
    if (!session.token || session.token.startsWith("os_")) await call("DELETE", "api/session").catch(() => null);
    session.token = "";
    showSignIn();
  });
  // `make run` may print the page's address with the token in the fragment, which never reaches a server.
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) history.replaceState(null, "", location.pathname);
  const token = fromLink || session.token;
  if (token) await enter(token);
  else if (!((await info()).session_cookie && (await enter("", true)))) showSignIn();
  document.documentElement.dataset.lang = currentLanguage();
}

start();

// A notice that arrives while the page is open is also said aloud, in the hub's own voice.
async function sayAloud(event) {
  try {
    const response = await fetch(hubUrl("api/speech"), {
      method: "POST",
      headers: { Authorization: `Bearer ${session.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ event: event.id, language: currentLanguage() }),
    });
    if (!response.ok) return;
    const audio = new Audio(URL.createObjectURL(await response.blob()));
    await audio.play();
  } catch {
    // Autoplay may be refused before the person has interacted with the page; the notice stays visible.
  }
}
