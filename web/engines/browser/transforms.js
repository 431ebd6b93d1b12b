// The claims lab's input transforms in the browser, ported from datasets/transforms.py so the
// static edition transforms the reader's digit as the server would: thickness (grey-scale
// dilation or erosion), then scale, shear and rotation about the centre of mass, then the shift,
// sampled bilinearly with zeros outside. Arithmetic is float64 in numpy's order of operations;
// the result is float32 clipped to 0..1, like apply_transform's. The parameters' names, ranges
// and defaults are not written here: they come from GET /api/model's `transforms` (one table,
// TRANSFORMS in Python), passed in as `ranges`.

/** The parameters that change nothing (Python's IDENTITY); the geometric step is skipped when
 * they all hold, as transform_each skips warp(). */
export const IDENTITY = Object.freeze({
  rotation: 0, scale_x: 1, scale_y: 1, shear: 0, dx: 0, dy: 0, thickness: 0,
});
const GEOMETRIC = ['rotation', 'scale_x', 'scale_y', 'shear', 'dx', 'dy'];

/** An Error the engine can answer like the server's 422. */
function refusal(message) {
  const error = new Error(message);
  error.status = 422;
  return error;
}

/** check_transform: every parameter with its default filled in, or a 422 naming the bad field
 * and its range. `ranges` is /api/model's {name: {min, max, default, unit, ...}}. */
export function checkTransform(transform, ranges) {
  if (!ranges || typeof ranges !== 'object') {
    throw new TypeError('checkTransform needs the ranges of GET /api/model (its `transforms`).');
  }
  const names = Object.keys(ranges);
  const checked = {};
  for (const name of names) checked[name] = ranges[name].default;
  for (const [name, value] of Object.entries(transform ?? {})) {
    if (!Object.hasOwn(ranges, name)) {
      throw refusal(`unknown transform '${name}': choose from ${names.join(', ')}.`);
    }
    const { min, max, unit } = ranges[name];
    // typeof rules out strings and booleans, which Python's check would not take as numbers either
    if (!(typeof value === 'number' && Number.isFinite(value) && min <= value && value <= max)) {
      throw refusal(`${name} must be in ${min}..${max} ${unit}, got ${value}.`);
    }
    checked[name] = value;
  }
  return checked;
}

// ---------------------------------------------------------------- thickness

/** One step of grey-scale dilation (Math.max) or erosion (Math.min) with the 4-neighbour cross;
 * outside the image counts as background, so erosion eats strokes at the border too. */
function neighbourhood(image, height, width, reduce) {
  const out = new Float64Array(image.length);
  const at = (y, x) => (y < 0 || y >= height || x < 0 || x >= width ? 0 : image[y * width + x]);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      // the same order as _neighbourhood: centre, up, down, left, right
      let value = reduce(image[y * width + x], at(y - 1, x));
      value = reduce(value, at(y + 1, x));
      value = reduce(value, at(y, x - 1));
      out[y * width + x] = reduce(value, at(y, x + 1));
    }
  }
  return out;
}

/** change_thickness: |amount| whole steps, then a fractional step blended with the previous
 * image, so the slider acts continuously. */
export function changeThickness(image, height, width, amount) {
  if (amount === 0) return image;
  const reduce = amount > 0 ? Math.max : Math.min;
  const magnitude = Math.abs(amount);
  const whole = Math.floor(magnitude);
  const fraction = magnitude - whole; // exact, as Python's divmod(|amount|, 1.0)
  let current = image;
  for (let step = 0; step < whole; step += 1) current = neighbourhood(current, height, width, reduce);
  if (fraction) {
    const next = neighbourhood(current, height, width, reduce);
    const blended = new Float64Array(current.length);
    for (let i = 0; i < blended.length; i += 1) blended[i] = (1 - fraction) * current[i] + fraction * next[i];
    current = blended;
  }
  return current;
}

// ---------------------------------------------------------------- geometry

/** centre_of_mass: [x, y] in pixel coordinates (column sums times x, row sums times y, over the
 * mass); the image centre when there is no ink, so an empty image still has a pivot. */
export function centreOfMass(image, height, width) {
  const columns = new Float64Array(width);
  const rows = new Float64Array(height);
  let mass = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const v = image[y * width + x];
      columns[x] += v;
      rows[y] += v;
      mass += v;
    }
  }
  if (!(mass > 0)) return [(width - 1) / 2, (height - 1) / 2];
  let sx = 0;
  let sy = 0;
  for (let x = 0; x < width; x += 1) sx += columns[x] * x;
  for (let y = 0; y < height; y += 1) sy += rows[y] * y;
  return [sx / mass, sy / mass];
}

const multiply = (a, b) => [
  [a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1]],
  [a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1]],
];

/** linear_part: R @ Sh @ S acting on (x, y) with y pointing down, so a positive rotation turns
 * counter-clockwise on screen and a positive shear moves the top to the right. */
export function linearPart(rotation, scaleX, scaleY, shear) {
  const theta = rotation * (Math.PI / 180); // np.deg2rad
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const rotate = [[cos, sin], [-sin, cos]];
  const slant = [[1, -shear], [0, 1]];
  const stretch = [[scaleX, 0], [0, scaleY]];
  return multiply(multiply(rotate, slant), stretch);
}

/** warp: out(p) = in(c + M^-1 (p - c - t)), bilinear, zero outside. Python pads one ring of
 * zeros and clips far samples into it, which is the same as reading 0 off the image. */
export function warp(image, height, width, matrix, centre, shift) {
  const [[a, b], [c, d]] = matrix;
  const det = a * d - b * c; // never 0: the scales are at least 0.5 and a shear keeps the area
  const inverse = [[d / det, -b / det], [-c / det, a / det]];
  const [cx, cy] = centre;
  const ox = cx + shift[0];
  const oy = cy + shift[1];
  const at = (x, y) => (x < 0 || x >= width || y < 0 || y >= height ? 0 : image[y * width + x]);
  const out = new Float64Array(height * width);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const tx = x - ox;
      const ty = y - oy;
      const sx = inverse[0][0] * tx + inverse[0][1] * ty + cx;
      const sy = inverse[1][0] * tx + inverse[1][1] * ty + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      out[y * width + x] = (1 - fx) * (1 - fy) * at(x0, y0) + fx * (1 - fy) * at(x0 + 1, y0)
        + (1 - fx) * fy * at(x0, y0 + 1) + fx * fy * at(x0 + 1, y0 + 1);
    }
  }
  return out;
}

/** apply_transform on one image: `pixels` (height * width, row-major, 0..1) -> a new
 * Float32Array clipped to 0..1. Throws an Error with status 422 for an unknown or out-of-range
 * parameter, saying what check_transform says. */
export function applyTransform(pixels, height, width, transform, ranges) {
  if (pixels.length !== height * width) {
    throw new TypeError(`expected ${height}x${width} = ${height * width} pixels, got ${pixels.length}.`);
  }
  const t = checkTransform(transform, ranges);
  let image = changeThickness(Float64Array.from(pixels), height, width, t.thickness);
  if (!GEOMETRIC.every((name) => t[name] === IDENTITY[name])) {
    const matrix = linearPart(t.rotation, t.scale_x, t.scale_y, t.shear);
    image = warp(image, height, width, matrix, centreOfMass(image, height, width), [t.dx, t.dy]);
  }
  const out = new Float32Array(image.length); // float64 clipped, then rounded to float32 as astype
  for (let i = 0; i < image.length; i += 1) out[i] = Math.min(Math.max(image[i], 0), 1);
  return out;
}
