// The network's mistakes (GET /api/mistakes): every MNIST test digit the CapsNet gets wrong.
// Opening one analyses it like any input; the reconstruction section then also shows it
// redrawn as both digits (recon/mistake-pair.js).
import * as api from '../../engine.js';

export class MistakesGallery {
  /** els: {gallery}; onPick(entry, button) opens a mistake as the input. */
  constructor(els, { onPick }) {
    this.els = els;
    this.onPick = onPick;
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
}
