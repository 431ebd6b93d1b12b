// One pen's layer of the two-digit pad (multi-pad.js): white ink on black drawn at `scale`
// times the model's size, or a gallery digit placed in the middle and shifted by whole pixels.

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

/** One pen's layer: drawn ink, or a digit (pixels rows x cols in 0..1) placed with a shift. */
export class Layer {
  constructor(size, scale) {
    this.size = size;
    this.scale = scale;
    this.canvas = document.createElement('canvas');
    this.canvas.width = size * scale;
    this.canvas.height = size * scale;
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    this.clear();
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.hasInk = false;
    this.digit = null; // {pixels, image, label, testIndex}
    this.dx = 0;
    this.dy = 0;
  }

  get empty() {
    return !this.hasInk && !this.digit;
  }

  /** Where a digit of `n` pixels sits unshifted: centred, (size - n) / 2 from the top left. */
  margin(n) {
    return (this.size - n) / 2;
  }

  place(digit) {
    this.clear();
    this.digit = digit;
    this.paint();
  }

  shift(dx, dy, maxShift) {
    this.dx = clamp(Math.round(dx), -maxShift, maxShift);
    this.dy = clamp(Math.round(dy), -maxShift, maxShift);
    this.paint();
  }

  paint() {
    const { ctx, scale, digit } = this;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const n = digit.pixels.length;
    const m = this.margin(n);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(digit.image, (m + this.dx) * scale, (m + this.dy) * scale, n * scale, n * scale);
  }

  /** The layer at the model's size, rows of 0..1: a digit's own pixels, or the ink averaged. */
  pixels() {
    const { size, scale } = this;
    const out = Array.from({ length: size }, () => new Array(size).fill(0));
    if (this.digit) {
      const src = this.digit.pixels;
      const m = this.margin(src.length);
      src.forEach((row, y) => row.forEach((v, x) => {
        const ty = y + m + this.dy;
        const tx = x + m + this.dx;
        if (ty >= 0 && ty < size && tx >= 0 && tx < size) out[ty][tx] = v;
      }));
      return out;
    }
    if (!this.hasInk) return out;
    const { data } = this.ctx.getImageData(0, 0, size * scale, size * scale);
    const width = size * scale;
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        let sum = 0;
        for (let j = 0; j < scale; j += 1) {
          let i = ((y * scale + j) * width + x * scale) * 4;
          for (let k = 0; k < scale; k += 1, i += 4) sum += data[i];
        }
        out[y][x] = Math.round((sum / (scale * scale * 255)) * 1000) / 1000;
      }
    }
    return out;
  }
}
