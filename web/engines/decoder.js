// The decoder in the page: GET /api/decoder's float16 weights (app/serving/decoder_weights.py's
// format), so that sliders and the Figure 4 grid never wait for the network. The hot loop runs
// in WebAssembly SIMD (decoder-wasm.js) where the page may compile it, else in plain
// JavaScript: chosen by measurement (bench/browser.py). The grid's 176 images go through the
// weights in blocks, each weight row read once per block.

import { loadKernel } from './decoder-wasm.js';
import { endpoint } from '../lib/page-config.js';

const MAGIC = 'CAPSDEC1';
const BLOCK = 16; // images that share one pass over a layer's weights (they stay in cache)

let halfTable = null;

/** float16 bit pattern -> float32 value, for all 65536 patterns (built once, ~1 ms). */
function halfToFloat() {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h += 1) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    let value;
    if (exponent === 0) value = fraction * 2 ** -24;
    else if (exponent === 31) value = fraction ? NaN : Infinity;
    else value = (1 + fraction / 1024) * 2 ** (exponent - 15);
    halfTable[h] = sign * value;
  }
  return halfTable;
}

function floats(data, [offset, count], out = new Float32Array(count)) {
  const half = new Uint16Array(data, offset, count);
  const table = halfToFloat();
  for (let i = 0; i < count; i += 1) out[i] = table[half[i]];
  return out;
}

/** The same loop as decoder-wasm.js's `dense`, on a Float32Array heap (offsets in floats). */
function denseJS(heap, x, n, inputs, units, w, out) {
  for (let k = 0; k < inputs; k += 1) {
    const row = w + k * units;
    for (let b = 0; b < n; b += 1) {
      const a = heap[x + b * inputs + k];
      if (a === 0) continue;
      const o = out + b * units;
      for (let j = 0; j < units; j += 1) heap[o + j] += a * heap[row + j];
    }
  }
}

function activate(values, activation) {
  if (activation === 'relu') {
    for (let i = 0; i < values.length; i += 1) if (values[i] < 0) values[i] = 0;
  } else if (activation === 'sigmoid') {
    for (let i = 0; i < values.length; i += 1) values[i] = 1 / (1 + Math.exp(-values[i]));
  } else {
    throw new Error(`Unknown activation ${activation}`);
  }
}

export class Decoder {
  /**
   * header: the file's JSON header; data: the float16 data after it; kernel: decoder-wasm.js's
   * {dense, memory} or null (plain JavaScript). Every layer after the first, and each layer's
   * activations for a block of images, live in one float32 heap (the kernel's memory).
   */
  constructor(header, data, kernel = null) {
    this.header = header;
    this.dims = header.capsule_dim;
    const [h, w] = header.image_shape;
    this.pixels = h * w;
    this.engine = kernel ? 'wasm' : 'js';
    const [first, ...rest] = header.layers;
    this.first = { ...first, kernel: floats(data, first.kernel), bias: floats(data, first.bias) };
    let size = BLOCK * first.units;
    this.layers = rest.map((layer) => {
      const entry = { ...layer, w: size, bias: floats(data, layer.bias) };
      size += layer.inputs * layer.units + BLOCK * layer.units; // the kernel, then its output
      return entry;
    });
    if (kernel) {
      const bytes = size * 4;
      const have = kernel.memory.buffer.byteLength;
      if (bytes > have) kernel.memory.grow(Math.ceil((bytes - have) / 65536));
      this.heap = new Float32Array(kernel.memory.buffer, 0, size);
      this.dense = (x, n, l) => kernel.dense(4 * x, n, l.inputs, l.units, 4 * l.w, 4 * l.out);
    } else {
      this.heap = new Float32Array(size);
      this.dense = (x, n, l) => denseJS(this.heap, x, n, l.inputs, l.units, l.w, l.out);
    }
    for (const layer of this.layers) {
      const count = layer.inputs * layer.units;
      floats(data, layer.kernel, this.heap.subarray(layer.w, layer.w + count));
      layer.out = layer.w + count;
    }
  }

  /** One capsule's 16 numbers -> its reconstruction {shape: [h, w], data} in 0..1. */
  decode(digit, vector) {
    return { shape: this.header.image_shape.slice(), data: this.decodeMany(digit, [vector]) };
  }

  /** Several vectors of capsule `digit` -> Float32Array(n * h * w), image after image. */
  decodeMany(digit, vectors) {
    const { heap, first, dims } = this;
    const result = new Float32Array(vectors.length * this.pixels);
    for (let start = 0; start < vectors.length; start += BLOCK) {
      const n = Math.min(BLOCK, vectors.length - start);
      // The first layer sees the masked capsules: only digit's 16 rows of its kernel count.
      for (let b = 0; b < n; b += 1) {
        const o = b * first.units;
        heap.set(first.bias, o);
        const vector = vectors[start + b];
        for (let d = 0; d < dims; d += 1) {
          const a = vector[d];
          const row = (digit * dims + d) * first.units;
          for (let j = 0; j < first.units; j += 1) heap[o + j] += a * first.kernel[row + j];
        }
      }
      activate(heap.subarray(0, n * first.units), first.activation);
      let x = 0;
      for (const layer of this.layers) {
        for (let b = 0; b < n; b += 1) heap.set(layer.bias, layer.out + b * layer.units);
        this.dense(x, n, layer);
        activate(heap.subarray(layer.out, layer.out + n * layer.units), layer.activation);
        x = layer.out;
      }
      result.set(heap.subarray(x, x + n * this.pixels), start * this.pixels);
    }
    return result;
  }

  /** The Figure 4 grid, as POST /api/sweep answers it (its images decoded): {perturbations,
   * images: {shape: [dims, steps, h, w], data}}, row d with dimension d moved by each step. */
  sweep(digit, vector, steps = this.header.sweep_perturbations) {
    // A step of 0 leaves the capsule as it is: decoded once, not once per row.
    const moving = steps.filter((step) => step !== 0);
    const vectors = [Float32Array.from(vector)];
    for (let d = 0; d < this.dims; d += 1) {
      for (const step of moving) {
        const moved = Float32Array.from(vector);
        moved[d] += step;
        vectors.push(moved);
      }
    }
    const decoded = this.decodeMany(digit, vectors);
    const { pixels } = this;
    const data = new Float32Array(this.dims * steps.length * pixels);
    let next = 1;
    for (let d = 0; d < this.dims; d += 1) {
      steps.forEach((step, c) => {
        const from = step === 0 ? 0 : next++;
        data.set(decoded.subarray(from * pixels, (from + 1) * pixels), (d * steps.length + c) * pixels);
      });
    }
    const images = { shape: [this.dims, steps.length, ...this.header.image_shape], data };
    return { perturbations: steps.slice(), images };
  }
}

/** GET /api/decoder's bytes -> a Decoder (WebAssembly when `kernel` is given); throws on
 * anything but that format. */
export function parseDecoder(buffer, kernel = null) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) {
    throw new Error('Not a decoder file.');
  }
  const length = new DataView(buffer).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  if (header.dtype !== 'float16') throw new Error(`Unsupported decoder dtype ${header.dtype}.`);
  return new Decoder(header, buffer.slice(12 + length), kernel);
}

let loading = null;
let loaded = null;

/** The page's Decoder if its weights are in by now, else null (the server decodes meanwhile). */
export const loadedDecoder = () => loaded;

/** The page's one Decoder, or null when the weights cannot be had (the server decodes then).
 * The browser's HTTP cache keeps the file (ETag: a hash of its bytes). */
export function loadDecoder(url = endpoint('decoder')) {
  if (!loading) {
    loading = fetch(url)
      .then(async (response) => {
        if (!response.ok) throw new Error(`${url}: ${response.status}`);
        const [buffer, kernel] = await Promise.all([response.arrayBuffer(), loadKernel(1)]);
        loaded = parseDecoder(buffer, kernel);
        return loaded;
      })
      .catch((err) => {
        console.warn(`The page decodes on the server: ${err.message}`);
        return null;
      });
  }
  return loading;
}
