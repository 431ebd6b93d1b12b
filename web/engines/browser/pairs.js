// Two digits at once in the page, as POST /api/multi/analyze and /api/multi/reconstruct answer:
// the pair made as datasets/pairs.py makes it (two 28x28 digits placed in the canvas, combined
// by the brighter pixel), or an upload fitted as app/uploads/preprocess.py fits a pair; the
// two-digit network's stages and decoder; where routing moved the votes (model/routing_share.py).
import { run } from './runtime.js';
import {
  aborted, decode, get, geometry, inputOf,
} from './common.js';
import { answerAt, nested, quantize } from './answers.js';
import { couplingShares, positionShares } from './measures.js';
import { PAIR_BOX } from './upload/constants.js';

const STAGES = ['primary_caps_lengths', 'routing_coupling', 'routing_lengths', 'routing_digit_caps'];

/** The two-digit network's canvas side (GET /api/models). */
async function canvas() {
  const model = (await get('models')).find((m) => m.test_unit === 'pairs');
  return model.input_shape[0];
}

/** Two digits {pixels: 28x28, dx, dy} placed at the centre shifted by (dy, dx), brighter pixel kept. */
export function compose(digits, side) {
  const out = new Float32Array(side * side);
  for (const { pixels, dx = 0, dy = 0 } of digits) {
    const size = pixels.length;
    const top = (side - size) / 2 + dy;
    const left = (side - size) / 2 + dx;
    pixels.forEach((row, y) => row.forEach((v, x) => {
      const at = (top + y) * side + left + x;
      out[at] = Math.max(out[at], v);
    }));
  }
  return out;
}

async function pairInput(body, side) {
  if (body.compose) return compose(body.compose, side);
  if (body.pixels) return Float32Array.from(body.pixels.flat());
  return inputOf({ kind: 'dataurl', url: body.image }, { box: PAIR_BOX, side });
}

export async function multiAnalyze(body, signal) {
  const [side, { grid: mnistGrid, info }] = await Promise.all([canvas(), geometry()]);
  const iterations = body.routing_iterations ?? info.routing_iterations;
  const input = await pairInput(body, side);
  aborted(signal);
  const out = await run('multimnist', { images: [input, [1, side, side, 1]] }, STAGES);
  const { lengths, capsules, digits, dim } = answerAt(out, 0, iterations);
  const order = Array.from(lengths.keys()).sort((a, b) => lengths[b] - lengths[a]);
  const top2 = order.slice(0, 2);
  const images = await decode('multimnist-decoder', top2, [...top2].flatMap(
    (d) => Array.from(capsules.subarray(d * dim, (d + 1) * dim)),
  ), dim);
  aborted(signal);
  const positions = out.primary_caps_lengths.dims[1];
  const types = mnistGrid[2];
  const gridSide = Math.round(Math.sqrt(positions / types));
  const grid = [gridSide, gridSide, types];
  const weights = out.primary_caps_lengths.data;
  const couplings = Array.from({ length: iterations }, (_, k) => out.routing_coupling.data.subarray(
    k * positions * digits, (k + 1) * positions * digits,
  ));
  const all = Array.from({ length: positions }, (_, i) => i);
  const field = info.receptive_fields.primary_caps; // the same layers as the MNIST network's
  return {
    input: nested(input, [side, side]),
    lengths: Array.from(lengths),
    top2,
    digit_caps: nested(capsules, [digits, dim]),
    reconstructions: { a: nested(images.data.subarray(0, side * side), [side, side]),
      b: nested(images.data.subarray(side * side), [side, side]) },
    routing: {
      iterations: couplings.map((c, k) => ({
        coupling: quantize(c, [...grid, digits]),
        lengths: Array.from(out.routing_lengths.data.subarray(k * digits, (k + 1) * digits)),
      })),
    },
    routing_shares: {
      iterations: couplings.map((c) => {
        const perPosition = positionShares(c, weights, grid, digits);
        const at = (digit) => Array.from({ length: gridSide }, (_, r) => perPosition
          .slice(r * gridSide, (r + 1) * gridSide).map((shares) => shares[digit]));
        return { overall: Array.from(couplingShares(c, weights, digits, all)), a: at(top2[0]), b: at(top2[1]) };
      }),
      receptive_field: { ...field, grid, input_side: side },
    },
  };
}

export async function multiReconstruct(digit, vector) {
  const side = await canvas();
  const image = await decode('multimnist-decoder', [digit], vector, vector.length);
  return { reconstruction: nested(image.data, [side, side]) };
}
