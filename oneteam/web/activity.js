// The live activity log (who or what changed what) and the warnings panel.
import { call } from "./api.js";
import { clock, currentLanguage, label, t } from "./i18n.js";
import { el } from "./dom.js";

// Attributes that drift on their own (sensors, countdowns) would flood the log; their changes show on the cards.
const NOISY = new Set([
  "current_temperature", "remaining_time", "pm25", "air_quality", "battery", "cleaned_s", "updated_at",
  // Daily wear telemetry the failure prediction reads; its warnings are what people need to see.
  "motor_current_a", "vibration_mm_s", "load_kg", "compressor_duty_pct", "ambient_temperature_c",
  "refrigerant_pressure_kpa", "outdoor_temperature_c",
]);
const MAX_ENTRIES = 300;
// A command and the state change it caused arrive as two events a moment apart; shown as one line.
const MERGE_WINDOW_S = 2;

/** Who or what caused an event, in words ("앱 (kitchen-tablet)", "음성", "다른 플랫폼 (genie)").
 * A source is `<door>:<principal>`: `rest:token:kitchen-tablet`, `partner:genie` (a principal naming its door is not doubled). */
export function sourceName(source) {
  const [head, rest] = String(source || "hub").split(/:(.*)/s);
  const known = t(`source.${head}`);
  const name = known === head ? head : known;
  const who = rest ? rest.replace(/^(token|partner):/, "") : "";
  return who ? `${name} (${who})` : name;
}

/** Changed attributes in words ("켜짐 · 밝기 80%"); noisy ones are left out. */
export function changeText(changes) {
  const parts = [];
  for (const [key, value] of Object.entries(changes || {})) {
    if (NOISY.has(key)) continue;
    if (key === "power") parts.push(t(value ? "on" : "off"));
    else if (key === "brightness") parts.push(t("brightness_value", { value }));
    else if (key === "volume") parts.push(t("volume_value", { value }));
    else if (key === "channel") parts.push(t("channel_value", { value }));
    else if (key === "temperature") parts.push(t("temperature_set", { value }));
    else if (key.endsWith("_temperature")) parts.push(t("compartment_temperature", { compartment: label("compartments", key.replace("_temperature", "")), value }));
    else if (key === "mode") parts.push(label("modes", value));
    else if (key === "fan_speed") parts.push(label("fan_speeds", value));
    else if (key === "run_state") parts.push(label("run_states", value));
    else if (key === "door") parts.push(t(value === "open" ? "door_open" : "door_closed"));
    else if (key === "express_freeze") parts.push(`${t("express_freeze")} ${t(value ? "on" : "off")}`);
    else parts.push(`${key} ${value}`);
  }
  return parts.join(" · ");
}

// The attribute each set_* command sets, so a merged log line does not say it twice.
const SETS = {
  set_brightness: "brightness", set_volume: "volume", set_channel: "channel", set_temperature: "temperature",
  set_mode: "mode", set_fan_speed: "fan_speed",
};

function commandAttribute(data) {
  if (data?.command === "set_temperature" && data?.target) return `${data.target}_temperature`;
  return SETS[data?.command] || "";
}

function commandText(data) {
  const name = data?.command || "";
  let value = data?.value ?? "";
  if (name === "set_mode") value = label("modes", value);
  if (name === "set_fan_speed") value = label("fan_speeds", value);
  const text = t(`commands.${name}`, { value });
  const target = data?.target ? `${label("compartments", data.target)} ` : "";
  return target + (text === name ? name.replaceAll("_", " ") : text);
}

/** One extra fact of a warning ("확률 82%"); keys the page does not know are shown as they are. */
function detailText(key, value) {
  if (key === "probability" && typeof value === "number") return t("probability_value", { value: Math.round(value * 100) });
  const name = t(`detail_keys.${key}`);
  const shown = typeof value === "number" ? Math.round(value * 100) / 100 : value;
  return `${name === key ? key : name}: ${shown}`;
}

/** The message of a warning or alert, in the page's language when the service gave one. */
export function warningMessage(data) {
  const lang = currentLanguage();
  // Services give their texts per language: maintenance `text: {ko, en}`, epidemic `notice: {ko, en}`.
  const inLanguage = (value) => (value && typeof value === "object" ? value[lang] || value.ko || "" : value || "");
  return (
    data?.[`message_${lang}`] || inLanguage(data?.notice) || inLanguage(data?.text) || data?.message || data?.summary || data?.title || ""
  );
}

/** What to do about a warning, in the page's language, when the service says. */
export function warningAdvice(data) {
  const advice = data?.advice;
  if (!advice) return "";
  return typeof advice === "object" ? advice[currentLanguage()] || advice.ko || "" : String(advice);
}

/** The live log with room and device filters. */
export class ActivityLog {
  constructor({ list, empty, roomFilter, deviceFilter, board }) {
    this.list = list;
    this.empty = empty;
    this.roomFilter = roomFilter;
    this.deviceFilter = deviceFilter;
    this.board = board;
    this.seen = new Set();
    roomFilter.addEventListener("change", () => {
      this.fillDeviceFilter();
      this.applyFilters();
    });
    deviceFilter.addEventListener("change", () => this.applyFilters());
  }

  reset() {
    this.seen.clear();
    this.list.replaceChildren();
    this.fillRoomFilter();
    this.fillDeviceFilter();
    this.refreshEmpty();
  }

  fillRoomFilter() {
    const keep = this.roomFilter.value;
    this.roomFilter.replaceChildren(el("option", { value: "", text: t("filter_all_rooms") }));
    for (const room of this.board.rooms) this.roomFilter.append(el("option", { value: room.id, text: this.board.roomName(room.id) }));
    this.roomFilter.value = this.board.rooms.some((r) => r.id === keep) ? keep : "";
  }

  fillDeviceFilter() {
    const keep = this.deviceFilter.value;
    const room = this.roomFilter.value;
    this.deviceFilter.replaceChildren(el("option", { value: "", text: t("filter_all_devices") }));
    const devices = this.board.devices.filter((d) => !room || d.room === room);
    for (const device of devices) this.deviceFilter.append(el("option", { value: device.id, text: this.board.deviceName(device.id) }));
    this.deviceFilter.value = devices.some((d) => d.id === keep) ? keep : "";
  }

  applyFilters() {
    for (const item of this.list.children) this.filterOne(item);
    this.refreshEmpty();
  }

  filterOne(item) {
    const room = this.roomFilter.value;
    const device = this.deviceFilter.value;
    item.hidden = Boolean((room && item.dataset.room !== room) || (device && item.dataset.device !== device));
  }

  refreshEmpty() {
    this.empty.hidden = [...this.list.children].some((item) => !item.hidden);
  }

  /** Add one event (live or from history, oldest first) at the top of the log. */
  add(event) {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    let text;
    let extra = "";
    let title = "";
    switch (event.kind) {
      case "state_changed":
        text = changeText(event.data);
        if (!text) return;
        break;
      case "command": {
        text = commandText(event.data);
        // "밝기 70% → 켜짐", not "밝기 70% → 밝기 70% · 켜짐": leave out what the command itself set.
        const caused = { ...this.takeRecentChange(event) };
        delete caused[commandAttribute(event.data)];
        extra = changeText(caused);
        break;
      }
      case "command_failed":
        // The hub stores the reason in every language (`text`); older events only its English detail.
        text = t("ev_command_failed", { command: commandText(event.data), message: warningMessage(event.data) || event.data?.error || "" });
        title = event.data?.message || "";
        break;
      case "availability":
        text = t(event.data?.is_available ? "ev_available" : "ev_unavailable");
        break;
      case "warning":
      case "alert":
      case "notice": // a routine's message
      case "say": // a routine's announcement for the speakers
        text = `${t(`kind_${event.kind}`)}: ${warningMessage(event.data)}`;
        break;
      default:
        text = t(`ev_${event.kind}`);
    }
    const device = event.device_id || "";
    const item = el(
      "li",
      { class: `event kind-${event.kind}`, "data-testid": "event", "data-event-id": event.id, "data-kind": event.kind, "data-device": device, "data-room": this.board.roomOf(device), "data-source": event.source, "data-at": event.at },
      el("strong", { class: "who", text: device ? this.board.deviceName(device) : "" }),
      el(
        "span",
        { class: "meta" },
        el("span", { class: `source source-${String(event.source).split(":")[0]}`, text: sourceName(event.source) }),
        el("time", { datetime: new Date(event.at * 1000).toISOString(), text: clock(event.at) }),
      ),
      el("span", { class: "what", text: extra ? `${text} → ${extra}` : text, title: title || undefined }),
    );
    if (event.kind === "state_changed") item.changes = event.data;
    this.filterOne(item);
    this.list.prepend(item);
    while (this.list.childElementCount > MAX_ENTRIES) this.list.lastElementChild.remove();
    this.refreshEmpty();
  }

  /** Remove the state change a command just caused from the log and return its changed attributes. */
  takeRecentChange(command) {
    for (const item of [...this.list.children].slice(0, 8)) {
      if (item.dataset.kind !== "state_changed" || item.dataset.device !== command.device_id) continue;
      if (Math.abs(Number(item.dataset.at) - command.at) > MERGE_WINDOW_S) continue;
      item.remove();
      return item.changes || {};
    }
    return {};
  }
}

/** The words of a warning's facts ("사우디아라비아 · 메르스"), from the shared warning shape. */
export function warningFacts(data) {
  const facts = data?.facts;
  if (facts && typeof facts === "object") return facts[currentLanguage()] || facts.ko || "";
  return "";
}

/** Warnings and alerts: one card per device and problem (`warning_id`), updated in place, shown on the
 * device's card too, acknowledged or dismissed by whoever is signed in. Hidden when there are none
 * and no such service runs. */
export class WarningsPanel {
  constructor({ panel, list, empty, board }) {
    this.panel = panel;
    this.list = list;
    this.empty = empty;
    this.board = board;
    this.servicesRun = false;
    this.seen = new Set();
    this.items = new Map();
  }

  reset(features) {
    this.servicesRun = features.includes("maintenance") || features.includes("epidemic") || features.includes("thinq");
    this.seen.clear();
    this.items.clear();
    this.list.replaceChildren();
    this.refresh();
  }

  add(event) {
    if ((event.kind !== "warning" && event.kind !== "alert") || this.seen.has(event.id)) return;
    this.seen.add(event.id);
    const data = event.data || {};
    // Events from before the shared shape have no warning id: each is its own card.
    const id = data.warning_id || `event:${event.id}`;
    const old = this.items.get(id);
    if (old && Number(old.dataset.eventId) > event.id) return; // history older than what is shown
    old?.remove();
    this.items.delete(id);
    if (data.status === "dismissed") {
      this.board.setWarning(event.device_id, id, null);
      this.refresh();
      return;
    }
    const item = this.card(event, id);
    this.items.set(id, item);
    this.list.prepend(item);
    this.board.setWarning(event.device_id, id, { text: warningMessage(data), severity: data.severity || "warning", status: data.status || "active" });
    this.refresh();
  }

  card(event, id) {
    const data = event.data || {};
    const hidden = new Set(["text", "summary", "title", "key", "advice_key", "device", "device_type", "model_version", "level_days", "language", "home_id", "alert_id"]);
    // The shared shape says its facts in words; older events show a few plain facts at most.
    const details =
      warningFacts(data) ||
      Object.entries(data)
        .filter(([key, value]) => !key.startsWith("message") && !hidden.has(key) && ["string", "number", "boolean"].includes(typeof value))
        .slice(0, 4)
        .map(([key, value]) => detailText(key, value))
        .join(" · ");
    const advice = warningAdvice(data);
    const source = data.source || event.source;
    const kindName = t(`warning_source.${source}`);
    const status = data.status || "active";
    const item = el(
      "li",
      {
        class: `warning kind-${event.kind} severity-${data.severity || "warning"} status-${status}`,
        "data-testid": "warning", "data-kind": event.kind, "data-device": event.device_id || "", "data-warning-id": id,
        "data-event-id": event.id, "data-status": status,
      },
      el(
        "div",
        { class: "warning-head" },
        el("span", { class: "warning-kind", text: kindName === source ? t(`kind_${event.kind}`) : kindName }),
        el("time", { datetime: new Date(event.at * 1000).toISOString(), text: clock(event.at) }),
      ),
      event.device_id ? el("strong", { text: this.board.deviceName(event.device_id) }) : null,
      el("p", { class: "warning-text", "data-testid": "warning-text", text: warningMessage(data) }),
      details ? el("p", { class: "warning-details", "data-testid": "warning-facts", text: details }) : null,
      advice ? el("p", { class: "warning-details", text: advice }) : null,
    );
    if (data.warning_id) item.append(this.buttons(id, status, data.by));
    return item;
  }

  buttons(id, status, by) {
    const row = el("div", { class: "warning-actions" });
    if (status === "acknowledged") row.append(el("span", { class: "warning-seen", "data-testid": "warning-seen", text: t("warning_acknowledged", { by: by || "" }) }));
    else row.append(this.button(id, "acknowledge", t("warning_acknowledge")));
    row.append(this.button(id, "dismiss", t("warning_dismiss")));
    return row;
  }

  button(id, action, text) {
    const button = el("button", { type: "button", class: "ghost", "data-testid": `warning-${action}`, text });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        // The hub publishes the new status; the card changes when that event arrives.
        const result = await call("POST", `api/warnings/${encodeURIComponent(id)}/${action}`);
        this.add({ ...result.warning, id: result.warning.event_id, data: result.warning });
      } catch (error) {
        button.disabled = false;
        button.title = error.message;
      }
    });
    return button;
  }

  refresh() {
    const count = this.list.childElementCount;
    this.panel.hidden = count === 0 && !this.servicesRun;
    this.empty.hidden = count > 0;
  }
}
