// Routines and scenes: a list with on/off switches, a run button and each one's latest result,
// live run progress (ROUTINE_RUN events), and a simple editor for trigger → condition → steps.
import { call } from "./api.js";
import { currentLanguage, t } from "./i18n.js";
import { RoutineEditor } from "./routine-editor.js";
import { el } from "./dom.js";

function nameOf(routine) {
  const names = routine.names || {};
  return names[currentLanguage()] || names.ko || routine.id;
}

/** A run's result in words: "완료", "일부 실패: 세탁기 — 작동 중이라 ..." */
export function runText(run) {
  const failed = [];
  for (const step of run.steps || []) {
    for (const result of step.results || [step]) {
      if (result.ok === false) failed.push(result.message?.[currentLanguage()] || result.message?.ko || result.error);
    }
  }
  const status = t(`run_${run.status}`);
  return failed.length ? `${status}: ${failed.join(" · ")}` : status;
}

export class RoutinePanel {
  constructor({ panel, list, onExpired }) {
    this.panel = panel;
    this.list = list;
    this.onExpired = onExpired;
    // Runs started here whose answer (with each failed step's reason) is shown: their events, which
    // may arrive after it over the WebSocket, must not overwrite it with the bare status.
    this.answered = new Set();
    this.routines = [];
    this.editor = new RoutineEditor({ onSaved: () => this.reload(), onExpired });
    this.newButton = el("button", { type: "button", class: "ghost", "data-testid": "routine-new" });
    this.newButton.addEventListener("click", () => this.editor.open(null, this.routines));
    list.before(this.newButton);
    list.after(this.editor.form);
  }

  /** Show the panel when the hub runs automations; list what it has. */
  async load(features) {
    this.list.replaceChildren();
    this.panel.hidden = !features.includes("automation");
    if (this.panel.hidden) return;
    this.newButton.textContent = t("routine_editor.new");
    await this.reload();
  }

  async reload() {
    try {
      const data = await call("GET", "api/routines");
      this.routines = data.routines;
      this.list.replaceChildren(...data.routines.map((routine) => this.item(routine)));
    } catch (error) {
      if (error.status === 401) this.onExpired();
    }
  }

  /** A run's progress as it happens (the hub's ROUTINE_RUN events over the WebSocket). */
  onEvent(event) {
    if (event.kind !== "routine_run") return;
    const status = this.list.querySelector(`[data-testid="routine-status-${CSS.escape(event.data.routine)}"]`);
    if (!status || this.answered.has(event.data.run)) return;
    const { phase, index } = event.data;
    if (phase === "finished") {
      status.textContent = t(`run_${event.data.status}`);
      status.dataset.status = event.data.status;
    } else {
      status.textContent = phase === "step" ? `${t("run_running")} ${t("routine_editor.step_done", { n: index + 1 })}` : t("run_running");
      status.dataset.status = "running";
    }
  }

  item(routine) {
    const isScene = routine.kind === "scene";
    const status = el("span", { class: "routine-status", role: "status", "data-testid": `routine-status-${routine.id}` });
    const run = el("button", {
      type: "button",
      class: "ghost",
      "data-testid": `routine-run-${routine.id}`,
      text: t(isScene ? "routine_apply" : "routine_run"),
    });
    run.addEventListener("click", () => this.run(routine, run, status));
    const toggle = el("button", { type: "button", class: "switch", role: "switch", "data-testid": `routine-toggle-${routine.id}` });
    toggle.setAttribute("aria-checked", String(routine.enabled));
    toggle.setAttribute("aria-label", `${nameOf(routine)} ${t("routine_enabled")}`);
    toggle.append(el("span", { class: "knob" }));
    toggle.addEventListener("click", () => this.toggle(routine, toggle, status));
    const traces = el("ol", { class: "routine-traces", "data-testid": `routine-traces-${routine.id}`, hidden: true });
    const history = el("button", { type: "button", class: "ghost", "data-testid": `routine-history-${routine.id}`, text: t("routine_history") });
    history.addEventListener("click", () => this.history(routine, traces));
    const edit = el("button", { type: "button", class: "ghost", "data-testid": `routine-edit-${routine.id}`, text: t("routine_editor.edit") });
    edit.addEventListener("click", () => this.editor.open(routine, this.routines));
    return el(
      "li",
      { class: "routine", "data-testid": `routine-${routine.id}`, "data-kind": routine.kind },
      el("div", { class: "routine-titles" }, el("strong", { text: nameOf(routine) }), el("span", { class: "routine-kind", text: t(isScene ? "routine_scene" : "routine_automation") })),
      el("div", { class: "routine-actions" }, edit, history, run, isScene ? null : toggle),
      status,
      traces,
    );
  }

  /** The latest runs: when, what started it, the result and each step's. Toggles open and shut. */
  async history(routine, list) {
    if (!list.hidden) {
      list.hidden = true;
      return;
    }
    try {
      const data = await call("GET", `api/routines/${encodeURIComponent(routine.id)}/traces?limit=5`);
      list.replaceChildren(...data.runs.map((run) => this.traceItem(run)));
      if (!data.runs.length) list.append(el("li", { class: "empty", text: t("routine_no_runs") }));
      list.hidden = false;
    } catch (error) {
      if (error.status === 401) this.onExpired();
    }
  }

  traceItem(run) {
    const when = new Date(run.started_at * 1000).toLocaleString(currentLanguage() === "ko" ? "ko-KR" : "en-GB");
    const cause = t(`trigger_${run.trigger?.kind || "manual"}`);
    const steps = (run.steps || []).map((step) =>
      el("li", { "data-status": step.status, text: `${step.index + 1}. ${t(`action_${step.action}`)} — ${t(`step_${step.status}`)} (${step.ms} ms)` }),
    );
    return el(
      "li",
      { class: "trace", "data-testid": "routine-trace", "data-status": run.status },
      el("span", { class: "trace-head", text: `${when} · ${cause} · ${runText(run)}` }),
      steps.length ? el("ol", { class: "trace-steps" }, ...steps) : null,
    );
  }

  async run(routine, button, status) {
    button.disabled = true;
    status.textContent = t("run_running");
    try {
      const result = await call("POST", `api/routines/${encodeURIComponent(routine.id)}/run?wait=10`);
      this.answered.add(result.id);
      status.textContent = runText(result);
      status.dataset.status = result.status;
    } catch (error) {
      if (error.status === 401) this.onExpired();
      status.textContent = error.message;
      status.dataset.status = "error";
    } finally {
      button.disabled = false;
    }
  }

  async toggle(routine, button, status) {
    const enable = button.getAttribute("aria-checked") !== "true";
    try {
      const result = await call("POST", `api/routines/${encodeURIComponent(routine.id)}/${enable ? "enable" : "disable"}`);
      button.setAttribute("aria-checked", String(result.enabled));
    } catch (error) {
      if (error.status === 401) this.onExpired();
      status.textContent = error.message;
    }
  }
}
