// A device's numbers over time (temperature, PM2.5, brightness, power): read from the hub's stored
// events and drawn as inline SVG, one small chart per number; nothing is loaded from outside.
import { call } from "./api.js";
import { clock, currentLanguage, t } from "./i18n.js";
import { el } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 90;
const PAD = 4;
// Wear telemetry for the failure prediction is read by the hub, not by people.
const HIDDEN = new Set(["updated_at", "motor_current_a", "vibration_mm_s", "load_kg", "compressor_duty_pct", "ambient_temperature_c", "refrigerant_pressure_kpa", "outdoor_temperature_c", "remaining_time", "cleaned_s", "channel"]);
const RANGES = [1, 24, 24 * 7];

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/** One number's chart: a step line from the range's start to now, its lowest and highest value. */
function chart(name, points, since, until) {
  const values = points.map((p) => p[1]);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const x = (at) => PAD + ((Math.max(at, since) - since) / (until - since || 1)) * (WIDTH - 2 * PAD);
  const y = (v) => HEIGHT - PAD - ((v - low) / span) * (HEIGHT - 2 * PAD);
  // Values hold until the next report: a step line, carried on to now.
  const path = [];
  points.forEach(([at, v], i) => {
    path.push(`${i ? "L" : "M"}${x(at).toFixed(1)},${y(v).toFixed(1)}`);
    const next = points[i + 1]?.[0] ?? until;
    path.push(`L${x(next).toFixed(1)},${y(v).toFixed(1)}`);
  });
  const graph = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "history-chart", role: "img", "aria-label": t(`history_attr.${name}`) });
  graph.append(svg("path", { d: path.join(" "), fill: "none", stroke: "currentColor", "stroke-width": 2, "vector-effect": "non-scaling-stroke" }));
  const unit = t(`history_unit.${name}`);
  const fmt = (v) => `${Math.round(v * 10) / 10}${unit === name ? "" : unit}`;
  const label = t(`history_attr.${name}`);
  return el(
    "figure",
    { class: "history-figure", "data-testid": `history-${name}`, "data-points": points.length },
    el("figcaption", {}, el("strong", { text: label === name ? name : label }), el("span", { text: ` ${fmt(low)} – ${fmt(high)} · ${t("history_now")} ${fmt(values.at(-1))}` })),
    graph,
  );
}

/** The dialog: a range picker and the charts of one device. */
export class HistoryDialog {
  constructor() {
    this.dialog = el("dialog", { class: "history", "data-testid": "history" });
    document.body.append(this.dialog);
  }

  async open(deviceId, name, hours = 24) {
    const title = el("h2", { text: t("history_title", { name }) });
    const picker = el("div", { class: "history-ranges", role: "group" });
    for (const range of RANGES) {
      const button = el("button", { type: "button", class: range === hours ? "ghost active" : "ghost", "data-testid": `history-range-${range}`, text: t(`history_range.${range}`) });
      button.addEventListener("click", () => this.open(deviceId, name, range));
      picker.append(button);
    }
    const close = el("button", { type: "button", class: "ghost", "data-testid": "history-close", text: t("history_close") });
    close.addEventListener("click", () => this.dialog.close());
    const body = el("div", { class: "history-body", text: t("history_loading") });
    this.dialog.replaceChildren(el("header", {}, title, close), picker, body);
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const data = await call("GET", `api/devices/${encodeURIComponent(deviceId)}/history?hours=${hours}`);
      const charts = Object.entries(data.series)
        .filter(([key, points]) => !HIDDEN.has(key) && points.length)
        .map(([key, points]) => chart(key, points, data.since, data.until));
      body.replaceChildren(...(charts.length ? charts : [el("p", { class: "empty", text: t("history_empty") })]));
      body.append(el("p", { class: "history-span", text: `${clock(data.since)} – ${clock(data.until)}` }));
    } catch (error) {
      body.textContent = error.message;
    }
    this.dialog.dataset.lang = currentLanguage();
  }
}
