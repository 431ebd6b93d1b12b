// An upload to a grey image in the browser, as app/uploads/decode.py's decode_grey: the header
// checked first (header.js), then decoded by the browser (createImageBitmap, read back a band of
// rows at a time) and reduced to at most MAX_SIDE a side by the same box reduction, in Pillow's
// 8-bit arithmetic: luminance as Pillow's "L", transparency composited over a contrasting
// background, the EXIF orientation applied.
//
// Where the browser's decoder differs from Pillow's it is emulated: a JPEG that Pillow decodes
// at 1/2, 1/4 or 1/8 scale by its DCT (Image.draft, grey) is averaged here over the same blocks
// (the encoder's edge padding repeated) and rounded to 8 bits; a 16-bit grey PNG, which the
// browser gives in 8 bits, is decoded here (decode-gaps.js); the reduction's blocks start where
// Pillow's do, in the stored image, before the EXIF orientation moves them.

import { MAX_SIDE, refusal } from './constants.js';
import { checkCost, readHeader } from './header.js';
import { sum } from './numpy.js';
import { browserOrients, decodeGrey16, orient } from './decode-gaps.js';
import { blocks, reduce8 } from './resample.js';

const f32 = Math.fround;
const BAND_PIXELS = 1 << 20; // pixels read back at a time
// For each EXIF orientation: whether the stored image's first row / column ends up at the far
// side of the shown image's x and y axes (decode.py's ORIENTATIONS).
const FROM_END = { 1: [0, 0], 2: [1, 0], 3: [1, 1], 4: [0, 1], 5: [0, 0], 6: [1, 0], 7: [1, 1], 8: [0, 1] };

export const reduction = (width, height) => Math.max(1, Math.ceil(Math.max(width, height) / MAX_SIDE));

/** Pillow's JpegImageFile.draft scale for a reduction by `factor`. */
function draftScale(width, height, factor) {
  const scale = Math.min(Math.floor(width / Math.ceil(width / factor)), Math.floor(height / Math.ceil(height / factor)));
  return [8, 4, 2, 1].find((s) => scale >= s);
}

/** Weights of an axis's pixels when a partial block is padded by repeating the image's edge. */
function edgeWeights(n, size, fromEnd) {
  const weights = new Float64Array(n).fill(1);
  if (n % size) weights[fromEnd ? 0 : n - 1] += size - (n % size);
  return weights;
}

/** Visit every pixel's luminance (Pillow's "L") and alpha, a band of rows at a time. */
function readPixels(bitmap, visit) {
  const { width, height } = bitmap;
  const rows = Math.max(1, Math.min(height, Math.floor(BAND_PIXELS / width)));
  const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, rows)
    : Object.assign(document.createElement('canvas'), { width, height: rows });
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.globalCompositeOperation = 'copy';
  context.imageSmoothingEnabled = false;
  for (let top = 0; top < height; top += rows) {
    const count = Math.min(rows, height - top);
    context.clearRect(0, 0, width, rows);
    context.drawImage(bitmap, 0, top, width, count, 0, 0, width, count);
    const rgba = context.getImageData(0, 0, width, count).data;
    for (let y = 0, i = 0; y < count; y += 1) {
      for (let x = 0; x < width; x += 1, i += 4) {
        visit(x, top + y, (rgba[i] * 19595 + rgba[i + 1] * 38470 + rgba[i + 2] * 7471 + 0x8000) >> 16, rgba[i + 3]);
      }
    }
  }
}

/** Sums over the blocks of `factor` pixels (anchored as the stored image's), of the values
 * visit() is given; each block's pixel count too. */
function blockSums(width, height, factor, [endX, endY], channels) {
  const bx = blocks(width, factor, endX);
  const by = blocks(height, factor, endY);
  const sums = channels.map(() => new Float64Array(bx.count * by.count));
  const counts = new Float64Array(bx.count * by.count);
  const [first, second = first, third = first] = sums;
  const add = (x, y, a, b = 0, c = 0) => {
    const k = by.index[y] * bx.count + bx.index[x];
    counts[k] += 1;
    first[k] += a;
    second[k] += b;
    third[k] += c;
  };
  return { add, sums, counts, width: bx.count, height: by.count };
}

/** The browser-decoded bitmap as decode.py's grey image (before compositing: luminance x alpha
 * and alpha, or luminance alone when nothing is transparent). `ends`: the blocks' anchors. */
function reduceBitmap(bitmap, info, ends) {
  const { width, height } = bitmap;
  const factor = reduction(info.width, info.height);
  if (info.format === 'JPEG' && factor > 1) { // draft(): a grey DCT-scaled decode, then reduce()
    const scale = draftScale(info.width, info.height, factor);
    const wx = edgeWeights(width, scale, ends[0]);
    const wy = edgeWeights(height, scale, ends[1]);
    const level = blockSums(width, height, scale, ends, [0]);
    readPixels(bitmap, (x, y, lum) => level.add(x, y, lum * wx[x] * wy[y]));
    const drafted = level.sums[0].map((s) => Math.min(255, Math.round(s / (scale * scale))));
    const second = reduction(level.width, level.height);
    const out = blockSums(level.width, level.height, second, ends, [0]);
    drafted.forEach((v, k) => out.add(k % level.width, Math.floor(k / level.width), v));
    return { ...out, grey: out.sums[0].map((s, k) => reduce8(s, out.counts[k]) / 255) };
  }
  if (info.mode === 'I;16') { // an interlaced 16-bit PNG: the browser's 8 bits, reduced as 16
    const out = blockSums(width, height, factor, ends, [0]);
    readPixels(bitmap, (x, y, lum) => out.add(x, y, lum * 257));
    return deepMeans(out);
  }
  const out = blockSums(width, height, factor, ends, [0, 0, 0]);
  let opaque = true;
  readPixels(bitmap, (x, y, lum, alpha) => {
    opaque &&= alpha === 255;
    out.add(x, y, lum, Math.floor((lum * alpha) / 255), alpha); // ImageChops.multiply
  });
  const [lum, premultiplied, alpha] = out.sums.map((s) => s.map((v, k) => reduce8(v, out.counts[k]) / 255));
  return opaque ? { ...out, grey: lum } : { ...out, grey: premultiplied, alpha };
}

/** 16-bit sums as decode.py reduces them: convert("F").reduce(), float means, / 65535. */
const deepMeans = (out) => ({ ...out, grey: out.sums[0].map((s, k) => f32(s * (1 / out.counts[k])) / 65535) });

function reduceDeep(samples, width, height) {
  const out = blockSums(width, height, reduction(width, height), [0, 0], [0]);
  samples.forEach((v, i) => out.add(i % width, Math.floor(i / width), v));
  return deepMeans(out);
}

/** decode.py's composite: transparency over the background the strokes stand out from. */
function composite(premultiplied, alpha) {
  const ink = f32(sum(premultiplied, true) / f32(Math.max(sum(alpha, true), 1e-6)));
  const background = ink < 0.5 ? 1 : 0;
  return premultiplied.map((p, i) => p + f32(f32(1 - alpha[i]) * background));
}

/** A Blob or File as {grey: Float32Array in 0..1, width, height}, at most MAX_SIDE a side, or an
 * Error with the server's status and message. */
export async function decodeGrey(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const info = readHeader(bytes);
  checkCost(info, reduction(info.width, info.height));
  let reduced;
  let upright = info.orientation === 1; // as shown already: no tag, or the browser turned it
  if (info.mode === 'I;16' && info.streamable) {
    reduced = reduceDeep(await decodeGrey16(bytes, info.width, info.height), info.width, info.height);
  } else {
    upright ||= await browserOrients(info.format);
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob, {
        imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none',
      });
    } catch (error) {
      throw refusal(400, `The image is truncated or corrupt (${error.message}).`);
    }
    try {
      reduced = reduceBitmap(bitmap, info, upright ? FROM_END[info.orientation] ?? [0, 0] : [0, 0]);
    } finally {
      bitmap.close();
    }
  }
  const { alpha, width, height } = reduced;
  let grey = Float32Array.from(reduced.grey);
  if (alpha) grey = composite(grey, Float32Array.from(alpha));
  return upright ? { grey, width, height } : orient(grey, width, height, info.orientation);
}
