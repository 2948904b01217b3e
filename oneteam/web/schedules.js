// Commands booked for later ("30분 뒤에 주방 불 꺼 줘"): listed with when they run, each with a cancel button.
import { call } from "./api.js";
import { currentLanguage, label, t } from "./i18n.js";
import { el } from "./dom.js";

/** "주방 불 끄기" for one booked command. */
function actionText(action, board) {
  const command = action.command || "";
  let value = action.value ?? "";
  if (command === "set_mode") value = label("modes", value);
  if (command === "set_fan_speed") value = label("fan_speeds", value);
  const words = t(`commands.${command}`, { value });
  return `${board.deviceName(action.device)} ${words === command ? command.replaceAll("_", " ") : words}`;
}

export class SchedulePanel {
  constructor({ panel, list, board }) {
    this.panel = panel;
    this.list = list;
    this.board = board;
  }

  /** Load the pending bookings; the panel shows only while there are some. */
  async load() {
    let data;
    try {
      data = await call("GET", "api/schedules");
    } catch {
      return;
    }
    const pending = (data.schedules || []).filter((s) => s.status === "pending");
    this.list.replaceChildren(...pending.map((s) => this.item(s)));
    this.panel.hidden = pending.length === 0;
  }

  item(schedule) {
    const when = new Date(schedule.due_at * 1000).toLocaleString(currentLanguage() === "ko" ? "ko-KR" : "en-GB", {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
    const cancel = el("button", { type: "button", class: "ghost", "data-testid": `schedule-cancel-${schedule.id}`, text: t("schedule_cancel") });
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await call("DELETE", `api/schedules/${schedule.id}`);
      } catch (error) {
        cancel.title = error.message;
      }
      await this.load();
    });
    return el(
      "li",
      { class: "schedule", "data-testid": "schedule", "data-schedule-id": schedule.id },
      el("time", { datetime: new Date(schedule.due_at * 1000).toISOString(), text: when }),
      el("span", { class: "schedule-what", text: (schedule.actions || []).map((a) => actionText(a, this.board)).join(", ") }),
      cancel,
    );
  }

  /** Bookings change with these events: reload then. */
  onEvent(event) {
    if (event.kind === "scheduled" || event.kind === "schedule_done") this.load();
  }
}
