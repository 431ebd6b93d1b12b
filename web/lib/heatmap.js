// Arrays and pictures: decoding quantised arrays, colour maps, ImageData atlases.
import { VIRIDIS_RGB } from '../vendor/viridis.js';

/** Decode the API's quantised array {encoding: 'uint8', shape, min, max, data: bytes}
 * (api.js has already inflated `data` into a Uint8Array). */
export function decodeQ(q) {
  if (!q || q.encoding !== 'uint8' || !Array.isArray(q.shape) || !(q.data instanceof Uint8Array)) {
    throw new Error('Unexpected array encoding in the answer.');
  }
  const bytes = q.data;
  const size = q.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== size) {
    throw new Error(`Array of shape [${q.shape}] has ${bytes.length} values, expected ${size}.`);
  }
  const out = new Float32Array(size);
  const scale = (q.max - q.min) / 255;
  for (let i = 0; i < size; i += 1) out[i] = q.min + scale * bytes[i];
  return { shape: q.shape.slice(), data: out, min: q.min, max: q.max };
}

/** Nested lists of numbers -> Float32Array (C order). */
export function flatten(nested) {
  return Float32Array.from(nested.flat(Infinity));
}

/** The shape of nested lists, e.g. [6, 6, 32] for the primary capsules' lengths. */
export function shapeOf(nested) {
  const shape = [];
  for (let node = nested; Array.isArray(node); node = node[0]) shape.push(node.length);
  return shape;
}

/** Nested lists -> {shape, data}, the form decodeQ gives, so views read both alike. */
export function fromNested(nested) {
  return { shape: shapeOf(nested), data: flatten(nested) };
}

/** Tiles per row for an atlas of `count` tiles, about `aspect` times wider than tall. */
export function atlasColumns(count, aspect = 1) {
  return Math.ceil(Math.sqrt(count * aspect));
}

export function range(data) {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i += 1) {
    if (data[i] < min) min = data[i];
    if (data[i] > max) max = data[i];
  }
  return { min, max };
}

/** Colour maps: t in [0, 1] -> writes r, g, b into out at offset. */
export const colormaps = {
  viridis(t, out, o) {
    const i = 3 * Math.max(0, Math.min(255, Math.round(t * 255)));
    out[o] = VIRIDIS_RGB[i];
    out[o + 1] = VIRIDIS_RGB[i + 1];
    out[o + 2] = VIRIDIS_RGB[i + 2];
  },
  gray(t, out, o) {
    const v = Math.max(0, Math.min(255, Math.round(t * 255)));
    out[o] = v;
    out[o + 1] = v;
    out[o + 2] = v;
  },
};

export function cssColor(cmap, t) {
  const rgb = [0, 0, 0];
  colormaps[cmap](t, rgb, 0);
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

const GAP_RGB = [23, 26, 33]; // matches --panel in style.css

/**
 * Paint `count` tiles of h x w values into one canvas, `cols` tiles per row with `gap` pixels
 * between tiles, values mapped from [min, max] through colour map `cmap`. Returns the layout
 * for hit testing. Value (tile k, y, x) is data[offset + k * strides.tile + y * strides.row +
 * x * strides.col]: by default tile after tile in C order; capsuleAtlas gives the strides of
 * the primary capsules' order, where one channel (offset) of interleaved data can be read.
 */
export function renderAtlas(canvas, data, {
  count, h, w, cols, gap = 1, min = 0, max = 1, cmap = 'viridis',
  offset = 0, strides = { tile: h * w, row: w, col: 1 },
}) {
  const { rows, width, height } = reserveAtlas(canvas, {
    count, h, w, cols, gap,
  });
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const px = image.data;
  for (let i = 0; i < px.length; i += 4) {
    px[i] = GAP_RGB[0];
    px[i + 1] = GAP_RGB[1];
    px[i + 2] = GAP_RGB[2];
    px[i + 3] = 255;
  }
  const span = max - min || 1;
  const paint = colormaps[cmap];
  for (let k = 0; k < count; k += 1) {
    const x0 = (k % cols) * (w + gap);
    const y0 = Math.floor(k / cols) * (h + gap);
    for (let y = 0; y < h; y += 1) {
      for (let x = 0; x < w; x += 1) {
        const value = data[offset + k * strides.tile + y * strides.row + x * strides.col];
        paint((value - min) / span, px, ((y0 + y) * width + x0 + x) * 4);
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  return { count, h, w, cols, rows, gap, width, height };
}

/** The atlas of the primary capsules (lengths, couplings): one h x w grid per capsule type,
 * about twice as wide as tall, read from data in the capsules' order ([h, w, types, channels],
 * lib/capsules.js); `channels` interleaved values per capsule (a coupling to each digit). */
export const capsuleAtlas = (types, h, w, channels = 1) => ({
  count: types, h, w, cols: atlasColumns(types, 2), gap: 1,
  strides: { tile: channels, row: w * types * channels, col: types * channels },
});

/** Size a canvas for an atlas of `count` tiles before its data arrive, so nothing moves when
 * they do; returns the layout. (renderAtlas sizes it the same way.) */
export function reserveAtlas(canvas, {
  count, h, w, cols, gap = 1,
}) {
  const rows = Math.ceil(count / cols);
  const width = cols * w + (cols - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  return {
    count, h, w, cols, rows, gap, width, height,
  };
}

/** Draw an image of 0..1 values (nested rows, or {shape: [h, w], data}) in grey. */
export function renderGray(canvas, image) {
  const { shape: [h, w], data } = Array.isArray(image) ? fromNested(image) : image;
  return renderAtlas(canvas, data, { count: 1, h, w, cols: 1, cmap: 'gray' });
}

/**
 * Which tile and cell of an atlas a pointer event is over, or null for gaps/outside.
 */
export function hitTest(canvas, layout, event) {
  if (!layout) return null;
  const rect = canvas.getBoundingClientRect();
  const px = ((event.clientX - rect.left) / rect.width) * layout.width;
  const py = ((event.clientY - rect.top) / rect.height) * layout.height;
  if (px < 0 || py < 0 || px >= layout.width || py >= layout.height) return null;
  const tx = Math.floor(px / (layout.w + layout.gap));
  const ty = Math.floor(py / (layout.h + layout.gap));
  const x = Math.floor(px - tx * (layout.w + layout.gap));
  const y = Math.floor(py - ty * (layout.h + layout.gap));
  if (x >= layout.w || y >= layout.h) return null;
  const index = ty * layout.cols + tx;
  if (index >= layout.count) return null;
  return { index, y, x };
}

/**
 * Position an absolutely placed marker element over cell (y, x) of tile `index`
 * (or the whole tile when y is null), in percent of the atlas so it scales with it.
 */
export function placeMarker(marker, layout, index, y = null, x = null) {
  if (!layout || index === null || index === undefined) {
    marker.hidden = true;
    return;
  }
  const tx = (index % layout.cols) * (layout.w + layout.gap);
  const ty = Math.floor(index / layout.cols) * (layout.h + layout.gap);
  const left = y === null ? tx : tx + x;
  const top = y === null ? ty : ty + y;
  const w = y === null ? layout.w : 1;
  const h = y === null ? layout.h : 1;
  marker.style.left = `${(100 * left) / layout.width}%`;
  marker.style.top = `${(100 * top) / layout.height}%`;
  marker.style.width = `${(100 * w) / layout.width}%`;
  marker.style.height = `${(100 * h) / layout.height}%`;
  marker.hidden = false;
}

/** Fill a legend: a gradient strip canvas plus labels ([text, ...] spread evenly). */
export function renderLegend(container, cmap, labels) {
  let strip = container.querySelector('canvas');
  if (!strip) {
    strip = document.createElement('canvas');
    strip.className = 'legend-strip';
    strip.setAttribute('aria-hidden', 'true');
    container.append(strip);
  }
  strip.width = 256;
  strip.height = 1;
  const ctx = strip.getContext('2d');
  const image = ctx.createImageData(256, 1);
  for (let i = 0; i < 256; i += 1) {
    colormaps[cmap](i / 255, image.data, i * 4);
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  let row = container.querySelector('.legend-labels');
  if (!row) {
    row = document.createElement('div');
    row.className = 'legend-labels';
    container.append(row);
  }
  row.replaceChildren(...labels.map((text) => {
    const span = document.createElement('span');
    span.textContent = text;
    return span;
  }));
}

export function fmt(value, digits = 2) {
  const s = value.toFixed(digits);
  if (!/[1-9]/.test(s)) return (0).toFixed(digits); // no "-0.00"
  return s.startsWith('-') ? `\u2212${s.slice(1)}` : s;
}

/** A colour range of at least `minSpan`, so quantisation noise is not blown up. */
export function widen(min, max, minSpan = 0.02) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1 };
  if (max - min >= minSpan) return { min, max };
  const mid = (min + max) / 2;
  return { min: mid - minSpan / 2, max: mid + minSpan / 2 };
}

/** Five evenly spaced legend labels for [min, max]. */
export function legendLabels(min, max) {
  const digits = max - min < 0.1 ? 3 : 2;
  return [0, 0.25, 0.5, 0.75, 1].map((t) => fmt(min + t * (max - min), digits));
}

/** The least and greatest of every `step`-th value from `offset` on, over several arrays
 * (one digit capsule's couplings in every routing iteration). */
export function strideRange(arrays, offset, step) {
  let min = Infinity;
  let max = -Infinity;
  for (const data of arrays) {
    for (let i = offset; i < data.length; i += step) {
      if (data[i] < min) min = data[i];
      if (data[i] > max) max = data[i];
    }
  }
  return { min, max };
}
