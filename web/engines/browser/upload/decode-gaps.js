// Where the browser's decoding falls short of Pillow's, made good here (decode.js uses both).
//
// 16-bit grey PNGs: the browser gives every image 8 bits a channel, but Pillow reads such a PNG as
// mode "I;16" and decode.py keeps all 16 bits (convert("F")), so a gradient's low byte reaches the
// preprocessing. Non-interlaced ones (what png_bands.py streams) are decoded here, the IDAT stream
// inflated by the browser's DecompressionStream.
//
// EXIF orientation: Pillow's side turns every PNG, JPEG and WebP by its EXIF tag (decode.py's
// orient); browsers turn some formats in createImageBitmap(..., {imageOrientation: 'from-image'})
// and not others (Chromium leaves WebP as stored). Which, is asked once per format with a tiny
// 2x1 image tagged "turn clockwise" (made by Pillow); what the browser leaves, orient() turns.

import { refusal } from './constants.js';

async function inflate(data) {
  const reader = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate')).getReader();
  const parts = [];
  let error = null;
  for (;;) {
    try {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    } catch (caught) {
      error = caught; // a truncated stream: keep the rows it held, as png_bands.py does
      break;
    }
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => { out.set(p, at); return at + p.length; }, 0);
  return { out, error };
}

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** The samples of a non-interlaced 16-bit grey PNG (Uint16Array, row-major), or a 400 refusal. */
export async function decodeGrey16(bytes, width, height) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat = [];
  for (let at = 8; at + 8 <= bytes.length; at += 12 + view.getUint32(at)) {
    if (String.fromCharCode(...bytes.subarray(at + 4, at + 8)) === 'IDAT') {
      idat.push(bytes.subarray(at + 8, at + 8 + view.getUint32(at)));
    }
  }
  const { out: raw, error } = await inflate(new Blob(idat));
  const stride = 2 * width;
  const rows = Math.min(height, Math.floor(raw.length / (stride + 1)));
  if (rows < height) {
    const why = rows === 0 && error ? `corrupt image data (${error.message})` : `image data ends after ${rows} of ${height} rows`;
    throw refusal(400, `The image is truncated or corrupt (${why}).`);
  }
  const line = new Uint8Array(stride);
  const prior = new Uint8Array(stride);
  const samples = new Uint16Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const at = y * (stride + 1);
    const filter = raw[at];
    for (let x = 0; x < stride; x += 1) {
      const a = x >= 2 ? line[x - 2] : 0;
      const b = prior[x];
      const c = x >= 2 ? prior[x - 2] : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      if (predictor === undefined) throw refusal(400, 'The image is truncated or corrupt (corrupt image data).');
      line[x] = raw[at + 1 + x] + predictor;
    }
    for (let x = 0; x < width; x += 1) samples[y * width + x] = (line[2 * x] << 8) | line[2 * x + 1];
    prior.set(line);
  }
  return samples;
}

const PROBES = {
  PNG: 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAAAAADRSSBWAAAAGmVYSWZNTQAqAAAACAABARIAAwAAAAEABgAAAAAAANZnS2kAAAALSURBVHja'
    + 'Y2BgAAAAAwABKwlNhAAAAABJRU5ErkJggg==',
  WEBP: 'UklGRk4AAABXRUJQVlA4WAoAAAAIAAAAAQAAAAAAVlA4TA4AAAAvAQAAAAcQEf0PRET/A0VYSUYaAAAATU0AKgAAAAgAAQESAAMAAAABAAYAAAAAAAA=',
  JPEG: '/9j/4AAQSkZJRgABAQAAAQABAAD/4QAiRXhpZgAATU0AKgAAAAgAAQESAAMAAAABAAYAAAAAAAD/2wBDAFA3PEY8MlBGQUZaVVBfeMiCeG5ueP'
    + 'WvuZHI////////////////////////////////////////////////////wAALCAABAAIBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcI'
    + 'CQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RF'
    + 'RkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi'
    + '4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/AKVf/9k=',
};
const asked = {};

/** Whether the browser applies the EXIF orientation of images in this format. */
export function browserOrients(format) {
  asked[format] ??= (async () => {
    const bytes = Uint8Array.from(atob(PROBES[format]), (c) => c.charCodeAt(0));
    try {
      const bitmap = await createImageBitmap(new Blob([bytes]), { imageOrientation: 'from-image' });
      const upright = bitmap.width === 1;
      bitmap.close();
      return upright;
    } catch {
      return false;
    }
  })();
  return asked[format];
}

// For each orientation, where the shown pixel (i, j) of a turned h x w image is read in the
// stored one, as decode.py's ORIENTATIONS (numpy flips, transposes and rot90) place it.
const SOURCE = {
  2: (i, j, h, w) => [i, w - 1 - j],
  3: (i, j, h, w) => [h - 1 - i, w - 1 - j],
  4: (i, j, h) => [h - 1 - i, j],
  5: (i, j) => [j, i],
  6: (i, j, h) => [h - 1 - j, i],
  7: (i, j, h, w) => [h - 1 - j, w - 1 - i],
  8: (i, j, h, w) => [j, w - 1 - i],
};

/** The stored grey image (height x width) as the EXIF orientation shows it. */
export function orient(grey, width, height, orientation) {
  const source = SOURCE[orientation];
  if (!source) return { grey, width, height };
  const turned = orientation >= 5;
  const [w, h] = turned ? [height, width] : [width, height];
  const out = new Float32Array(grey.length);
  for (let i = 0; i < h; i += 1) {
    for (let j = 0; j < w; j += 1) {
      const [r, c] = source(i, j, height, width);
      out[i * w + j] = grey[r * width + c];
    }
  }
  return { grey: out, width: w, height: h };
}
