// An upload made like MNIST in the page, as app/uploads/preprocess.py does on the server: the ink
// measured from the ink (ink.js), cropped, shrunk keeping hairlines, its strokes set to MNIST's
// pen, fitted into the box by Pillow's LANCZOS and centred by mass. Checked against the Python
// on the same uploads by tests/page/test_preprocess_js.py.

import {
  BOX, FIELD, MIN_EXTENT, MNIST_STROKE, NO_DIGIT, SPECK, WORKING_SIDE, refusal,
} from './constants.js';
import { decodeGrey } from './decode.js';
import { inkMap } from './ink.js';
import { pairwiseSum, roundHalfEven } from './numpy.js';
import { rankFilter, resizeLanczos } from './resample.js';

const f32 = Math.fround;
const keep = (x) => x;

/** First and one-past-last index of the ink along a profile (preprocess.py's ink_bounds). */
function inkBounds(profile, trim, single) {
  const r = single ? f32 : keep;
  const cumulative = new Float64Array(profile.length);
  let running = 0;
  profile.forEach((v, i) => { running = r(running + v); cumulative[i] = running; });
  const total = cumulative[cumulative.length - 1];
  let start = cumulative.findIndex((c) => c > trim * total);
  if (start < 0) start = profile.length;
  let end = cumulative.findIndex((c) => c >= (1 - trim) * total);
  end = (end < 0 ? profile.length : end) + 1;
  let i = start - 1;
  while (i >= 0 && profile[i] > 0) i -= 1;
  start = i + 1;
  let j = Math.min(end, profile.length);
  while (j < profile.length && profile[j] > 0) j += 1;
  return [start, Math.max(j, start + 1)];
}

/** The ink cropped to where its visible mass lies, less `trim` of it on each side. */
export function cropToInk(ink, trim = SPECK) {
  const { data, width, height, single } = ink;
  const r = single ? f32 : keep;
  const visible = (i) => (data[i] > 0.1 ? data[i] : 0);
  const rows = Float64Array.from({ length: height }, (_, y) => pairwiseSum(visible, y * width, width, single));
  const cols = new Float64Array(width); // numpy adds the rows in turn along axis 0
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) cols[x] = r(cols[x] + visible(y * width + x));
  const [top, bottom] = inkBounds(rows, trim, single);
  const [left, right] = inkBounds(cols, trim, single);
  return crop(ink, top, bottom, left, right);
}

function crop({ data, width, single }, top, bottom, left, right) {
  const w = right - left;
  const out = new data.constructor(w * (bottom - top));
  for (let y = top; y < bottom; y += 1) out.set(data.subarray(y * width + left, y * width + right), (y - top) * w);
  return { data: out, width: w, height: bottom - top, single };
}

function pad({ data, width, height }, margin) {
  const w = width + 2 * margin;
  const out = new Float32Array(w * (height + 2 * margin));
  for (let y = 0; y < height; y += 1) out.set(data.subarray(y * width, (y + 1) * width), (y + margin) * w + margin);
  return { data: out, width: w, height: height + 2 * margin, single: true };
}

/** At most `side` pixels a side by each block's maximum: a hairline survives. */
export function shrinkKeepingStrokes(ink, side = WORKING_SIDE) {
  const { data, width, height, single } = ink;
  const factor = Math.ceil(Math.max(width, height) / side);
  if (factor <= 1) return ink;
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  const out = new data.constructor(w * h); // the padding is 0, below any ink
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const k = Math.floor(y / factor) * w + Math.floor(x / factor);
      out[k] = Math.max(out[k], data[y * width + x]);
    }
  }
  return { data: out, width: w, height: h, single };
}

/** Mean stroke width: area over half the boundary length. */
export function strokeWidth({ data, width, height }) {
  const on = (x, y) => x >= 0 && y >= 0 && x < width && y < height && data[y * width + x] > 0.5;
  let area = 0;
  let boundary = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if (!on(x, y)) continue;
      area += 1;
      if (!(on(x - 1, y) && on(x + 1, y) && on(x, y - 1) && on(x, y + 1))) boundary += 1;
    }
  }
  return area === 0 ? 0 : (2 * area) / Math.max(boundary, 1);
}

/** Hairlines thickened and markers thinned to MNIST's pen at the box's scale. */
export function normaliseStroke(ink, box = BOX) {
  const target = (MNIST_STROKE * Math.max(ink.width, ink.height)) / box;
  const width = strokeWidth(ink);
  if (width === 0) return ink;
  let size = roundHalfEven(Math.abs(target - width)) | 1; // odd filter sizes only
  if (width < 0.6 * target && size >= 3) {
    const padded = pad(ink, size); // room for the stroke to grow past the crop
    const grown = rankFilter(padded.data, padded.width, padded.height, size, true);
    return cropToInk({ ...padded, data: grown }, 0);
  }
  size = Math.min(size, Math.trunc(width / (2 * Math.SQRT2)) | 1); // a diagonal thins sqrt(2) times more
  if (width > 1.8 * target && size >= 3) {
    const padded = pad(ink, size);
    const thinned = rankFilter(padded.data, padded.width, padded.height, size, false);
    return cropToInk({ ...padded, data: thinned }, 0);
  }
  return ink;
}

/** A digit placed in side x side with its centre of mass in the middle. */
export function centreByMass(digit, width, height, side = FIELD) {
  const total = pairwiseSum((i) => digit[i], 0, digit.length, true);
  const weighted = (index) => pairwiseSum((i) => index(i) * digit[i], 0, digit.length, false);
  const row = total ? weighted((i) => Math.floor(i / width)) / total : (height - 1) / 2;
  const col = total ? weighted((i) => i % width) / total : (width - 1) / 2;
  const clip = (v, high) => Math.min(Math.max(v, 0), high);
  const top = clip(roundHalfEven(side / 2 - row), side - height);
  const left = clip(roundHalfEven(side / 2 - col), side - width);
  const field = new Float32Array(side * side);
  for (let y = 0; y < height; y += 1) field.set(digit.subarray(y * width, (y + 1) * width), (top + y) * side + left);
  return field;
}

/** A grey image (float 0..1, row-major) as the network's input: preprocess.py's gray_to_mnist.
 * Throws an Error with .status 422 when there is no digit. */
export function greyToInput(grey, width, height, { box = BOX, side = FIELD } = {}) {
  let ink = cropToInk({ ...inkMap(grey, height, width), width, height });
  if (Math.max(ink.width, ink.height) < MIN_EXTENT) {
    throw refusal(422, NO_DIGIT(`the only marks span ${Math.max(ink.width, ink.height)} of `
      + `${Math.max(width, height)} pixels`));
  }
  ink = normaliseStroke(shrinkKeepingStrokes(ink), box);
  const fit = box / Math.max(ink.width, ink.height);
  const w = Math.max(roundHalfEven(ink.width * fit), 1);
  const h = Math.max(roundHalfEven(ink.height * fit), 1);
  const digit = resizeLanczos(Float32Array.from(ink.data), ink.width, ink.height, w, h)
    .map((v) => Math.min(Math.max(v, 0), 1));
  const peak = digit.reduce((a, b) => Math.max(a, b), 0);
  const scaled = peak > 0 ? digit.map((v) => v / peak) : digit;
  return { pixels: centreByMass(scaled, w, h, side), shape: [side, side] };
}

/** An uploaded image (Blob or File) as the network's input, or an Error with the server's
 * status and message: 400 empty or corrupt, 413 too many pixels, 415 not an image, 422 no digit.
 * A pair of digits: {box: 24, side: 36}. */
export async function imageToInput(blob, options = {}) {
  const { grey, width, height } = await decodeGrey(blob);
  return greyToInput(grey, width, height, options);
}
