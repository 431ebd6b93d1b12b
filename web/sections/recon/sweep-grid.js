// The paper's Figure 4 on a canvas: one row per dimension of a digit capsule, one column per
// perturbation, each image the decoder's (the engine's answer, shaped as POST /api/sweep's).
import { decodeQ, renderAtlas } from '../../lib/heatmap.js';

/** result: {perturbations, images: a quantised array [dims, steps, h, w]}. */
export function drawSweepGrid(canvas, result, digit) {
  const images = decodeQ(result.images);
  const [rows, cols, h, w] = images.shape;
  const atlas = document.createElement('canvas');
  const layout = renderAtlas(atlas, images.data, {
    count: rows * cols, h, w, cols, gap: 2, min: 0, max: 1, cmap: 'gray',
  });
  const scale = 2;
  const left = 52;
  const top = 26;
  canvas.width = left + layout.width * scale;
  canvas.height = top + layout.height * scale;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#171a21';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(atlas, left, top, layout.width * scale, layout.height * scale);
  ctx.fillStyle = '#c9ced8';
  ctx.font = '13px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  const pitch = (w + layout.gap) * scale;
  result.perturbations.forEach((p, c) => {
    const label = p === 0 ? '0' : `${p > 0 ? '+' : '\u2212'}${Math.abs(p).toFixed(2)}`;
    ctx.fillText(label, left + c * pitch + (w * scale) / 2, top / 2);
  });
  ctx.textAlign = 'right';
  for (let r = 0; r < rows; r += 1) {
    ctx.fillText(`dim ${r}`, left - 8, top + r * (h + layout.gap) * scale + (h * scale) / 2);
  }
  canvas.setAttribute('aria-label',
    `Figure 4 grid for digit capsule ${digit}: ${rows} rows (one per dimension) by ${cols} columns (perturbation from ${result.perturbations[0]} to ${result.perturbations[cols - 1]})`);
  canvas.hidden = false;
}
