// Pictures for "Two digits at once": the answer's images (nested rows or quantised arrays),
// and the paper's Figure 5 overlay: reconstructions a and b in the pens' colours, added (where
// both draw the colours mix), over the input in dim grey.
import { decodeQ, fromNested } from '../../lib/heatmap.js';
import { PEN_RGB } from './multi-pad.js';

export const GREY = 0.3; // the input, dimmed so that the reconstructions (or routing maps) stand out on it

/** An image of the API's answer as {shape: [h, w], data}. */
export function asImage(x) {
  return x && x.encoding ? decodeQ(x) : fromNested(x);
}

/** The sum of an image's values: how much ink the decoder drew. */
export function ink(image) {
  let sum = 0;
  for (const v of image.data) sum += v;
  return sum;
}

/** input, a, b: {shape, data} of the same size. */
export function drawOverlay(canvas, input, a, b) {
  const [h, w] = input.shape;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i += 1) {
    const grey = 255 * GREY * input.data[i];
    for (let c = 0; c < 3; c += 1) {
      const value = Math.max(grey, PEN_RGB.a[c] * a.data[i] + PEN_RGB.b[c] * b.data[i]);
      image.data[4 * i + c] = Math.round(Math.min(255, value));
    }
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
