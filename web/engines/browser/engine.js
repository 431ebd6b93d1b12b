// The in-page engine: the static edition's answers, computed in the visitor's browser with the
// networks exported by static_site/export.py (ONNX Runtime Web, runtime.js), in the same shapes
// as the server's API (answers.js), so that every view works unchanged. The committed tables and
// the model's description are static files the site builder wrote from the server's own answers.
import { pageConfig } from '../../lib/page-config.js';
import { run, session } from './runtime.js';
import {
  aborted, decode, geometry, inputOf,
} from './common.js';
import {
  analysisAnswer, answerAt, nested, quantize,
} from './answers.js';
import { argmax } from '../../lib/bars.js';

export { get } from './common.js';
export { compare, transformSweep } from './claims.js';
export { votes, capsuleMath } from './agreement.js';
export { multiAnalyze, multiReconstruct } from './pairs.js';

// The first analysis's networks (static_site/build.py's FIRST, preloaded by the page) start
// loading with the page, the others when first used, so that the first prediction waits for no
// request it could have made earlier.
for (const name of pageConfig.first) session(name).catch(() => {});

const STAGES = ['conv1', 'primary_caps_pre_squash', 'primary_caps', 'primary_caps_lengths', 'routing_coupling',
  'routing_digit_caps', 'routing_lengths'];

export async function analyze(source, iterations, signal) {
  const { side, grid } = await geometry();
  const input = await inputOf(source);
  aborted(signal);
  const outputs = await run('capsnet', { images: [input, [1, side, side, 1]] }, STAGES);
  const caps = answerAt(outputs, 0, iterations);
  const prediction = argmax(caps.lengths);
  const image = await decode('capsnet-decoder', [prediction],
    caps.capsules.subarray(prediction * caps.dim, (prediction + 1) * caps.dim), caps.dim);
  aborted(signal);
  return analysisAnswer(input, side, outputs, iterations, image.data, grid);
}

export async function reconstruct(digit, vector) {
  const { side } = await geometry();
  const image = await decode('capsnet-decoder', [digit], vector, vector.length);
  return { reconstruction: nested(image.data, [side, side]) };
}

/** Figure 4: each dimension moved by each of the model's perturbations, one batch. */
export async function sweep(digit, vector) {
  const { side, info } = await geometry();
  const steps = info.sweep_perturbations;
  const dim = vector.length;
  const vectors = new Float32Array(dim * steps.length * dim);
  for (let d = 0; d < dim; d += 1) {
    steps.forEach((step, c) => {
      const at = (d * steps.length + c) * dim;
      vectors.set(vector, at);
      vectors[at + d] += step;
    });
  }
  const images = await decode('capsnet-decoder', new Array(dim * steps.length).fill(digit), vectors, dim);
  return { perturbations: steps.slice(), images: quantize(images.data, [dim, steps.length, side, side]) };
}
