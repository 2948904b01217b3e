// A simple editor for an automation: one trigger, at most one condition, and a list of steps.
// A routine the form cannot show whole (several triggers, nested conditions, a scene) opens as
// JSON instead, so nothing is lost by editing it here. The hub checks everything on save and its
// refusal (where and why, in the page's language) is shown as it came.
import { call } from "./api.js";
import { currentLanguage, pickName, t } from "./i18n.js";
import { el } from "./dom.js";

function field(label, control) {
  return el("label", { class: "editor-field" }, el("span", { text: label }), control);
}

function select(testid, options, value) {
  const node = el("select", { "data-testid": testid });
  for (const [optionValue, text] of options) node.append(el("option", { value: optionValue, text }));
  if (value !== undefined) node.value = value;
  return node;
}

function input(testid, value = "", type = "text") {
  const node = el("input", { "data-testid": testid, type });
  node.value = value ?? "";
  return node;
}

const TRIGGERS = ["time", "sun", "state", "event", "phrase"];
const CONDITIONS = ["none", "time", "workday", "holiday", "state"];
const STEPS = ["command", "scene", "notify", "say", "delay"];
const EVENTS = ["finished", "warning", "alert", "availability", "command_failed"];

/** A number when the text is one ("20" → 20), else the text ("auto"); empty → undefined. */
function valueOf(text) {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function textOf(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return value[currentLanguage()] || value.ko || Object.values(value)[0] || "";
  return String(value);
}

/** Whether the form can show a routine whole (else it opens as JSON). */
function fitsForm(routine) {
  const triggers = routine.triggers || [];
  const conditions = routine.conditions || [];
  const trigger = triggers[0] || {};
  const condition = conditions[0] || {};
  const triggerOk =
    triggers.length <= 1 &&
    (triggers.length === 0 || "time" in trigger || "sun" in trigger || "event" in trigger || "phrase" in trigger || ("device" in trigger && "attribute" in trigger && "to" in trigger));
  const conditionOk =
    conditions.length <= 1 &&
    (conditions.length === 0 || "time" in condition || "holiday" in condition || ("device" in condition && "is" in condition));
  const stepsOk = (routine.actions || []).every(
    (step) => "command" in step || "scene" in step || ("notify" in step && !("to" in step)) || "say" in step || "delay" in step,
  );
  return routine.kind !== "scene" && triggerOk && conditionOk && stepsOk;
}

export class RoutineEditor {
  constructor({ onSaved, onExpired }) {
    this.onSaved = onSaved;
    this.onExpired = onExpired;
    this.devices = [];
    this.form = el("form", { class: "routine-editor", "data-testid": "routine-editor", hidden: true });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  async open(routine, routines) {
    try {
      this.devices = (await call("GET", "api/devices")).devices;
    } catch (error) {
      if (error.status === 401) this.onExpired();
      return;
    }
    this.scenes = routines.filter((r) => r.kind === "scene");
    this.editing = routine;
    this.json = routine !== null && !fitsForm(routine);
    this.render(routine || { triggers: [{ time: "07:00" }], actions: [{ command: "turn_on" }] });
    this.form.hidden = false;
    this.form.querySelector("input, textarea, select")?.focus();
  }

  close() {
    this.form.hidden = true;
    this.form.replaceChildren();
  }

  deviceOptions() {
    return this.devices.map((d) => [d.id, pickName(d.names, d.id)]);
  }

  render(routine) {
    const title = t(this.editing ? "routine_editor.edit_title" : "routine_editor.new_title");
    this.id = input("routine-editor-id", routine.id || "");
    if (this.editing) this.id.disabled = true;
    this.name = input("routine-editor-name", textOf(routine.names));
    this.error = el("p", { class: "editor-error", role: "alert", "data-testid": "routine-editor-error", hidden: true });
    const save = el("button", { type: "submit", "data-testid": "routine-editor-save", text: t("routine_editor.save") });
    const cancel = el("button", { type: "button", class: "ghost", "data-testid": "routine-editor-cancel", text: t("routine_editor.cancel") });
    cancel.addEventListener("click", () => this.close());
    const head = [el("h3", { text: title }), field(t("routine_editor.id"), this.id), field(t("routine_editor.name"), this.name)];
    if (this.json) {
      const { kind, origin, owner, running, ...definition } = routine;
      this.jsonText = el("textarea", { "data-testid": "routine-editor-json", rows: 12, spellcheck: "false" });
      this.jsonText.value = JSON.stringify(definition, null, 2);
      this.form.replaceChildren(...head, el("p", { class: "editor-note", text: t("routine_editor.json_note") }), this.jsonText, this.error, el("div", { class: "editor-buttons" }, cancel, save));
      return;
    }
    this.form.replaceChildren(
      ...head,
      this.triggerSection((routine.triggers || [])[0]),
      this.conditionSection((routine.conditions || [])[0]),
      this.stepsSection(routine.actions || []),
      this.error,
      el("div", { class: "editor-buttons" }, cancel, save),
    );
  }

  // -- trigger -----------------------------------------------------------------------------

  triggerSection(trigger = {}) {
    const kind = TRIGGERS.find((k) => k in trigger) || (trigger.device ? "state" : "time");
    this.triggerKind = select("routine-editor-trigger", TRIGGERS.map((k) => [k, t(`routine_editor.trigger_${k}`)]), kind);
    this.triggerFields = el("div", { class: "editor-fields" });
    this.triggerKind.addEventListener("change", () => this.fillTrigger({}));
    this.fillTrigger(trigger);
    return el("fieldset", {}, el("legend", { text: t("routine_editor.when") }), this.triggerKind, this.triggerFields);
  }

  fillTrigger(trigger) {
    const kind = this.triggerKind.value;
    const f = (this.trigger = {});
    const listed = Array.isArray(trigger.weekdays) ? trigger.weekdays.join(",") : null;
    const days = { "0,1,2,3,4": "weekdays", "5,6": "weekend" }[listed] || (listed ? "custom" : trigger.weekdays || "every");
    if (kind === "time") {
      f.time = input("routine-editor-time", trigger.time || "07:00", "time");
      const choices = ["every", "weekdays", "weekend", ...(days === "custom" ? ["custom"] : [])];
      f.days = select("routine-editor-days", choices.map((d) => [d, t(`routine_editor.days_${d}`)]), days);
      this.triggerFields.replaceChildren(field(t("routine_editor.at"), f.time), field(t("routine_editor.days"), f.days));
      f.keepDays = Array.isArray(trigger.weekdays) ? trigger.weekdays : null;
    } else if (kind === "sun") {
      f.sun = select("routine-editor-sun", [["sunrise", t("routine_editor.sunrise")], ["sunset", t("routine_editor.sunset")]], trigger.sun || "sunset");
      f.offset = input("routine-editor-offset", trigger.offset ? String(trigger.offset) : "");
      this.triggerFields.replaceChildren(f.sun, field(t("routine_editor.offset"), f.offset));
    } else if (kind === "state") {
      f.device = select("routine-editor-trigger-device", this.deviceOptions(), trigger.device);
      f.attribute = input("routine-editor-attribute", trigger.attribute || "power");
      f.to = input("routine-editor-to", textOf(Array.isArray(trigger.to) ? trigger.to[0] : trigger.to));
      f.for = input("routine-editor-for", trigger.for ? String(trigger.for) : "");
      this.triggerFields.replaceChildren(f.device, field(t("routine_editor.attribute"), f.attribute), field(t("routine_editor.to"), f.to), field(t("routine_editor.for"), f.for));
    } else if (kind === "event") {
      f.event = select("routine-editor-event", EVENTS.map((e) => [e, t(`routine_editor.event_${e}`)]), trigger.event);
      f.device = select("routine-editor-event-device", [["", t("routine_editor.any_device")], ...this.deviceOptions()], trigger.device || "");
      this.triggerFields.replaceChildren(f.event, f.device);
    } else {
      f.phrase = input("routine-editor-phrase", trigger.phrase || "");
      this.triggerFields.replaceChildren(field(t("routine_editor.phrase"), f.phrase));
    }
  }

  readTrigger() {
    const kind = this.triggerKind.value;
    const f = this.trigger;
    if (kind === "time") {
      const trigger = { time: f.time.value };
      if (f.days.value !== "every") trigger.weekdays = f.days.value === "custom" ? f.keepDays : f.days.value;
      return trigger;
    }
    if (kind === "sun") return f.offset.value.trim() ? { sun: f.sun.value, offset: f.offset.value.trim() } : { sun: f.sun.value };
    if (kind === "state") {
      const trigger = { device: f.device.value, attribute: f.attribute.value.trim(), to: valueOf(f.to.value) };
      if (f.for.value.trim()) trigger.for = f.for.value.trim();
      return trigger;
    }
    if (kind === "event") return f.device.value ? { event: f.event.value, device: f.device.value } : { event: f.event.value };
    return { phrase: f.phrase.value.trim() };
  }

  // -- condition ---------------------------------------------------------------------------

  conditionSection(condition) {
    let kind = "none";
    if (condition?.time) kind = "time";
    else if (condition && "holiday" in condition) kind = condition.holiday ? "holiday" : "workday";
    else if (condition?.device) kind = "state";
    this.conditionKind = select("routine-editor-condition", CONDITIONS.map((k) => [k, t(`routine_editor.condition_${k}`)]), kind);
    this.conditionFields = el("div", { class: "editor-fields" });
    this.conditionKind.addEventListener("change", () => this.fillCondition({}));
    this.fillCondition(condition || {});
    return el("fieldset", {}, el("legend", { text: t("routine_editor.only_if") }), this.conditionKind, this.conditionFields);
  }

  fillCondition(condition) {
    const kind = this.conditionKind.value;
    const f = (this.condition = {});
    if (kind === "time") {
      f.after = input("routine-editor-after", condition.time?.after || "22:00", "time");
      f.before = input("routine-editor-before", condition.time?.before || "06:00", "time");
      this.conditionFields.replaceChildren(field(t("routine_editor.after"), f.after), field(t("routine_editor.before"), f.before));
    } else if (kind === "state") {
      f.device = select("routine-editor-condition-device", this.deviceOptions(), condition.device);
      f.attribute = input("routine-editor-condition-attribute", condition.attribute || "power");
      f.is = input("routine-editor-condition-is", textOf(Array.isArray(condition.is) ? condition.is[0] : condition.is));
      this.conditionFields.replaceChildren(f.device, field(t("routine_editor.attribute"), f.attribute), field(t("routine_editor.is"), f.is));
    } else {
      this.conditionFields.replaceChildren();
    }
  }

  readConditions() {
    const kind = this.conditionKind.value;
    const f = this.condition;
    if (kind === "time") return [{ time: { after: f.after.value, before: f.before.value } }];
    if (kind === "holiday" || kind === "workday") return [{ holiday: kind === "holiday" }];
    if (kind === "state") return [{ device: f.device.value, attribute: f.attribute.value.trim(), is: [valueOf(f.is.value)] }];
    return [];
  }

  // -- steps -------------------------------------------------------------------------------

  stepsSection(actions) {
    this.steps = el("ol", { class: "editor-steps", "data-testid": "routine-editor-steps" });
    for (const action of actions) this.addStep(action);
    const add = el("button", { type: "button", class: "ghost", "data-testid": "routine-editor-add-step", text: t("routine_editor.add_step") });
    add.addEventListener("click", () => this.addStep({ command: "turn_on" }));
    return el("fieldset", {}, el("legend", { text: t("routine_editor.then") }), this.steps, add);
  }

  addStep(action) {
    const n = this.steps.children.length;
    const kind = STEPS.find((k) => k in action) || "command";
    const row = el("li", { class: "editor-step", "data-testid": `routine-editor-step-${n}` });
    const kindSelect = select(`routine-editor-step-kind-${n}`, STEPS.map((k) => [k, t(`action_${k}`)]), kind);
    const fields = el("span", { class: "editor-fields" });
    const remove = el("button", { type: "button", class: "ghost", text: "✕", "aria-label": t("routine_editor.remove") });
    remove.addEventListener("click", () => row.remove());
    row.append(kindSelect, fields, remove);
    row.read = () => ({});
    const fill = (step) => {
      const k = kindSelect.value;
      if (k === "command") {
        const device = select(`routine-editor-step-device-${n}`, this.deviceOptions(), step.device);
        const command = select(`routine-editor-step-command-${n}`, [], undefined);
        const value = input(`routine-editor-step-value-${n}`, textOf(step.value));
        const commands = () => {
          const found = this.devices.find((d) => d.id === device.value);
          command.replaceChildren(...(found?.capabilities.commands || []).map((c) => el("option", { value: c, text: c })));
        };
        device.addEventListener("change", commands);
        commands();
        if (step.command) command.value = step.command;
        fields.replaceChildren(device, command, field(t("routine_editor.value"), value));
        row.read = () => {
          const out = { device: device.value, command: command.value };
          if (valueOf(value.value) !== undefined) out.value = valueOf(value.value);
          if (step.continue_on_error) out.continue_on_error = true;
          return out;
        };
      } else if (k === "scene") {
        const scene = select(`routine-editor-step-scene-${n}`, this.scenes.map((s) => [s.id, textOf(s.names)]), step.scene);
        fields.replaceChildren(scene);
        row.read = () => ({ scene: scene.value });
      } else if (k === "delay") {
        const seconds = input(`routine-editor-step-delay-${n}`, step.delay !== undefined ? String(step.delay) : "60");
        fields.replaceChildren(field(t("routine_editor.delay"), seconds));
        row.read = () => ({ delay: valueOf(seconds.value) ?? seconds.value });
      } else {
        const words = typeof step[k] === "object" ? step[k] : null;
        const text = input(`routine-editor-step-text-${n}`, textOf(step[k]));
        fields.replaceChildren(field(t("routine_editor.text"), text));
        // The language not shown here keeps its words unless the text was changed.
        row.read = () => {
          const shown = text.value.trim();
          if (words && shown === textOf(words)) return { [k]: words };
          return { [k]: { [currentLanguage()]: shown } };
        };
      }
    };
    kindSelect.addEventListener("change", () => fill({}));
    fill(action);
    this.steps.append(row);
  }

  // -- saving ------------------------------------------------------------------------------

  definition() {
    if (this.json) return { ...JSON.parse(this.jsonText.value), id: this.id.value.trim() };
    const base = this.editing ? { ...this.editing } : {};
    for (const key of ["kind", "origin", "owner", "running"]) delete base[key];
    const names = { ...(this.editing?.names || {}) };
    if (this.name.value.trim()) names[currentLanguage()] = this.name.value.trim();
    return {
      ...base,
      id: this.id.value.trim(),
      names,
      triggers: [this.readTrigger()],
      conditions: this.readConditions(),
      actions: [...this.steps.children].map((row) => row.read()),
    };
  }

  async save() {
    this.error.hidden = true;
    let body;
    try {
      body = this.definition();
    } catch (error) {
      this.showError(`${t("routine_editor.bad_json")}: ${error.message}`);
      return;
    }
    try {
      if (this.editing) await call("PUT", `api/routines/${encodeURIComponent(this.editing.id)}`, body);
      else await call("POST", "api/routines", body);
    } catch (error) {
      if (error.status === 401) this.onExpired();
      this.showError(error.message);
      return;
    }
    this.close();
    await this.onSaved();
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
