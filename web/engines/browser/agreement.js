// What the votes agree on, and the numbers behind one capsule, computed in the page as
// POST /api/votes and POST /api/capsule-math answer them (app/http/payloads.py): the stages
// graph's votes and routing, the committed PCA axes, and the gradient graph's saliency and W_i.
import { run } from './runtime.js';
import { aborted, geometry, get } from './common.js';
import { argmax } from '../../lib/bars.js';
import {
  agreement, evidence, project, spreadOverFields,
} from './measures.js';

const DETAILS = ['primary_caps_pre_squash', 'primary_caps', 'primary_caps_lengths', 'prediction_vectors',
  'routing_logits', 'routing_coupling', 'routing_digit_caps'];

const norm = (data, at, dim) => Math.sqrt(Array.from(data.subarray(at, at + dim)).reduce((s, v) => s + v * v, 0));

/** The stages graph on one input, cut at `iterations`: the votes and every iteration's numbers. */
async function details(pixels, iterations) {
  const { side, grid, info } = await geometry();
  const input = Float32Array.from(pixels.flat());
  const out = await run('capsnet', { images: [input, [1, side, side, 1]] }, DETAILS);
  const [, capsules, digits, dim] = out.prediction_vectors.dims;
  const perIteration = (name, size) => Array.from({ length: iterations }, (_, k) => out[name].data.subarray(k * size, (k + 1) * size));
  return {
    side, grid, info, input, capsules, digits, dim,
    uHat: out.prediction_vectors.data,
    logits: perIteration('routing_logits', capsules * digits),
    coupling: perIteration('routing_coupling', capsules * digits),
    caps: perIteration('routing_digit_caps', digits * dim),
    lengths: out.primary_caps_lengths.data,
    preSquash: out.primary_caps_pre_squash.data,
    squashed: out.primary_caps.data,
    primaryDim: out.primary_caps.dims[2],
  };
}

/** The gradient graph on one input: d|v_digit|/d pixel after `iterations`, and capsule i's W. */
async function gradient(input, side, digit, iterations, capsule = 0) {
  const scalar = (v) => [Int32Array.of(v), []];
  return run('capsnet-agreement', {
    image: [input, [1, side, side, 1]], digit: scalar(digit), iterations: scalar(iterations), capsule: scalar(capsule),
  }, ['saliency', 'transform_row']);
}

export async function votes(pixels, digit, iterations, signal) {
  const d = await details(pixels, iterations);
  const table = await get('votes_pca');
  aborted(signal);
  const projection = table.projections[digit];
  const { uHat, capsules, digits, dim } = d;
  const votesOf = new Float32Array(capsules * dim);
  for (let i = 0; i < capsules; i += 1) votesOf.set(uHat.subarray((i * digits + digit) * dim, (i * digits + digit + 1) * dim), i * dim);
  const last = iterations - 1;
  const field = d.info.receptive_fields.primary_caps;
  const perPosition = evidence(uHat, d.coupling[last], d.caps[last], digit, d.grid, digits, dim);
  const { saliency } = await gradient(d.input, d.side, digit, iterations);
  const rows = (data, n, size) => Array.from({ length: n }, (_, k) => Array.from(data.subarray(k * size, (k + 1) * size)));
  return {
    digit,
    points: project(votesOf, capsules, dim, projection),
    coupling: d.coupling.map((c) => Array.from({ length: capsules }, (_, i) => c[i * digits + digit])),
    primary_lengths: Array.from(d.lengths),
    digit_caps: d.caps.map((v) => project(v.subarray(digit * dim, (digit + 1) * dim), 1, dim, projection)[0]),
    agreement: d.caps.map((v, k) => Array.from(agreement(uHat, d.coupling[k], v, capsules, digits, dim))),
    lengths: d.caps.map((v) => Array.from({ length: digits }, (_, j) => norm(v, j * dim, dim))),
    evidence: rows(spreadOverFields(perPosition, d.grid[0], d.grid[1], field, d.side), d.side, d.side),
    saliency: rows(saliency.data, d.side, d.side),
    projection: { method: 'PCA', images: table.images, explained_variance_ratio: projection.explained_variance_ratio },
    receptive_field: { ...field, grid: d.grid, input_side: d.side },
  };
}

export async function capsuleMath(pixels, capsule, digit, iterations, signal) {
  const d = await details(pixels, iterations);
  aborted(signal);
  const { uHat, digits, dim } = d;
  const { transform_row: row } = await gradient(d.input, d.side, digit, iterations, capsule);
  const primaryDim = d.primaryDim;
  const uHatIJ = Array.from(uHat.subarray((capsule * digits + digit) * dim, (capsule * digits + digit + 1) * dim));
  const iterationsOut = d.coupling.map((c, k) => {
    const sJ = new Float64Array(dim);
    for (let i = 0; i < d.capsules; i += 1) {
      for (let e = 0; e < dim; e += 1) sJ[e] += c[i * digits + digit] * uHat[(i * digits + digit) * dim + e];
    }
    const vJ = Array.from(d.caps[k].subarray(digit * dim, (digit + 1) * dim));
    return {
      b: Array.from(d.logits[k].subarray(capsule * digits, (capsule + 1) * digits)),
      c: Array.from(c.subarray(capsule * digits, (capsule + 1) * digits)),
      s_j: Array.from(sJ), s_j_length: Math.hypot(...sJ), v_j: vJ, v_j_length: Math.hypot(...vJ),
      agreement: uHatIJ.reduce((s, u, e) => s + u * vJ[e], 0),
    };
  });
  const lengths = Array.from({ length: digits }, (_, j) => norm(d.caps[iterations - 1], j * dim, dim));
  const answer = argmax(lengths);
  const { m_plus: mPlus, m_minus: mMinus, lambda } = d.info.margin_loss;
  const present = lengths.map((_, j) => (j === answer ? 1 : 0));
  const perDigit = lengths.map((l, j) => present[j] * Math.max(mPlus - l, 0) ** 2
    + lambda * (1 - present[j]) * Math.max(l - mMinus, 0) ** 2);
  const sI = Array.from(d.preSquash.subarray(capsule * primaryDim, (capsule + 1) * primaryDim));
  const uI = Array.from(d.squashed.subarray(capsule * primaryDim, (capsule + 1) * primaryDim));
  const [, width] = row.dims;
  return {
    capsule, digit, s_i: sI, s_i_length: Math.hypot(...sI), u_i: uI, u_i_length: Math.hypot(...uI),
    W_ij: Array.from({ length: primaryDim }, (_, r) => Array.from(row.data.subarray(r * width + digit * dim, r * width + (digit + 1) * dim))),
    u_hat: uHatIJ, u_hat_length: Math.hypot(...uHatIJ),
    iterations: iterationsOut,
    margin_loss: {
      m_plus: mPlus, m_minus: mMinus, lambda, lengths, present, per_digit: perDigit, total: perDigit.reduce((a, b) => a + b, 0),
    },
  };
}
