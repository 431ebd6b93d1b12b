// The claims lab in the page: the reader's digit transformed as the server transforms it
// (transforms.js, checked against datasets/transforms.py), then both networks on it, as
// POST /api/compare and POST /api/transform-sweep answer: one batch per network for a sweep.
import { run } from './runtime.js';
import { geometry } from './common.js';
import { answerAt, nested } from './answers.js';
import { argmax } from '../../lib/bars.js';
import { applyTransform } from './transforms.js';

/** Both networks on n images of side x side (flat, one after another): per image the CapsNet's
 * lengths and capsules at the model's default iterations, the CNN's probabilities. */
async function classify(images, n, side, iterations) {
  const shape = [n, side, side, 1];
  const [caps, cnn] = await Promise.all([
    run('capsnet', { images: [images, shape] }, ['routing_lengths', 'routing_digit_caps']),
    run('cnn', { images: [images, shape] }, ['probabilities']),
  ]);
  return Array.from({ length: n }, (_, i) => {
    const { lengths, capsules, dim } = answerAt(caps, i, iterations);
    const classes = cnn.probabilities.dims[1];
    const probabilities = cnn.probabilities.data.subarray(i * classes, (i + 1) * classes);
    return { lengths, capsules, dim, probabilities };
  });
}

export async function compare(pixels, transform) {
  const { side, info } = await geometry();
  const input = applyTransform(Float32Array.from(pixels.flat()), side, side, transform || {}, info.transforms);
  const [answer] = await classify(input, 1, side, info.routing_iterations);
  return {
    input: nested(input, [side, side]),
    capsnet: {
      prediction: argmax(answer.lengths), lengths: Array.from(answer.lengths),
      vectors: nested(answer.capsules, [answer.lengths.length, answer.dim]),
    },
    cnn: { prediction: argmax(answer.probabilities), probabilities: Array.from(answer.probabilities) },
  };
}

/** One parameter over `values`, the others held; digit null: the CapsNet's own answer untransformed. */
export async function transformSweep(pixels, {
  parameter, values, digit, transform,
}) {
  const { side, info } = await geometry();
  const flat = Float32Array.from(pixels.flat());
  const held = { ...(transform || {}) };
  delete held[parameter];
  const images = new Float32Array((values.length + 1) * side * side);
  values.forEach((value, i) => {
    images.set(applyTransform(flat, side, side, { ...held, [parameter]: value }, info.transforms), i * side * side);
  });
  images.set(flat, values.length * side * side); // and the input as it is, for its prediction
  const answers = await classify(images, values.length + 1, side, info.routing_iterations);
  const followed = digit ?? argmax(answers[values.length].lengths);
  return {
    parameter,
    values: values.slice(),
    digit: followed,
    steps: values.map((_, i) => ({
      input: nested(images.subarray(i * side * side, (i + 1) * side * side), [side, side]),
      capsnet_lengths: Array.from(answers[i].lengths),
      capsule: Array.from(answers[i].capsules.subarray(followed * answers[i].dim, (followed + 1) * answers[i].dim)),
      cnn_probabilities: Array.from(answers[i].probabilities),
    })),
  };
}
