// An upload's header read before anything is decoded, as app/uploads/decode.py's open_image,
// check_inflated_size and check_decode_cost do with Pillow: the accepted formats, the size, the
// mode Pillow would give it, what its decoder would cost, its EXIF orientation. The same
// refusals with the same statuses and messages as the server.

import {
  ACCEPTED_FORMATS, DECODE_BUDGET, MAX_PIXELS, PILLOW_MAX_PIXELS, PNG_BYTES_PER_PIXEL, STORAGE,
  WEBP_BYTES_PER_PIXEL, refusal,
} from './constants.js';
import { fixed } from './numpy.js';

const ascii = (bytes, at, n) => String.fromCharCode(...bytes.subarray(at, at + n));

/** The EXIF orientation (1..8) in a TIFF block, with or without its "Exif\0\0" prefix; 1 if none. */
export function exifOrientation(exif) {
  if (!exif) return 1;
  const base = ascii(exif, 0, 6) === 'Exif\0\0' ? 6 : 0;
  const view = new DataView(exif.buffer, exif.byteOffset, exif.byteLength);
  try {
    const little = ascii(exif, base, 2) === 'II';
    const ifd = base + view.getUint32(base + 4, little);
    for (let i = 0; i < view.getUint16(ifd, little); i += 1) {
      const entry = ifd + 2 + 12 * i;
      if (view.getUint16(entry, little) === 0x0112) return view.getUint16(entry + 8, little);
    }
  } catch { /* a broken block: no orientation, as decode.py's orient */ }
  return 1;
}

function png(bytes, view) {
  if (ascii(bytes, 12, 4) !== 'IHDR') return null;
  const depth = bytes[24];
  const colour = bytes[25];
  const chunks = {};
  for (let at = 8; at + 8 <= bytes.length; at += 12 + view.getUint32(at)) {
    const kind = ascii(bytes, at + 4, 4);
    chunks[kind] ??= bytes.subarray(at + 8, at + 8 + view.getUint32(at));
  }
  if (!chunks.IDAT) return null;
  const mode = { 0: depth === 1 ? '1' : depth === 16 ? 'I;16' : 'L', 2: 'RGB', 3: 'P', 4: 'LA', 6: 'RGBA' }[colour];
  const animated = chunks.acTL && new DataView(chunks.acTL.buffer, chunks.acTL.byteOffset).getUint32(0) > 1;
  // png_bands.can_stream: one frame, not interlaced, 8-bit (or 16-bit grey), a palette if P
  const streamable = !bytes[28] && !animated && (depth === 8 || mode === 'I;16')
    && (mode !== 'P' || Boolean(chunks.PLTE));
  return { width: view.getUint32(16), height: view.getUint32(20), mode, streamable, exif: chunks.eXIf };
}

const SOF = [0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf];

function jpeg(bytes, view) {
  let exif = null;
  for (let at = 2; at + 4 <= bytes.length;) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) { at += 1; continue; }
    const length = view.getUint16(at + 2);
    const body = bytes.subarray(at + 4, at + 2 + length);
    if (marker === 0xe1 && !exif && ascii(body, 0, 6) === 'Exif\0\0') exif = body;
    if (SOF.includes(marker)) {
      const components = body[5];
      const layers = Array.from({ length: components }, (_, i) => [body[7 + 3 * i] >> 4, body[7 + 3 * i] & 15]);
      return {
        width: view.getUint16(at + 7), height: view.getUint16(at + 5), layers, exif,
        mode: { 1: 'L', 3: 'RGB', 4: 'CMYK' }[components], progressive: [0xc2, 0xc6, 0xca, 0xce].includes(marker),
      };
    }
    if (marker === 0xda || marker === 0xd9) return null;
    at += 2 + length;
  }
  return null;
}

const gif = (bytes, view) => ({ width: view.getUint16(6, true), height: view.getUint16(8, true), mode: 'P' });

function bmp(bytes, view) {
  const core = view.getUint32(14, true) === 12;
  const bits = view.getUint16(core ? 24 : 28, true);
  return {
    width: core ? view.getUint16(18, true) : view.getInt32(18, true),
    height: Math.abs(core ? view.getUint16(20, true) : view.getInt32(22, true)),
    mode: bits <= 8 ? 'P' : 'RGB',
  };
}

function webp(bytes, view) {
  const kind = ascii(bytes, 12, 4);
  let exif = null;
  for (let at = 12; at + 8 <= bytes.length; at += 8 + view.getUint32(at + 4, true) + (view.getUint32(at + 4, true) & 1)) {
    if (ascii(bytes, at, 4) === 'EXIF') exif = bytes.subarray(at + 8, at + 8 + view.getUint32(at + 4, true));
  }
  const size = kind === 'VP8X' ? [1 + (view.getUint32(24, true) & 0xffffff), 1 + (view.getUint32(27, true) & 0xffffff)]
    : kind === 'VP8L' ? [1 + (view.getUint32(21, true) & 0x3fff), 1 + ((view.getUint32(21, true) >> 14) & 0x3fff)]
      : kind === 'VP8 ' ? [view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff] : null;
  return size && { width: size[0], height: size[1], mode: 'RGB', exif };
}

/** Pillow's test of each accepted format's first bytes, and the reader of its header. */
const FORMATS = {
  PNG: [(b) => ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n', png],
  JPEG: [(b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff, jpeg],
  GIF: [(b) => ['GIF87a', 'GIF89a'].includes(ascii(b, 0, 6)), gif],
  BMP: [(b) => ascii(b, 0, 2) === 'BM', bmp],
  WEBP: [(b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP', webp],
};

/** decode.py's open_image: the header's facts, or the server's refusal (400, 413, 415, 422). */
export function readHeader(bytes) {
  if (bytes.length === 0) throw refusal(400, 'The image file is empty.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let info = null;
  for (const [format, [accepts, read]] of Object.entries(FORMATS)) {
    try {
      if (accepts(bytes)) info = { ...read(bytes, view), format };
    } catch { /* a header cut short: not an image */ }
    if (info?.width !== undefined) break;
    info = null;
  }
  if (!info) {
    throw refusal(415, `The file is not an image in a supported format (${ACCEPTED_FORMATS.join(', ')}).`);
  }
  const { width, height } = info;
  const pixels = Math.max(1, width) * Math.max(1, height);
  if (pixels > 2 * PILLOW_MAX_PIXELS) {
    throw refusal(413, `Image has too many pixels (Image size (${pixels} pixels) exceeds limit of `
      + `${2 * PILLOW_MAX_PIXELS} pixels, could be decompression bomb DOS attack.).`);
  }
  if (width * height > MAX_PIXELS) {
    throw refusal(413, `Image is ${width}x${height} pixels: at most ${MAX_PIXELS.toLocaleString('en-US')} are accepted.`);
  }
  if (width < 1 || height < 1) throw refusal(422, 'Image has no pixels.');
  return { ...info, orientation: exifOrientation(info.exif) };
}

/** check_inflated_size (a PNG read in bands) or check_decode_cost (one decoded whole). */
export function checkCost({ format, width, height, mode, streamable, progressive, layers }, factor) {
  const pixels = width * height;
  const budget = DECODE_BUDGET / 2 ** 20;
  if (format === 'PNG' && streamable) {
    const inflated = pixels * (PNG_BYTES_PER_PIXEL[mode] ?? 4);
    if (inflated > DECODE_BUDGET) {
      throw refusal(413, `A ${width}x${height} ${mode} PNG inflates to ${Math.floor(inflated / 2 ** 20)} MB: at most `
        + `${budget} MB are allowed. Send it in grey, smaller, or as a JPEG.`);
    }
    return;
  }
  let cost = pixels * (STORAGE[mode] ?? 4);
  if (format === 'WEBP') cost = WEBP_BYTES_PER_PIXEL * pixels;
  if (format === 'JPEG') {
    const scale = Math.min(8, 2 ** Math.floor(Math.log2(factor))); // the DCT scale draft() picks
    cost = Math.ceil(width / scale) * Math.ceil(height / scale) * (STORAGE[mode] ?? 4);
    if (progressive) { // libjpeg keeps every coefficient (2 bytes) of every scan
      const areas = layers.map(([h, v]) => h * v);
      cost += Math.floor((2 * pixels * areas.reduce((a, b) => a + b, 0)) / Math.max(...areas));
    }
  }
  if (cost > DECODE_BUDGET) {
    const kind = format === 'JPEG' ? 'progressive JPEG' : format;
    throw refusal(413, `This ${width}x${height} ${kind} would need ${fixed(cost / 2 ** 20, 0)} MB to decode: `
      + `at most ${budget} MB are allowed. Baseline JPEG and 8-bit PNG of any accepted size are decoded in `
      + 'pieces: send one of those, or a smaller image.');
  }
}
