// What numpy and Python do for app/uploads/preprocess.py, reproduced to the last bit where a
// threshold could turn on it: float32 arithmetic where numpy keeps float32 (`single`), numpy's
// pairwise summation, its median, percentile, histogram binning and least squares, Python's
// round() and its % formatting. Arrays are typed arrays; `single` says float32 semantics.

const f32 = Math.fround;
const keep = (x) => x;

/** numpy's pairwise sum of n values read by get(i) (float32 accumulators when single). */
export function pairwiseSum(get, start, n, single) {
  const r = single ? f32 : keep;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i += 1) res = r(res + get(start + i));
    return res;
  }
  if (n <= 128) {
    const acc = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => get(start + j));
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j += 1) acc[j] = r(acc[j] + get(start + i + j));
    let res = r(r(r(acc[0] + acc[1]) + r(acc[2] + acc[3])) + r(r(acc[4] + acc[5]) + r(acc[6] + acc[7])));
    for (; i < n; i += 1) res = r(res + get(start + i));
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return r(pairwiseSum(get, start, half, single) + pairwiseSum(get, start + half, n - half, single));
}

export const sum = (values, single) => pairwiseSum((i) => values[i], 0, values.length, single);

export function sorted(values) {
  return values.slice().sort(); // typed arrays sort numerically
}

/** np.median: the middle value, or the mean of the two middle values in the array's type. */
export function median(values, single) {
  const s = sorted(values);
  const mid = s.length >> 1;
  if (s.length % 2) return s[mid];
  return single ? f32(s[mid - 1] + s[mid]) / 2 : (s[mid - 1] + s[mid]) / 2;
}

/** np.percentile(values, q) of already sorted values, numpy's 'linear' method (its _lerp). */
export function percentile(s, q, single) {
  const r = single ? f32 : keep;
  const virtual = (s.length - 1) * (q / 100);
  const below = Math.floor(virtual);
  const gamma = virtual - below;
  const a = s[below];
  const b = s[Math.min(below + 1, s.length - 1)];
  const diff = r(b - a);
  return gamma >= 0.5 ? r(b - r(diff * r(1 - gamma))) : r(a + r(diff * r(gamma)));
}

/** np.histogram(values, bins, range=(low, high)): counts and edges (float32 edges for float32
 * values), with numpy's index correction at the edges. */
export function histogram(values, bins, low, high, single) {
  const r = single ? f32 : keep;
  const step = (high - low) / bins;
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i < bins; i += 1) edges[i] = r(i * step + low);
  edges[bins] = r(high);
  const counts = new Float64Array(bins);
  const denom = high - low;
  for (let k = 0; k < values.length; k += 1) {
    const v = values[k];
    if (!(v >= low && v <= high)) continue;
    let i = Math.trunc((r(v - low) / denom) * bins);
    if (i === bins) i -= 1;
    if (v < edges[i]) i -= 1;
    if (v >= edges[i + 1] && i !== bins - 1) i += 1;
    counts[i] += 1;
  }
  return { counts, edges };
}

/** np.linalg.lstsq(a, b, rcond=None)[0] for a (n x k, row-major): the minimum-norm solution by
 * an SVD (one-sided Jacobi), small singular values cut as LAPACK's gelsd does. */
export function lstsq(a, b, n, k) {
  const u = Float64Array.from(a);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i += 1) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 60; sweep += 1) {
    let rotated = false;
    for (let p = 0; p < k - 1; p += 1) {
      for (let q = p + 1; q < k; q += 1) {
        let alpha = 0; let beta = 0; let gamma = 0;
        for (let i = 0; i < n; i += 1) {
          const up = u[i * k + p]; const uq = u[i * k + q];
          alpha += up * up; beta += uq * uq; gamma += up * uq;
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (const [m, rows] of [[u, n], [v, k]]) {
          for (let i = 0; i < rows; i += 1) {
            const mp = m[i * k + p]; const mq = m[i * k + q];
            m[i * k + p] = c * mp - s * mq;
            m[i * k + q] = s * mp + c * mq;
          }
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(k);
  for (let j = 0; j < k; j += 1) for (let i = 0; i < n; i += 1) norms[j] += u[i * k + j] ** 2;
  const largest = Math.sqrt(Math.max(...norms));
  const cutoff = 2 ** -52 * Math.max(n, k) * largest;
  const x = new Float64Array(k);
  for (let j = 0; j < k; j += 1) {
    if (!(Math.sqrt(norms[j]) > cutoff)) continue;
    let ub = 0;
    for (let i = 0; i < n; i += 1) ub += u[i * k + j] * b[i];
    for (let i = 0; i < k; i += 1) x[i] += (v[i * k + j] * ub) / norms[j];
  }
  return x;
}

/** Python's round(): halves to even. */
export function roundHalfEven(x) {
  const down = Math.floor(x);
  const rest = x - down;
  if (rest > 0.5) return down + 1;
  if (rest < 0.5) return down;
  return down % 2 === 0 ? down : down + 1;
}

/** Python's f"{x:.{digits}f}" (halves to even, as Python rounds the exact binary value). */
export function fixed(x, digits) {
  const scaled = x * 10 ** digits;
  let text = x.toFixed(digits);
  if (Number.isInteger(scaled * 2) && !Number.isInteger(scaled)) {
    text = (roundHalfEven(scaled) / 10 ** digits).toFixed(digits);
    if (x < 0 && !text.startsWith('-')) text = `-${text}`;
  }
  return Object.is(x, -0) ? `-${text}` : text;
}

/** Python's f"{x:.{digits}%}". */
export const percent = (x, digits) => `${fixed(x * 100, digits)}%`;
