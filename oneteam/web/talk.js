// Talking to the home: a sentence goes to /api/conversation; the reply is shown, spoken, and the
// devices it changed light up.
import { call } from "./api.js";
import { currentLanguage, t } from "./i18n.js";

const MAX_TURNS = 20;

function bubble(who, text, extra = {}) {
  const item = document.createElement("li");
  item.className = `turn turn-${who}`;
  for (const [name, value] of Object.entries(extra)) item.setAttribute(name, value);
  const speaker = document.createElement("span");
  speaker.className = "speaker";
  speaker.textContent = t(who === "you" ? "talk_you" : "talk_home");
  const words = document.createElement("p");
  words.textContent = text;
  item.append(speaker, words);
  return item;
}

/** Say a reply out loud with the browser's own speech synthesis (local voices; nothing is fetched). */
export function speak(text, language) {
  if (!("speechSynthesis" in window) || !text) return;
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = language === "en" ? "en-US" : "ko-KR";
  const voice = speechSynthesis.getVoices().find((v) => v.lang.replace("_", "-").startsWith(utterance.lang.slice(0, 2)));
  if (voice) utterance.voice = voice;
  speechSynthesis.cancel();
  speechSynthesis.speak(utterance);
}

export class TalkBox {
  constructor({ form, input, log, board }) {
    this.form = form;
    this.input = input;
    this.log = log;
    this.board = board;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (text) this.say(text);
    });
  }

  add(item) {
    this.log.append(item);
    while (this.log.childElementCount > MAX_TURNS * 2) this.log.firstElementChild.remove();
    this.showNewest();
  }

  /** The log scrolled so its newest turn is whole in view (a reply is taller than "thinking…"). */
  showNewest() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** Show what the person said (typed, or heard by the voice pipeline). */
  showHeard(text) {
    this.add(bubble("you", text));
  }

  /** Send a sentence and show what the home answers. */
  async say(text) {
    this.input.value = "";
    this.showHeard(text);
    const pending = bubble("home", t("talk_thinking"), { "aria-busy": "true" });
    this.add(pending);
    this.form.classList.add("pending");
    try {
      const reply = await call("POST", "api/conversation", { text, language: currentLanguage() });
      this.showReply(reply, pending);
    } catch (error) {
      pending.replaceWith(bubble("home", error.message, { class: "turn turn-home turn-error", "data-testid": "talk-reply", role: "alert" }));
      this.showNewest();
    } finally {
      this.form.classList.remove("pending");
    }
  }

  /** Show a reply (from text or from the voice socket) in place of `pending`, speak it, highlight changes. */
  showReply(reply, pending = null) {
    const item = bubble("home", reply.text || "", { "data-testid": "talk-reply", "data-kind": reply.kind || "" });
    if (pending) pending.replaceWith(item);
    else this.add(item);
    this.showNewest();
    this.board.highlight(reply.changed_devices || []);
    speak(reply.text, reply.language || currentLanguage());
  }
}
