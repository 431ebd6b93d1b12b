// The in-page engine's answers, in the shapes the server's API answers (app/http/payloads.py;
// docs/api.md): small arrays as nested lists, large ones as quantised arrays (already inflated,
// as engines/server.js hands them over), the primary capsules in the model's order.
import { argmax } from '../../lib/bars.js';

/** A flat array -> nested lists of `shape`. */
export function nested(data, shape) {
  if (shape.length === 1) return Array.from(data.subarray ? data.subarray(0, shape[0]) : data.slice(0, shape[0]));
  const step = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nested(data.subarray(i * step, (i + 1) * step), shape.slice(1)));
}

/** value = min + (max - min) * byte / 255, as app/http/encoding.py's quantize (float32 arithmetic). */
export function quantize(data, shape) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const bytes = new Uint8Array(data.length);
  const span = max - min;
  if (span > 0) {
    const scale = Math.fround(255 / span);
    for (let i = 0; i < data.length; i += 1) bytes[i] = Math.fround(Math.fround(data[i] - min) * scale) + 0.5;
  }
  return { encoding: 'uint8', shape: shape.slice(), min, max, data: bytes };
}

/** Slice [from, to) of the leading axis of a flat array of `shape`. */
export function rows(data, shape, from, to) {
  const step = shape.slice(1).reduce((a, b) => a * b, 1);
  return data.subarray(from * step, to * step);
}

/** (h, w, c) -> (c, h, w): Conv1's maps as /api/analyze sends them, one per filter. */
function channelsFirst(data, [h, w, c]) {
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      for (let k = 0; k < c; k += 1) out[(k * h + y) * w + x] = data[(y * w + x) * c + k];
    }
  }
  return out;
}

/** |v| of each of the n vectors of `dim` numbers in `data`. */
export function norms(data, dim) {
  const out = new Float32Array(data.length / dim);
  for (let i = 0; i < out.length; i += 1) {
    let sum = 0;
    for (let d = 0; d < dim; d += 1) sum += data[i * dim + d] ** 2;
    out[i] = Math.sqrt(sum);
  }
  return out;
}

/** Image n's (lengths, capsules) after k routing iterations of the stages graph's outputs. */
export function answerAt(outputs, n, k) {
  const [, iterations, digits, dim] = outputs.routing_digit_caps.dims;
  const at = (n * iterations + k - 1) * digits;
  return {
    lengths: outputs.routing_lengths.data.subarray(at, at + digits),
    capsules: outputs.routing_digit_caps.data.subarray(at * dim, (at + digits) * dim),
    digits,
    dim,
  };
}

/** The stages graph's outputs (batch of one) -> /api/analyze's answer, routing cut at `iterations`. */
export function analysisAnswer(input, side, outputs, iterations, reconstruction, grid) {
  const [gridRows, cols, types] = grid;
  const primary = outputs.primary_caps;
  const dim = primary.dims[2];
  const conv1 = outputs.conv1.dims.slice(1);
  const coupling = outputs.routing_coupling;
  const [, , capsules, digits] = coupling.dims;
  const caps = answerAt(outputs, 0, iterations);
  const prediction = argmax(caps.lengths);
  return {
    input: nested(input, [side, side]),
    conv1: quantize(channelsFirst(outputs.conv1.data, conv1), [conv1[2], conv1[0], conv1[1]]),
    primary_caps: {
      lengths: nested(outputs.primary_caps_lengths.data, [gridRows, cols, types]),
      pre_squash_lengths: nested(norms(outputs.primary_caps_pre_squash.data, dim), [gridRows, cols, types]),
      vectors: quantize(primary.data, [gridRows, cols, types, dim]),
    },
    routing: {
      iterations: Array.from({ length: iterations }, (_, k) => ({
        coupling: quantize(rows(coupling.data, [coupling.dims[1], capsules, digits], k, k + 1), [gridRows, cols, types, digits]),
        lengths: Array.from(rows(outputs.routing_lengths.data, outputs.routing_lengths.dims.slice(1), k, k + 1)),
      })),
    },
    digit_caps: { vectors: nested(caps.capsules, [caps.digits, caps.dim]), lengths: Array.from(caps.lengths) },
    prediction,
    reconstruction: nested(reconstruction, [side, side]),
  };
}
