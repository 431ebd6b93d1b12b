// The per-input measures of model/agreement.py and model/routing_share.py, on the stages graph's
// outputs, in float64 as numpy computes them; and model/receptive_field.py's spreading of one
// value per capsule position over the input pixels its capsules see.

/** Per digit j: the mean cosine between the votes and v_j, each vote weighted by c_ij |u_hat|.
 * uHat (capsules x digits x dim), coupling (capsules x digits), v (digits x dim) -> (digits). */
export function agreement(uHat, coupling, v, capsules, digits, dim) {
  const out = new Float64Array(digits);
  for (let j = 0; j < digits; j += 1) {
    let vNorm = 0;
    for (let d = 0; d < dim; d += 1) vNorm += v[j * dim + d] ** 2;
    vNorm = Math.sqrt(vNorm);
    let weighted = 0;
    let total = 0;
    for (let i = 0; i < capsules; i += 1) {
      const at = (i * digits + j) * dim;
      let dot = 0;
      let norm = 0;
      for (let d = 0; d < dim; d += 1) {
        dot += uHat[at + d] * v[j * dim + d];
        norm += uHat[at + d] ** 2;
      }
      norm = Math.sqrt(norm);
      const weight = coupling[i * digits + j] * norm;
      weighted += weight * (dot / Math.max(norm * vNorm, 1e-12));
      total += weight;
    }
    out[j] = weighted / Math.max(total, 1e-12);
  }
  return out;
}

/** Each capsule's contribution to v_digit (c times its vote's component along v), summed per
 * grid position over the capsule types -> (rows x cols). */
export function evidence(uHat, coupling, v, digit, [rows, cols, types], digits, dim) {
  let norm = 0;
  for (let d = 0; d < dim; d += 1) norm += v[digit * dim + d] ** 2;
  norm = Math.max(Math.sqrt(norm), 1e-12);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows * cols * types; i += 1) {
    let along = 0;
    for (let d = 0; d < dim; d += 1) along += uHat[(i * digits + digit) * dim + d] * (v[digit * dim + d] / norm);
    out[Math.floor(i / types)] += coupling[i * digits + digit] * along;
  }
  return out;
}

/** (rows x cols) values -> (side x side): each pixel the sum over the units whose field covers it. */
export function spreadOverFields(values, rows, cols, { size, stride }, side) {
  const out = new Float64Array(side * side);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < cols; c += 1) {
      for (let y = r * stride; y < Math.min(r * stride + size, side); y += 1) {
        for (let x = c * stride; x < Math.min(c * stride + size, side); x += 1) out[y * side + x] += values[r * cols + c];
      }
    }
  }
  return out;
}

/** (n x 16) vectors -> (n x 2) on a digit's two principal axes ({mean, components}). */
export function project(vectors, n, dim, { mean, components }) {
  return Array.from({ length: n }, (_, i) => components.map((axis) => {
    let sum = 0;
    for (let d = 0; d < dim; d += 1) sum += (vectors[i * dim + d] - mean[d]) * axis[d];
    return sum;
  }));
}

/** sum_i w_i c_ij / sum_i w_i over the capsules `indices` (all when null); the plain mean when
 * no capsule has a length. coupling (capsules x digits), weights (capsules) -> (digits). */
export function couplingShares(coupling, weights, digits, indices) {
  const out = new Float64Array(digits);
  const plain = new Float64Array(digits);
  let total = 0;
  for (const i of indices) {
    total += weights[i];
    for (let j = 0; j < digits; j += 1) {
      out[j] += weights[i] * coupling[i * digits + j];
      plain[j] += coupling[i * digits + j] / indices.length;
    }
  }
  return total > 0 ? out.map((v) => v / total) : plain;
}

/** The shares of the capsules of all types at each grid position: (rows x cols) of (digits). */
export function positionShares(coupling, weights, [rows, cols, types], digits) {
  return Array.from({ length: rows * cols }, (_, p) => couplingShares(
    coupling, weights, digits, Array.from({ length: types }, (__, t) => p * types + t),
  ));
}
