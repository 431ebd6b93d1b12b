// GET /api/model: the network's geometry, read once, so no layer size is written twice.
import * as api from '../engine.js';

const times = (...n) => n.join('\u00d7');
const count = (n) => n.toLocaleString('en');
const signed = (v) => (v > 0 ? `+${v}` : (v < 0 ? `\u2212${-v}` : '0'));

/** /api/model -> the sizes the views need, named as in the paper. */
export function geometry(info) {
  const layer = (name) => {
    const found = info.layers.find((l) => l.name === name);
    if (!found) throw new Error(`/api/model has no layer "${name}".`);
    return found;
  };
  const conv1 = layer('conv1');
  const primary = layer('primary_caps');
  const digit = layer('digit_caps');
  const decoder = layer('decoder');
  const sweep = info.sweep_perturbations;
  return {
    input: info.input_shape,
    conv1: {
      filters: conv1.filters, kernel: conv1.kernel_size, stride: conv1.strides, map: conv1.output_shape.slice(0, 2),
    },
    primary: {
      types: primary.capsule_types, grid: primary.grid, dim: primary.capsule_dim,
      capsules: primary.capsules, kernel: primary.kernel_size, stride: primary.strides,
    },
    digits: digit.capsules,
    digitDim: digit.capsule_dim,
    decoderUnits: decoder.units,
    iterations: info.routing_iterations,
    iterationsRange: info.routing_iterations_range,
    sweep,
    sweepStep: Math.round((sweep[1] - sweep[0]) * 1e6) / 1e6,
    sliderHalfRange: info.slider_half_range,
    fields: info.receptive_fields, // {conv1, primary_caps, primary_caps_on_conv1}: {size, stride}
    transforms: info.transforms || {},
  };
}

// The page's prose quotes these through <span data-model="key">, filled from the API.
const TEXT = {
  input: (g) => times(...g.input),
  'conv1.filters': (g) => count(g.conv1.filters),
  'conv1.kernel': (g) => times(g.conv1.kernel, g.conv1.kernel),
  'conv1.map': (g) => times(...g.conv1.map),
  'primary.types': (g) => count(g.primary.types),
  'primary.grid': (g) => times(...g.primary.grid),
  'primary.capsules': (g) => count(g.primary.capsules),
  'primary.dim': (g) => String(g.primary.dim),
  'primary.kernel': (g) => times(g.primary.kernel, g.primary.kernel),
  'primary.stride': (g) => String(g.primary.stride),
  digits: (g) => String(g.digits),
  'digit.dim': (g) => String(g.digitDim),
  'digit.matrix': (g) => times(g.primary.dim, g.digitDim),
  'digit.uniform': (g) => String(Math.round(1e3 / g.digits) / 1e3),
  'decoder.layers': (g) => String(g.decoderUnits.length),
  'decoder.units': (g) => g.decoderUnits.join('\u2013'),
  'sweep.min': (g) => signed(g.sweep[0]),
  'sweep.max': (g) => signed(g.sweep[g.sweep.length - 1]),
  'sweep.step': (g) => String(g.sweepStep),
  'sweep.count': (g) => String(g.sweep.length),
  'slider.range': (g) => `\u00b1${g.sliderHalfRange}`,
  'iterations.min': (g) => String(g.iterationsRange[0]),
  'iterations.max': (g) => String(g.iterationsRange[1]),
};

export function fillModelText(root, geo) {
  for (const el of root.querySelectorAll('[data-model]')) {
    const text = TEXT[el.dataset.model];
    if (!text) throw new Error(`Unknown data-model="${el.dataset.model}".`);
    el.textContent = text(geo);
  }
}

/** The header line: size, accuracy and routing of the checkpoint being served. */
export function describeModel(info) {
  const parts = [];
  if (Number.isFinite(info.parameters)) parts.push(`${(info.parameters / 1e6).toFixed(1)} M parameters`);
  const ckpt = info.checkpoint || {};
  if (Number.isFinite(ckpt.test_accuracy)) {
    parts.push(`${(100 * ckpt.test_accuracy).toFixed(2)}% test accuracy`
      + (Number.isFinite(ckpt.epochs) ? ` after ${ckpt.epochs} epoch${ckpt.epochs === 1 ? '' : 's'}` : ''));
  }
  if (Number.isFinite(info.routing_iterations)) parts.push(`${info.routing_iterations} routing iterations by default`);
  return parts.join(' \u00b7 ');
}

export const loadModel = (signal) => api.get('model_info', signal);

/** Options 0..n-1 (digits) or lo..hi (iterations) for a <select>, keeping any present. */
export function fillOptions(select, values, label = String) {
  select.append(...values.map((v) => new Option(label(v), String(v))));
}

export const span = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/** The primary capsules' grid {rows, cols, types} (lib/capsules.js) of the model's geometry. */
export const primaryGrid = (geo) => ({ rows: geo.primary.grid[0], cols: geo.primary.grid[1], types: geo.primary.types });
