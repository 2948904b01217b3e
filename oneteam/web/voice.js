// Push-to-talk: while the button is held, microphone audio streams to the hub's voice WebSocket as
// 16 kHz mono 16-bit PCM. Shown only when the hub lists the "voice" feature and the browser gives a
// microphone (secure context: https or localhost).
//
// Protocol (see oneteam/api/voice.py): client → hub {"type":"start","rate":16000,"width":2,
// "channels":1}, binary PCM frames, then {"type":"stop"}. Hub → client: "ready", "partial"/"final"
// {text}, "transcript", "intent", "reply" {text, language, audio:{rate, bytes}}, one binary frame
// of 16-bit mono PCM reply audio, then "turn_end" (or "no_speech" / "error").
import { hubUrl, session, socketUrl } from "./api.js";
import { currentLanguage, t } from "./i18n.js";

const RATE = 16000;

export class PushToTalk {
  constructor({ button, talk }) {
    this.button = button;
    this.talk = talk;
    this.socket = null;
    this.stream = null;
    this.context = null;
    button.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      this.begin();
    });
    for (const name of ["pointerup", "pointerleave", "pointercancel"]) button.addEventListener(name, () => this.end());
    button.addEventListener("keydown", (event) => (event.key === " " || event.key === "Enter") && !event.repeat && this.begin());
    button.addEventListener("keyup", (event) => (event.key === " " || event.key === "Enter") && this.end());
  }

  enable(hasVoice) {
    const canRecord = Boolean(navigator.mediaDevices?.getUserMedia && window.AudioWorkletNode && window.isSecureContext);
    this.button.hidden = !(hasVoice && canRecord);
  }

  async begin() {
    if (this.socket) return;
    const socket = new WebSocket(socketUrl("api/voice", { token: session.token, lang: currentLanguage() }));
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.button.classList.add("listening");
    this.button.textContent = t("talk_ptt_listening");
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", () => this.stopAudio());
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
      this.context = new AudioContext();
      await this.context.audioWorklet.addModule(hubUrl("static/pcm-worklet.js"));
      const source = this.context.createMediaStreamSource(this.stream);
      const worklet = new AudioWorkletNode(this.context, "pcm16", { processorOptions: { targetRate: RATE } });
      worklet.port.onmessage = (event) => socket.readyState === WebSocket.OPEN && socket.send(event.data);
      source.connect(worklet);
      const ready = socket.readyState === WebSocket.OPEN ? Promise.resolve() : new Promise((resolve) => socket.addEventListener("open", resolve, { once: true }));
      await ready;
      socket.send(JSON.stringify({ type: "start", rate: RATE, width: 2, channels: 1 }));
    } catch (error) {
      this.stopAudio();
      socket.close();
      this.talk.showReply({ text: String(error.message || error), kind: "error" });
    }
  }

  end() {
    if (!this.socket) return;
    this.stopAudio();
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: "stop" }));
  }

  stopAudio() {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.context?.close();
    this.stream = null;
    this.context = null;
    this.button.classList.remove("listening");
    this.button.textContent = t("talk_ptt");
  }

  receive(data) {
    if (data instanceof ArrayBuffer) {
      const audio = new Audio(URL.createObjectURL(wav(data, this.replyRate || 22050)));
      audio.play().catch(() => {});
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "final" && message.text) this.talk.showHeard(message.text);
    if (message.type === "reply") {
      this.replyRate = message.audio?.rate;
      this.talk.showReply(message);
    }
    if (message.type === "error") this.talk.showReply({ text: message.message, kind: "error" });
    if (["turn_end", "no_speech", "error"].includes(message.type)) {
      this.socket?.close();
      this.socket = null;
    }
  }
}

// 16-bit mono PCM as a WAV file the browser can play.
function wav(pcm, rate) {
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, value) => [...value].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + pcm.byteLength, true);
  text(8, "WAVEfmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, 1, true);
  header.setUint32(24, rate, true);
  header.setUint32(28, rate * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, "data");
  header.setUint32(40, pcm.byteLength, true);
  return new Blob([header.buffer, pcm], { type: "audio/wav" });
}
