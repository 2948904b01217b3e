// Turns microphone audio (the context's rate, float) into 16-bit mono PCM at the target rate, posting
// ~100 ms chunks to the page.
class Pcm16 extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.step = sampleRate / (options.processorOptions?.targetRate || 16000);
    this.position = 0;
    this.chunk = [];
    this.chunkSamples = Math.round((options.processorOptions?.targetRate || 16000) / 10);
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    // Linear-interpolation resampling is enough for speech recognition at 16 kHz.
    for (; this.position < channel.length; this.position += this.step) {
      const i = Math.floor(this.position);
      const next = channel[Math.min(i + 1, channel.length - 1)];
      const value = channel[i] + (next - channel[i]) * (this.position - i);
      this.chunk.push(Math.max(-32768, Math.min(32767, Math.round(value * 32767))));
    }
    this.position -= channel.length;
    if (this.chunk.length >= this.chunkSamples) {
      const pcm = Int16Array.from(this.chunk);
      this.chunk = [];
      this.port.postMessage(pcm.buffer, [pcm.buffer]);
    }
    return true;
  }
}

registerProcessor("pcm16", Pcm16);
