// The evidence map: which pixels of the input speak for digit capsule j, laid over the input.
// Two maps from POST /api/votes: `evidence` (what the votes that routing kept say) and
// `saliency` (the gradient d|v_j|/d pixel). Positive is drawn yellow, negative blue, and each
// pixel's opacity is its |value| over the map's largest |value|.
import { renderGray } from '../../lib/heatmap.js';

const POSITIVE = [253, 231, 37]; // viridis maximum, the page's accent
const NEGATIVE = [59, 111, 216]; // the page's blue for negative numbers

const EXPLAIN = {
  evidence: (a) => `Evidence for digit ${a.digit}: every primary capsule i adds c_i${a.digit} \u00d7 (the component `
    + `of its vote u\u0302_${a.digit}|i along v_${a.digit}, last iteration) to each pixel of its `
    + `${a.receptive_field.size}\u00d7${a.receptive_field.size} receptive field (stride ${a.receptive_field.stride} `
    + 'on the input). Yellow: votes that agree with v_j; blue: votes against it.',
  saliency: (a) => `Saliency for digit ${a.digit}: d|v_${a.digit}|/d pixel, how much the capsule's length would `
    + 'change per unit of ink added at each pixel, differentiated through every routing iteration (so the '
    + 'couplings\' own change counts too). Yellow: more ink there lengthens v_j; blue: shortens it.',
  none: () => 'The input alone.',
};

export class EvidenceOverlay {
  /** els: {evidenceInput, evidenceOverlay, evidenceToggle, evidenceNote} */
  constructor(els) {
    this.els = els;
    this.answer = null;
    els.evidenceToggle.addEventListener('change', () => this.draw());
  }

  get kind() {
    const checked = this.els.evidenceToggle.querySelector('input:checked');
    return checked ? checked.value : 'none';
  }

  setInput(pixels) {
    renderGray(this.els.evidenceInput, pixels);
  }

  setAnswer(answer) {
    this.answer = answer;
    this.draw();
  }

  draw() {
    const { evidenceOverlay: canvas, evidenceNote: note } = this.els;
    const kind = this.kind;
    canvas.hidden = kind === 'none' || !this.answer;
    if (!this.answer) return;
    note.textContent = EXPLAIN[kind](this.answer);
    if (kind === 'none') return;
    const map = this.answer[kind];
    const h = map.length;
    const w = map[0].length;
    canvas.width = w;
    canvas.height = h;
    let limit = 1e-12;
    for (const row of map) for (const v of row) limit = Math.max(limit, Math.abs(v));
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(w, h);
    map.forEach((row, y) => row.forEach((v, x) => {
      const o = (y * w + x) * 4;
      const rgb = v >= 0 ? POSITIVE : NEGATIVE;
      image.data.set(rgb, o);
      image.data[o + 3] = Math.round((255 * Math.abs(v)) / limit);
    }));
    ctx.putImageData(image, 0, 0);
    canvas.dataset.kind = kind;
    canvas.setAttribute('aria-label', `${kind === 'evidence' ? 'Evidence' : 'Saliency'} map for digit ${this.answer.digit} `
      + 'over the input: yellow for, blue against');
  }
}
