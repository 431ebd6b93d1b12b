// A mistake, redrawn as both digits: when the input is one of the network's mistakes (opened
// from the input's mistakes gallery), the decoder redraws it from the true digit's capsule and
// from the predicted digit's, side by side.
import * as api from '../../engine.js';
import { renderGray, fmt } from '../../lib/heatmap.js';
import { LatestQueue } from '../../lib/queue.js';

export class MistakePair {
  constructor(els, { onError }) {
    this.els = els;
    this.queue = new LatestQueue(onError);
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
