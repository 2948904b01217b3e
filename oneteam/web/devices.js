// Rooms and device cards: one card per device, grouped by room, updated in place from live state.
import { call, hubUrl } from "./api.js";
import { label, pickName, t } from "./i18n.js";
import { el } from "./dom.js";

const ICONS = {
  air_conditioner: "ac", washer: "washer", dryer: "washer", refrigerator: "fridge", air_purifier: "purifier",
  robot_cleaner: "robot", light: "light", tv: "tv", switch: "switch", sensor: "sensor",
};

function icon(type) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
  use.setAttribute("href", hubUrl(`static/icons.svg#${ICONS[type] || "switch"}`));
  svg.append(use);
  return svg;
}

const num = (value) => (typeof value === "number" ? String(Math.round(value * 10) / 10) : String(value ?? "–"));

/** The state of a device in words: a headline and a detail line (e.g. "켜짐", "24°C 설정 · 현재 26.5°C"). */
export function describe(device, attrs) {
  const a = attrs || {};
  const power = a.power === undefined ? null : t(a.power ? "on" : "off");
  const join = (...parts) => parts.filter(Boolean).join(" · ");
  switch (device.type) {
    case "air_conditioner":
      return [
        join(power, a.power ? label("modes", a.mode) : null, a.power ? label("fan_speeds", a.fan_speed) : null),
        join(t("temperature_set", { value: num(a.temperature) }), t("temperature_now", { value: num(a.current_temperature) })),
      ];
    case "washer":
    case "dryer": {
      const running = a.run_state === "running" || a.run_state === "paused";
      const course = a.mode ? t("course_value", { course: label("modes", a.mode) }) : null;
      const left = running ? t("minutes_left", { n: Math.ceil((a.remaining_time || 0) / 60) }) : null;
      return [label("run_states", a.run_state), join(course, left)];
    }
    case "refrigerator": {
      const temps = Object.keys(device.capabilities.compartments || {}).map((c) =>
        t("compartment_temperature", { compartment: label("compartments", c), value: num(a[`${c}_temperature`]) }),
      );
      return [join(...temps), join(t(a.door === "open" ? "door_open" : "door_closed"), a.express_freeze ? t("express_freeze_on") : null)];
    }
    case "air_purifier":
      return [
        join(power, a.power ? label("modes", a.mode) : null, a.power ? label("fan_speeds", a.fan_speed) : null),
        join(t("air_quality_value", { quality: label("air_quality", a.air_quality) }), a.pm25 !== undefined ? t("pm25_value", { value: num(a.pm25) }) : null),
      ];
    case "robot_cleaner":
      return [label("run_states", a.run_state), a.battery !== undefined ? t("battery_value", { value: Math.round(a.battery) }) : ""];
    case "light":
      return [power, a.power ? t("brightness_value", { value: num(a.brightness) }) : ""];
    case "tv":
      return [power, a.power ? join(t("channel_value", { value: num(a.channel) }), t("volume_value", { value: num(a.volume) })) : ""];
    case "sensor":
      return [num(a.value), ""];
    default:
      return [power ?? "", ""];
  }
}

/** One device's card: built once, then `update` changes its text and control values in place. */
class DeviceCard {
  constructor(device, send, rooms = []) {
    this.device = device;
    this.send = send;
    this.rooms = rooms;
    this.attrs = { ...(device.state?.attributes || {}) };
    this.isAvailable = device.state?.is_available !== false;
    this.inputs = [];
    this.build();
    this.update();
  }

  get name() {
    return pickName(this.device.names, this.device.name);
  }

  has(command) {
    return this.device.capabilities.commands.includes(command);
  }

  build() {
    const d = this.device;
    this.headline = el("p", { class: "state-main" });
    this.detail = el("p", { class: "state-detail" });
    this.badge = el("span", { class: "badge-offline", text: t("unavailable"), hidden: true });
    this.error = el("p", { class: "card-error", role: "alert", "data-testid": `error-${d.id}`, hidden: true });
    this.warningList = el("ul", { class: "card-warnings", "data-testid": `warnings-${d.id}`, hidden: true });
    this.warnings = new Map();
    const typeName = label("types", d.type);
    const titles = el("div", { class: "titles" }, el("h3", { text: this.name, title: this.name }), typeName !== this.name ? el("p", { class: "type", text: typeName }) : null);
    const header = el("header", {}, icon(d.type), titles, this.badge);
    const isFridge = d.type === "refrigerator";
    if (this.has("turn_on") && this.has("turn_off") && !isFridge) header.append(this.powerSwitch("power", "toggle"));
    const controls = el("div", { class: "controls" });
    if (isFridge && this.has("turn_on")) controls.append(this.labelled(t("express_freeze"), this.powerSwitch("express_freeze", "freeze")));
    if (this.has("set_temperature")) {
      const compartments = Object.entries(d.capabilities.compartments || {});
      if (compartments.length) {
        for (const [target, range] of compartments) controls.append(this.stepper(label("compartments", target), target, range));
      } else controls.append(this.stepper(t("temperature"), null, d.capabilities.temperature_range));
    }
    if (this.has("set_mode") && d.capabilities.modes.length)
      controls.append(this.picker(t(d.type === "washer" ? "course" : "mode"), "set_mode", "mode", "modes", d.capabilities.modes));
    if (this.has("set_fan_speed") && d.capabilities.fan_speeds.length)
      controls.append(this.picker(t("fan_speed"), "set_fan_speed", "fan_speed", "fan_speeds", d.capabilities.fan_speeds));
    if (this.has("set_brightness")) controls.append(this.slider(t("brightness"), "set_brightness", "brightness", 0, 100));
    if (this.has("set_volume")) controls.append(this.slider(t("volume"), "set_volume", "volume", 0, 100));
    if (this.has("set_channel")) controls.append(this.channelInput());
    const actions = ["start", "pause", "stop", "return_to_base"].filter((c) => this.has(c));
    if (actions.length) {
      const group = el("div", { class: "actions", role: "group" });
      for (const action of actions) {
        const button = el("button", { type: "button", class: `action action-${action}`, "data-testid": `${action}-${d.id}`, text: t(action) });
        button.addEventListener("click", () => this.command({ command: action }));
        group.append(button);
        this.inputs.push(button);
      }
      controls.append(group);
    }
    this.node = el(
      "article",
      { class: `card type-${d.type}`, "data-testid": `device-${d.id}`, "data-device": d.id, "aria-label": this.name },
      header,
      el("div", { class: "state", "data-testid": `state-${d.id}`, "aria-live": "polite" }, this.headline, this.detail),
      this.warningList,
      controls.childElementCount ? controls : null,
      this.error,
      this.historyButton(),
      this.editMenu(),
    );
  }

  /** Rename, move to a room, hide or remove (owner and adults; the hub refuses others with words).
   * The page redraws from the hub's device_changed/device_removed event. */
  editMenu() {
    const d = this.device;
    const name = el("input", { type: "text", maxlength: 80, value: this.name, "data-testid": `edit-name-${d.id}`, "aria-label": t("edit_name") });
    const room = el("select", { "data-testid": `edit-room-${d.id}`, "aria-label": t("edit_room") });
    if (!d.room) room.append(el("option", { value: "", text: t("no_room"), selected: true }));
    for (const r of this.rooms || []) room.append(el("option", { value: r.id, text: pickName(r.names, r.id), selected: r.id === d.room }));
    const run = async (method, body) => {
      try {
        await call(method, `api/devices/${encodeURIComponent(d.id)}`, body);
        this.error.hidden = true;
      } catch (error) {
        this.showError(error.message);
      }
    };
    const save = el("button", { type: "submit", "data-testid": `edit-save-${d.id}`, text: t("edit_save") });
    const hide = el("button", { type: "button", "data-testid": `edit-hide-${d.id}`, text: t(d.hidden ? "edit_show" : "edit_hide") });
    hide.addEventListener("click", () => run("PATCH", { hidden: !d.hidden }));
    const remove = el("button", { type: "button", class: "danger", "data-testid": `edit-remove-${d.id}`, text: t("edit_remove") });
    remove.addEventListener("click", () => {
      if (confirm(t("edit_remove_confirm", { name: this.name }))) run("DELETE");
    });
    const form = el("form", { class: "edit-form" }, name, room, el("div", { class: "edit-buttons" }, save, hide, remove));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {};
      if (name.value.trim() !== this.name) body.name = name.value;
      if (room.value && room.value !== d.room) body.room = room.value;
      if (Object.keys(body).length) run("PATCH", body);
    });
    const note = d.note ? el("p", { class: "edit-note", text: d.note }) : null;
    this.editor = el("details", { class: "device-edit", "data-testid": `edit-${d.id}` }, el("summary", { text: t("edit_open") }), note);
    // The form joins the card only while the menu is open, so a closed menu takes no room at all.
    this.editor.addEventListener("toggle", () => {
      if (this.editor.open) this.editor.append(form);
      else form.remove();
    });
    return this.editor;
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  /** Opens the device's history (its numbers over time); the board decides how. */
  historyButton() {
    const button = el("button", { type: "button", class: "history-open", "data-testid": `history-open-${this.device.id}`, text: t("history_open") });
    button.addEventListener("click", () => this.onHistory?.(this.device.id, this.name));
    return button;
  }

  /** A device this member may not use: its controls go, a badge says why. */
  setReadOnly(readOnly) {
    this.node.classList.toggle("read-only", readOnly);
    this.node.dataset.readOnly = String(readOnly);
    for (const input of this.inputs) input.hidden = readOnly;
    const controls = this.node.querySelector(".controls");
    if (controls) controls.hidden = readOnly;
    this.lockBadge ||= this.node.querySelector("header").appendChild(el("span", { class: "badge-lock", "data-testid": `read-only-${this.device.id}`, text: t("read_only") }));
    this.lockBadge.hidden = !readOnly;
  }

  /** Show, update or (with null) drop one warning on this card, by its stable id. */
  setWarning(id, warning) {
    if (warning) this.warnings.set(id, warning);
    else this.warnings.delete(id);
    this.warningList.replaceChildren(
      ...[...this.warnings].map(([key, w]) =>
        el("li", { class: `card-warning severity-${w.severity} status-${w.status}`, "data-warning-id": key, text: w.text }),
      ),
    );
    this.warningList.hidden = this.warnings.size === 0;
  }

  labelled(text, control) {
    return el("div", { class: "control inline" }, el("span", { class: "control-label", text }), control);
  }

  powerSwitch(attribute, testid) {
    const button = el("button", { type: "button", class: "switch", role: "switch", "data-testid": `${testid}-${this.device.id}` });
    button.setAttribute("aria-label", `${this.name} ${t(attribute === "power" ? "power" : "express_freeze")}`);
    button.append(el("span", { class: "knob" }));
    button.addEventListener("click", () => this.command({ command: this.attrs[attribute] ? "turn_off" : "turn_on" }));
    this.inputs.push(button);
    (this.switches ||= []).push([button, attribute]);
    return button;
  }

  stepper(text, target, range) {
    const id = this.device.id + (target ? `-${target}` : "");
    const attribute = target ? `${target}_temperature` : "temperature";
    const input = el("input", {
      type: "number", inputmode: "numeric", step: 1, min: range?.[0], max: range?.[1],
      id: `temp-${id}`, "data-testid": `temp-input-${id}`,
    });
    const send = (value) => this.command({ command: "set_temperature", value, ...(target ? { target } : {}) });
    const down = el("button", { type: "button", class: "step", "data-testid": `temp-down-${id}`, "aria-label": `${text} ${t("temperature_down")}`, text: "−" });
    const up = el("button", { type: "button", class: "step", "data-testid": `temp-up-${id}`, "aria-label": `${text} ${t("temperature_up")}`, text: "+" });
    const apply = el("button", { type: "button", class: "apply", "data-testid": `temp-apply-${id}`, text: t("apply") });
    down.addEventListener("click", () => send(Number(this.attrs[attribute]) - 1));
    up.addEventListener("click", () => send(Number(this.attrs[attribute]) + 1));
    apply.addEventListener("click", () => input.value !== "" && send(Number(input.value)));
    input.addEventListener("keydown", (e) => e.key === "Enter" && apply.click());
    this.inputs.push(input, down, up, apply);
    (this.numbers ||= []).push([input, attribute]);
    const range_text = range ? `${range[0]}–${range[1]}°C` : "";
    return el(
      "div",
      { class: "control" },
      el("label", { class: "control-label", for: input.id, text: `${text} ${range_text}`.trim() }),
      el("div", { class: "stepper" }, down, input, up, apply),
    );
  }

  picker(text, command, attribute, table, ids) {
    const id = `${command}-${this.device.id}`;
    const select = el("select", { id, "data-testid": `${attribute === "mode" ? "mode" : "fan"}-${this.device.id}` });
    for (const value of ids) select.append(el("option", { value, text: label(table, value) }));
    select.addEventListener("change", () => this.command({ command, value: select.value }));
    this.inputs.push(select);
    (this.selects ||= []).push([select, attribute]);
    return el("div", { class: "control" }, el("label", { class: "control-label", for: id, text }), select);
  }

  slider(text, command, attribute, low, high) {
    const id = `${command}-${this.device.id}`;
    const input = el("input", { type: "range", id, min: low, max: high, step: 5, "data-testid": `${attribute}-${this.device.id}` });
    const output = el("output", { for: id });
    input.addEventListener("input", () => (output.textContent = input.value));
    input.addEventListener("change", () => this.command({ command, value: Number(input.value) }));
    this.inputs.push(input);
    (this.ranges ||= []).push([input, attribute, output]);
    return el("div", { class: "control" }, el("label", { class: "control-label", for: id, text }), el("div", { class: "slider" }, input, output));
  }

  channelInput() {
    const id = `channel-${this.device.id}`;
    const input = el("input", { type: "number", id, min: 1, max: 999, step: 1, inputmode: "numeric", "data-testid": id });
    input.addEventListener("change", () => input.value !== "" && this.command({ command: "set_channel", value: Number(input.value) }));
    this.inputs.push(input);
    (this.numbers ||= []).push([input, "channel"]);
    return el("div", { class: "control" }, el("label", { class: "control-label", for: id, text: t("channel") }), input);
  }

  async command(body) {
    this.node.classList.add("pending");
    this.error.hidden = true;
    try {
      const result = await this.send(this.device.id, body);
      if (result?.state) this.setState(result.state);
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
      this.error.dataset.unreachable = String(error.status === 0);
      this.update(); // put controls back to the device's real values
    } finally {
      this.node.classList.remove("pending");
    }
  }

  setState(state) {
    this.attrs = { ...state.attributes };
    this.isAvailable = state.is_available !== false;
    this.update();
  }

  merge(changes) {
    Object.assign(this.attrs, changes);
    this.update();
  }

  setAvailable(isAvailable) {
    this.isAvailable = isAvailable;
    this.update();
  }

  update() {
    const [main, detail] = describe(this.device, this.attrs);
    if (this.headline.textContent !== main) this.headline.textContent = main;
    if (this.detail.textContent !== (detail || "")) this.detail.textContent = detail || "";
    this.node.classList.toggle("unavailable", !this.isAvailable);
    this.node.classList.toggle("is-on", this.attrs.power === true || this.attrs.run_state === "running" || this.attrs.run_state === "cleaning");
    this.node.setAttribute("aria-disabled", String(!this.isAvailable));
    this.badge.hidden = this.isAvailable;
    for (const input of this.inputs) input.disabled = !this.isAvailable;
    for (const [button, attribute] of this.switches || []) button.setAttribute("aria-checked", String(Boolean(this.attrs[attribute])));
    const focused = document.activeElement;
    for (const [input, attribute] of this.numbers || []) if (input !== focused && this.attrs[attribute] !== undefined) input.value = this.attrs[attribute];
    for (const [select, attribute] of this.selects || []) if (this.attrs[attribute] !== undefined) select.value = this.attrs[attribute];
    for (const [input, attribute, output] of this.ranges || []) {
      if (input !== focused && this.attrs[attribute] !== undefined) input.value = this.attrs[attribute];
      output.textContent = input.value;
    }
    const run = this.attrs.run_state;
    const allowed = { start: run !== "running" && run !== "cleaning", pause: run === "running" || run === "cleaning", stop: run && run !== "idle" && run !== "docked" && run !== "finished" };
    for (const [action, ok] of Object.entries(allowed)) {
      const button = this.node.querySelector(`[data-testid="${action}-${this.device.id}"]`);
      if (button) button.classList.toggle("dim", !ok);
    }
  }

  highlight() {
    this.node.classList.remove("changed");
    void this.node.offsetWidth; // restart the animation
    this.node.classList.add("changed");
  }
}

/** All cards, grouped by room. */
export class DeviceBoard {
  constructor(root, send) {
    this.root = root;
    this.send = send;
    this.cards = new Map();
    this.devices = [];
    this.rooms = [];
    this.showHidden = false;
  }

  render(rooms, devices) {
    this.rooms = rooms;
    this.devices = devices;
    this.cards.clear();
    const groups = new Map(rooms.map((room) => [room.id, []]));
    const hidden = devices.filter((device) => device.hidden).length;
    for (const device of devices) {
      if (device.hidden && !this.showHidden) continue;
      if (!groups.has(device.room)) groups.set(device.room, []);
      groups.get(device.room).push(device);
    }
    const sections = [];
    for (const [roomId, list] of groups) {
      if (!list.length) continue;
      const room = rooms.find((r) => r.id === roomId);
      const grid = el("div", { class: "grid" });
      for (const device of list) {
        const card = new DeviceCard(device, this.send, rooms);
        card.onHistory = (id, name) => this.onHistory?.(id, name);
        this.cards.set(device.id, card);
        grid.append(card.node);
      }
      sections.push(
        el(
          "section",
          { class: "room", "data-testid": `room-${roomId}`, "aria-labelledby": `room-title-${roomId}` },
          el(
            "h2",
            { id: `room-title-${roomId}` },
            el("span", { class: "room-name", text: this.roomName(roomId) }),
            el("small", { text: t("device_count", { n: list.length }) }),
          ),
          grid,
        ),
      );
    }
    if (hidden) {
      const toggle = el("button", { type: "button", class: "hidden-toggle", "data-testid": "hidden-toggle", text: t(this.showHidden ? "hidden_hide" : "hidden_show", { n: hidden }) });
      toggle.addEventListener("click", () => {
        this.showHidden = !this.showHidden;
        this.render(this.rooms, this.devices);
      });
      sections.push(toggle);
    }
    this.root.replaceChildren(...sections);
  }

  roomName(roomId) {
    const room = this.rooms.find((r) => r.id === roomId);
    return room ? pickName(room.names, roomId) : roomId || t("no_room");
  }

  deviceName(deviceId) {
    return this.cards.get(deviceId)?.name || deviceId || "";
  }

  roomOf(deviceId) {
    return this.devices.find((d) => d.id === deviceId)?.room || "";
  }

  applyStates(states) {
    for (const [id, state] of Object.entries(states)) this.cards.get(id)?.setState(state);
  }

  applyEvent(event) {
    const card = this.cards.get(event.device_id);
    if (!card) return;
    if (event.kind === "state_changed") card.merge(event.data || {});
    else if (event.kind === "availability") card.setAvailable(Boolean(event.data?.is_available));
  }

  highlight(ids) {
    for (const id of ids) this.cards.get(id)?.highlight();
  }

  /** Only `allowed` device ids (null: all) keep their controls; the rest are shown, read-only. */
  applyAccess(allowed) {
    for (const [id, card] of this.cards) card.setReadOnly(allowed !== null && !allowed.includes(id));
  }

  /** The edit menus are for the owner and adults (the hub refuses the others anyway). */
  applyManage(manages) {
    for (const card of this.cards.values()) if (card.editor) card.editor.hidden = !manages;
  }

  /** Drop the "hub unreachable" messages of clicks made while it was down (it is back). */
  clearUnreachable() {
    for (const card of this.cards.values()) {
      if (card.error.dataset.unreachable === "true") {
        card.error.hidden = true;
        card.error.dataset.unreachable = "false";
      }
    }
  }

  setWarning(deviceId, id, warning) {
    this.cards.get(deviceId)?.setWarning(id, warning);
  }
}
