// Pillow's resampling as app/uploads/ uses it, ported from libImaging (Resample.c, Reduce.c,
// RankFilter.c): LANCZOS resize of a float32 "F" image, MaxFilter / MinFilter, and reduce()'s
// box averages, 8-bit (with its rounding) or float32. Images are (data, width, height), row-major.

const f32 = Math.fround;

function sinc(x) {
  if (x === 0) return 1;
  const t = x * Math.PI;
  return Math.sin(t) / t;
}

const lanczos = (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);
const LANCZOS_SUPPORT = 3;

/** Resample.c's precompute_coeffs: for each output pixel, its first input pixel, how many, and
 * their weights (the filter widened by the scale when shrinking, normalised to sum to 1). */
function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterScale;
  const inverse = 1 / filterScale;
  const out = [];
  for (let xx = 0; xx < outSize; xx += 1) {
    const center = (xx + 0.5) * scale;
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - first;
    const weights = new Float64Array(count);
    let total = 0;
    for (let x = 0; x < count; x += 1) {
      weights[x] = lanczos((x + first - center + 0.5) * inverse);
      total += weights[x];
    }
    if (total !== 0) for (let x = 0; x < count; x += 1) weights[x] /= total;
    out.push({ first, weights });
  }
  return out;
}

/** Image.resize((width, height), LANCZOS) of a float32 image: horizontal pass first, each pass
 * summing in double and storing float32, a pass skipped when its size is unchanged. */
export function resizeLanczos(data, width, height, outWidth, outHeight) {
  let image = data;
  let w = width;
  if (outWidth !== width) {
    const taps = coefficients(width, outWidth);
    const temp = new Float32Array(outWidth * height);
    for (let y = 0; y < height; y += 1) {
      const row = y * width;
      for (let xx = 0; xx < outWidth; xx += 1) {
        const { first, weights } = taps[xx];
        let ss = 0;
        for (let x = 0; x < weights.length; x += 1) ss += image[row + first + x] * weights[x];
        temp[y * outWidth + xx] = ss;
      }
    }
    image = temp;
    w = outWidth;
  }
  if (outHeight !== height) {
    const taps = coefficients(height, outHeight);
    const out = new Float32Array(w * outHeight);
    for (let yy = 0; yy < outHeight; yy += 1) {
      const { first, weights } = taps[yy];
      for (let x = 0; x < w; x += 1) {
        let ss = 0;
        for (let y = 0; y < weights.length; y += 1) ss += image[(first + y) * w + x] * weights[y];
        out[yy * w + x] = ss;
      }
    }
    image = out;
  }
  return image === data ? Float32Array.from(data) : image;
}

/** ImageFilter.MaxFilter(size) (max) or MinFilter(size) (min) of a float32 image: the extreme of
 * each size x size window, the edge pixels repeated (Pillow's expand). Done as two 1-D passes,
 * which gives the same extreme as the square window. */
export function rankFilter(data, width, height, size, max) {
  const margin = size >> 1;
  const pick = max ? Math.max : Math.min;
  const rows = new Float32Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let best = data[y * width + x];
      for (let d = -margin; d <= margin; d += 1) {
        best = pick(best, data[y * width + Math.min(Math.max(x + d, 0), width - 1)]);
      }
      rows[y * width + x] = best;
    }
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let best = rows[y * width + x];
      for (let d = -margin; d <= margin; d += 1) {
        best = pick(best, rows[Math.min(Math.max(y + d, 0), height - 1) * width + x]);
      }
      out[y * width + x] = best;
    }
  }
  return out;
}

/** Reduce.c's 8-bit division: (sum + count / 2) * multiplier >> 24, the multiplier a float32
 * quotient truncated, so some means round down where exact rounding would not. */
export function reduce8(total, count) {
  const multiplier = Math.trunc(f32(2 ** 32 / f32(256 * count)));
  return Math.floor(((total + Math.floor(count / 2)) * multiplier) / 2 ** 24);
}

/** Which output block each of n pixels falls in, blocks of `factor` from the start, or from the
 * end when `fromEnd` (a stored image's start after an EXIF flip or turn). */
export function blocks(n, factor, fromEnd) {
  const count = Math.ceil(n / factor);
  const index = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    index[i] = fromEnd ? count - 1 - Math.floor((n - 1 - i) / factor) : Math.floor(i / factor);
  }
  return { index, count };
}
