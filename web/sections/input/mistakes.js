// The network's mistakes (GET /api/mistakes): every MNIST test digit the CapsNet gets wrong.
// Opening one analyses it like any input; the reconstruction section then also shows it
// redrawn from the true digit's capsule next to the predicted digit's (POST /api/reconstruct).
import * as api from '../../engines/server.js';
import { renderGray, fmt } from '../../lib/heatmap.js';

export class MistakesView {
  /** els: {gallery, pair, trueCanvas, trueCaption, predictedCanvas, predictedCaption, note};
   * onPick(entry, button) opens a mistake as the input. */
  constructor(els, { onPick, onError }) {
    this.els = els;
    this.onPick = onPick;
    this.queue = new api.LatestQueue(onError);
  }

  async load() {
    const entries = await api.get('mistakes');
    const buttons = entries.map((entry) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'gallery-item';
      Object.assign(button.dataset, {
        index: String(entry.index), label: String(entry.label), prediction: String(entry.prediction),
      });
      button.title = `MNIST test image #${entry.index}: a ${entry.label}, the network says ${entry.prediction}`;
      const img = document.createElement('img');
      img.src = entry.image;
      img.alt = '';
      img.loading = 'lazy'; // below the fold of the input column
      const tag = document.createElement('span');
      tag.className = 'mistake-tag';
      tag.textContent = `${entry.label}\u2192${entry.prediction}`;
      // The name starts with the visible tag (a reader who says what they see can press it);
      // the rest is for screen readers only.
      const more = document.createElement('span');
      more.className = 'visually-hidden';
      more.textContent = `: analyse mistake, test image ${entry.index}, a ${entry.label} read as ${entry.prediction}`;
      button.append(img, tag, more);
      button.addEventListener('click', () => this.onPick(entry, button));
      return button;
    });
    this.els.gallery.replaceChildren(...buttons);
    return buttons;
  }

  /** After each analysis: the pair when the input is a mistake (source.mistake), else nothing. */
  show(analysis, source) {
    const entry = source && source.mistake;
    this.els.pair.hidden = !entry;
    if (!entry) {
      this.queue.cancel();
      return;
    }
    const { vectors, lengths } = analysis.digit_caps;
    const predicted = analysis.prediction;
    const sides = [[entry.label, this.els.trueCanvas, this.els.trueCaption, 'the true digit'],
      [predicted, this.els.predictedCanvas, this.els.predictedCaption, "the network's answer"]];
    this.els.note.textContent = `MNIST test image #${entry.index} is a ${entry.label}; the network reads it as `
      + `${predicted}. Each picture is the decoder redrawing it from one digit capsule alone.`;
    this.queue.submit(async (signal) => {
      const answers = await Promise.all(sides.map(([digit]) => api.reconstruct(digit, vectors[digit], signal)));
      if (signal.aborted) return;
      sides.forEach(([digit, canvas, caption, what], k) => {
        renderGray(canvas, answers[k].reconstruction);
        canvas.dataset.digit = String(digit);
        canvas.setAttribute('aria-label', `The input redrawn from digit capsule ${digit}, ${what}`);
        caption.textContent = `As a ${digit}, ${what} (capsule length ${fmt(lengths[digit], 3)})`;
      });
    }, { abortCurrent: true });
  }
}
