// Where inputs come from: the drawing pad, an uploaded, dropped or pasted file, the gallery.
// Each becomes a source for /api/analyze: {kind: 'pixels' | 'dataurl' | 'file', ...}.
import { DrawPad } from '../../lib/draw-pad.js';
import {
  loadGalleryIndex, loadPixels, renderGallery, markActive, galleryImage,
} from '../../lib/gallery.js';

const DRAW_DEBOUNCE_MS = 150;

export class InputView {
  /**
   * els: {pad, clear, upload, overlay, gallery}
   * onSource(source, {abortCurrent}) analyses a new input; onClear() drops waiting work;
   * onWaiting() is called when a drawing starts or stops waiting to be sent.
   */
  constructor(els, { onSource, onClear, onWaiting, onStatus, onError }) {
    this.els = els;
    this.callbacks = { onSource, onClear, onWaiting, onStatus, onError };
    this.pad = new DrawPad(els.pad);
    this.drawTimer = 0;
    this.galleryButtons = [];
    this.dragDepth = 0;
    this.drawingFresh = true; // the next drawing sent is a new input (a new history entry)

    this.pad.addEventListener('strokestart', () => {
      if (!this.lastWasDrawing) this.drawingFresh = true;
    });
    this.pad.addEventListener('change', () => {
      if (!this.drawTimer) this.schedule(DRAW_DEBOUNCE_MS);
    });
    // The stroke is finished: send it almost at once.
    this.pad.addEventListener('strokeend', () => this.schedule(30));
    els.clear.addEventListener('click', () => {
      onClear();
      this.stopTimer();
      this.pad.clear();
      this.drawingFresh = true;
      markActive(this.galleryButtons, null);
      onStatus('Canvas cleared: draw a digit (the panels still show the last input).', 'info');
    });
    els.upload.addEventListener('change', () => {
      this.pickFile(els.upload.files && els.upload.files[0]);
      els.upload.value = '';
    });
    this.listenForFiles();
  }

  /** A drawing waits to be sent. */
  get waiting() {
    return Boolean(this.drawTimer);
  }

  stopTimer() {
    if (this.drawTimer) clearTimeout(this.drawTimer);
    this.drawTimer = 0;
    this.callbacks.onWaiting();
  }

  schedule(ms) {
    if (this.drawTimer) clearTimeout(this.drawTimer);
    this.drawTimer = setTimeout(() => this.sendDrawing(), ms);
    this.callbacks.onWaiting();
  }

  sendDrawing() {
    this.drawTimer = 0;
    if (!this.pad.hasInk) {
      this.callbacks.onWaiting();
      return;
    }
    // While drawing, let the running request finish (the picture keeps updating);
    // only the newest drawing waits behind it.
    const fresh = this.drawingFresh;
    this.drawingFresh = false;
    this.use({ kind: 'dataurl', url: this.pad.toDataURL(), fresh }, null, { abortCurrent: false });
  }

  /** source.fresh: a new input, not a drawing going on or a view restored from the URL. */
  use(source, button = null, options = {}) {
    markActive(this.galleryButtons, button);
    this.lastWasDrawing = source.kind === 'dataurl';
    this.callbacks.onSource(source, options);
  }

  /** Analyse 28x28 pixels (a link's input) and show them on the pad. */
  usePixels(pixels, extra = {}) {
    const [h, w] = [pixels.length, pixels[0].length];
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(w, h);
    pixels.flat().forEach((v, i) => image.data.set([255 * v, 255 * v, 255 * v, 255], 4 * i));
    ctx.putImageData(image, 0, 0);
    this.pad.showImage(canvas, { smooth: false });
    this.use({ kind: 'pixels', pixels, ...extra });
  }

  /** Buttons of another gallery (the mistakes): one of all the galleries is marked active. */
  addButtons(buttons) {
    this.galleryButtons.push(...buttons);
  }

  async pickFile(file) {
    if (!file) return;
    this.use({ kind: 'file', file, fresh: true });
    try {
      const bitmap = await createImageBitmap(file);
      this.pad.showImage(bitmap);
      bitmap.close();
    } catch {
      this.pad.clear(); // not something the browser can show; the engine will say why
    }
  }

  /** A grey PNG (a gallery digit, a mistake); extra is kept on the source (e.g. {mistake}). */
  async pickImage(src, button, extra = {}) {
    try {
      const { img, pixels } = await loadPixels(src);
      this.pad.showImage(img);
      this.use({ kind: 'pixels', pixels, fresh: true, ...extra }, button);
    } catch (err) {
      this.callbacks.onError(err);
    }
  }

  /** Show the gallery; analyse its first digit unless an input is already given (a link's). */
  async loadGallery({ analyseFirst = true } = {}) {
    const entries = await loadGalleryIndex();
    const pick = (entry, button) => this.pickImage(galleryImage(entry), button);
    this.galleryButtons.push(...renderGallery(this.els.gallery, entries, pick));
    if (entries.length && analyseFirst) await this.pickImage(galleryImage(entries[0]), this.galleryButtons[0], { fresh: false });
  }

  listenForFiles() {
    const { overlay } = this.els;
    const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
    window.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      this.dragDepth += 1;
      overlay.hidden = false;
    });
    window.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    window.addEventListener('dragleave', (e) => {
      if (!hasFiles(e)) return;
      this.dragDepth = Math.max(0, this.dragDepth - 1);
      if (this.dragDepth === 0) overlay.hidden = true;
    });
    window.addEventListener('drop', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      this.dragDepth = 0;
      overlay.hidden = true;
      this.pickFile(e.dataTransfer.files[0]);
    });
    window.addEventListener('paste', (e) => {
      const items = Array.from((e.clipboardData && e.clipboardData.items) || []);
      const item = items.find((it) => it.kind === 'file' && it.type.startsWith('image/'));
      if (!item) return;
      e.preventDefault();
      this.pickFile(item.getAsFile());
    });
  }
}
