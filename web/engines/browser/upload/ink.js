// The ink measured from the ink (app/uploads/preprocess.py's dark_ink, background_light,
// local_minimum, paper_level, otsu_threshold, ink_map), with numpy's dtypes: `single` arrays are
// float32 as in the Python, where a float32 rounding can move a value across a threshold.

import {
  LIGHT_WINDOW, MIN_CONTRAST, MIN_SIGNAL, MODE_SAMPLES, NO_DIGIT, QUANTUM, refusal,
} from './constants.js';
import {
  histogram, lstsq, median, pairwiseSum, percent, percentile, sorted, sum,
} from './numpy.js';

const f32 = Math.fround;
const keep = (x) => x;

/** The `rank`-th smallest value (0-based) of values, for a small rank. */
function smallest(values, rank, sign = 1) {
  const best = [];
  for (let i = 0; i < values.length; i += 1) {
    const v = sign * values[i];
    if (best.length > rank && v >= best[rank]) continue;
    let j = best.length;
    while (j > 0 && best[j - 1] > v) j -= 1;
    best.splice(j, 0, v);
    if (best.length > rank + 1) best.pop();
  }
  return sign * best[rank];
}

/** Dark ink on light paper (true) or light on dark: the ink lies farther from the border's median. */
export function darkInk(gray, height, width) {
  const border = new Float32Array(2 * width + 2 * height);
  border.set(gray.subarray(0, width), 0);
  border.set(gray.subarray((height - 1) * width, height * width), width);
  for (let y = 0; y < height; y += 1) {
    border[2 * width + y] = gray[y * width];
    border[2 * width + height + y] = gray[y * width + width - 1];
  }
  const paper = median(border, true);
  const extreme = Math.min(9, gray.length >> 1);
  return paper - smallest(gray, extreme) > smallest(gray, extreme, -1) - paper;
}

/** decode.py's block_mean (edge-padded blocks), as numpy sums it in float32: each block row's
 * pairwise sum added in turn, then divided. */
function blockMean(gray, height, width, step) {
  const rows = Math.ceil(height / step);
  const cols = Math.ceil(width / step);
  const grid = new Float32Array(rows * cols);
  for (let a = 0; a < rows; a += 1) {
    for (let b = 0; b < cols; b += 1) {
      let acc = 0;
      for (let r = 0; r < step; r += 1) {
        const row = Math.min(a * step + r, height - 1) * width;
        acc = f32(acc + pairwiseSum((i) => gray[row + Math.min(i, width - 1)], b * step, step, true));
      }
      grid[a * cols + b] = acc / (step * step);
    }
  }
  return { grid, rows, cols };
}

/** Each cell's minimum over the size x size cells around it, edge cells repeated. */
export function localMinimum(grid, rows, cols, size) {
  const half = size >> 1;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < cols; c += 1) {
      let low = Infinity;
      for (let dr = -half; dr <= half; dr += 1) {
        const row = Math.min(Math.max(r + dr, 0), rows - 1) * cols;
        for (let dc = -half; dc <= half; dc += 1) low = Math.min(low, grid[row + Math.min(Math.max(c + dc, 0), cols - 1)]);
      }
      out[r * cols + c] = low;
    }
  }
  return out;
}

/** The residual of `small` from the quadratic surface `coef` over the blocks' `terms`. */
function residualOf(small, terms, coef) {
  const out = new Float64Array(small.length);
  for (let i = 0; i < small.length; i += 1) {
    let fit = 0;
    for (let k = 0; k < 6; k += 1) fit += terms[i * 6 + k] * coef[k];
    out[i] = small[i] - fit;
  }
  return out;
}

const count = (mask) => mask.reduce((n, m) => n + m, 0);

/** The paper's level under uneven light (float32, height x width), or null for one level (0). */
export function backgroundLight(gray, height, width) {
  if (Math.max(height, width) < 64) return null;
  const side = Math.max(height, width);
  const step = Math.ceil(side / 32);
  const { grid: small, rows, cols } = blockMean(gray, height, width, step);
  const n = small.length;
  const terms = new Float64Array(n * 6);
  for (let i = 0; i < n; i += 1) {
    const y = ((Math.floor(i / cols) + 0.5) * step - height / 2) / side;
    const x = (((i % cols) + 0.5) * step - width / 2) / side;
    terms.set([1, x, y, x * x, x * y, y * y], i * 6);
  }
  // A uniform grid is fitted exactly by its level: numpy's roundoff there (1e-15) would only
  // pick blocks at random, and every path ends at "the image is uniform".
  const flat = small.every((v) => v === small[0]);
  const rough = residualOf(small, terms, flat ? [small[0], 0, 0, 0, 0, 0] : lstsq(terms, small, n, 6));
  const low = localMinimum(rough, rows, cols, LIGHT_WINDOW);
  const rise = rough.map((v, i) => v - low[i]);
  const riseCut = otsuThreshold(rise, false);
  const candidates = Uint8Array.from(rise, (v) => v < riseCut);
  if (count(candidates) < 12) return null;
  let paper = candidates;
  let coef;
  for (let round = 0; round < 4; round += 1) {
    const idx = [];
    paper.forEach((p, i) => p && idx.push(i));
    coef = lstsq(Float64Array.from(idx.flatMap((i) => Array.from(terms.subarray(i * 6, i * 6 + 6)))),
      Float64Array.from(idx, (i) => small[i]), idx.length, 6);
    const residual = residualOf(small, terms, coef);
    const cut = otsuThreshold(residual.filter((_, i) => candidates[i]), false);
    const below = candidates.map((c, i) => c && residual[i] < cut);
    if (count(below) < 12) break;
    paper = below;
  }
  const c = Float32Array.from(coef);
  const light = new Float32Array(height * width);
  const xs = Float32Array.from({ length: width }, (_, i) => f32(f32(i + 0.5) - width / 2) / side);
  for (let r = 0; r < height; r += 1) {
    const y = f32(f32(f32(r + 0.5) - height / 2) / side);
    const a = f32(f32(c[0] + f32(c[2] * y)) + f32(f32(c[5] * y) * y));
    const cy = f32(c[4] * y);
    for (let i = 0; i < width; i += 1) {
      const x = xs[i];
      const b = f32(f32(c[1] * x) + f32(f32(c[3] * x) * x));
      light[r * width + i] = f32(a + b) + f32(cy * x);
    }
  }
  return light;
}

/** Otsu's threshold over a 256-bin histogram: one of the histogram's edges. */
export function otsuThreshold(values, single) {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) { low = Math.min(low, v); high = Math.max(high, v); }
  if (high <= low) return high;
  const r = single ? f32 : keep;
  const { counts, edges } = histogram(values, 256, low, high, single);
  const weighted = counts.map((n, i) => n * r(r(edges[i] + edges[i + 1]) / 2));
  const total = values.length;
  const totalMean = sum(weighted, false);
  let weight = 0;
  let mean = 0;
  let best = 0;
  let at = 0;
  let anyValid = false;
  for (let i = 0; i < 255; i += 1) {
    weight += counts[i];
    mean += weighted[i];
    const foreground = total - weight;
    if (!(weight > 0 && foreground > 0)) continue;
    anyValid = true;
    const d = mean / weight - (totalMean - mean) / foreground;
    const between = weight * foreground * (d * d);
    if (between > best) { best = between; at = i; }
  }
  return anyValid ? edges[1 + at] : high;
}

/** The paper's level (its half-sample mode) and noise (the spread below that level). */
export function paperLevel(values, single) {
  const r = single ? f32 : keep;
  const stride = Math.ceil(values.length / MODE_SAMPLES);
  const ordered = sorted(stride > 1 ? values.filter((_, i) => i % stride === 0) : values);
  let densest = ordered;
  while (densest.length > 3) {
    const half = (densest.length + 1) >> 1;
    let start = 0;
    let shortest = Infinity;
    for (let i = 0; i + half <= densest.length; i += 1) {
      const span = r(densest[i + half - 1] - densest[i]);
      if (span < shortest) { shortest = span; start = i; }
    }
    densest = densest.subarray(start, start + half);
  }
  let total = 0;
  for (const v of densest) total = r(total + v);
  const level = r(total / densest.length);
  let end = 0;
  while (end < ordered.length && ordered[end] <= level) end += 1;
  return [level, Math.max(1.4826 * (level - median(ordered.subarray(0, end), single)), QUANTUM)];
}

/** Light ink on black: paper 0, the ink's typical peak 1. Throws a 422 when there is no digit.
 * Returns { data, single }: float64 where numpy's would be (dark ink on paper of one level). */
export function inkMap(gray, height, width) {
  const dark = darkInk(gray, height, width);
  const flipped = dark ? gray.map((v) => 1 - v) : gray;
  const light = backgroundLight(flipped, height, width);
  const residual = light ? flipped.map((v, i) => v - light[i]) : Float32Array.from(flipped);
  if (dark && light) for (let i = 0; i < residual.length; i += 1) residual[i] /= Math.max(f32(1 - light[i]), f32(0.05));
  const single = !(dark && !light); // numpy: float32 / np.float64(1.0) is float64
  const r = single ? f32 : keep;
  const threshold = otsuThreshold(residual, single);
  const paper = residual.filter((v) => v < threshold);
  const ink = residual.filter((v) => v >= threshold);
  if (paper.length === 0 || ink.length === 0) throw refusal(422, NO_DIGIT('the image is uniform'));
  const [level, noise] = paperLevel(paper, single);
  const peak = percentile(sorted(ink), 90, single);
  const contrast = peak - level;
  if (contrast < Math.max(MIN_CONTRAST, MIN_SIGNAL * noise)) {
    throw refusal(422, NO_DIGIT(`the darkest marks differ from the paper by ${percent(contrast, 0)}, `
      + `its noise is ${percent(noise, 1)}`));
  }
  const floor = level + Math.max(4 * noise, 0.25 * contrast);
  const base = r(floor);
  const span = r(peak - floor);
  const data = (single ? new Float32Array(residual.length) : new Float64Array(residual.length));
  for (let i = 0; i < residual.length; i += 1) data[i] = Math.min(Math.max(r(r(residual[i] - base) / span), 0), 1);
  return { data, single };
}
