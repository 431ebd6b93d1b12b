// Misplaced parts, done to the 28x28 input in the page: every part of the digit is still
// there, only in the wrong place (the article's face with its features moved around).

const SHIFT = 4; // pixels the top third moves sideways

/** A new image whose pixel (y, x) is image[from(y, x)] (zero where from gives null). */
function remap(image, from) {
  const h = image.length;
  const w = image[0].length;
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (__, x) => {
    const source = from(y, x, h, w);
    return source ? image[source[0]][source[1]] : 0;
  }));
}

// Halves and quadrants split at floor(size / 2); the odd middle line, if any, stays put.
const half = (n) => Math.floor(n / 2);
const swap = (i, n) => {
  const m = half(n);
  if (n % 2 && i === m) return i;
  return i < m ? i + n - m : i - (n - m);
};

export const REARRANGEMENTS = {
  'swap-halves': {
    label: 'Swap top and bottom',
    explain: 'the top half goes to the bottom and the bottom half to the top',
    apply: (image) => remap(image, (y, x, h) => [swap(y, h), x]),
  },
  'swap-sides': {
    label: 'Swap left and right',
    explain: 'the left half goes to the right and the right half to the left',
    apply: (image) => remap(image, (y, x, h, w) => [y, swap(x, w)]),
  },
  mirror: {
    label: 'Mirror',
    explain: 'a left-right mirror image: the same strokes, facing the other way',
    apply: (image) => remap(image, (y, x, h, w) => [y, w - 1 - x]),
  },
  'shift-top': {
    label: `Move the top third ${SHIFT} px right`,
    explain: `the top third of the rows slides ${SHIFT} pixels to the right; the rest stays`,
    apply: (image) => remap(image, (y, x, h) => {
      if (y >= Math.round(h / 3)) return [y, x];
      return x - SHIFT >= 0 ? [y, x - SHIFT] : null;
    }),
  },
  scramble: {
    label: 'Scramble the quadrants',
    explain: 'the four quarters move one place clockwise: top left to top right, top right to bottom right, bottom right to bottom left, bottom left to top left',
    apply: (image) => remap(image, (y, x, h, w) => {
      const top = y < half(h);
      const left = x < half(w);
      // Destination quadrant -> the quadrant before it, clockwise; same offset inside.
      const dy = top ? (left ? h - half(h) : 0) : (left ? 0 : -(h - half(h)));
      const dx = top ? (left ? 0 : -(w - half(w))) : (left ? w - half(w) : 0);
      const [sy, sx] = [y + dy, x + dx];
      return sy >= 0 && sy < h && sx >= 0 && sx < w ? [sy, sx] : null;
    }),
  },
};
