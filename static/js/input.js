// Where inputs come from: the drawing pad, an uploaded, dropped or pasted file, the gallery.
// Each becomes a source for /api/analyze: {kind: 'pixels' | 'dataurl' | 'file', ...}.
import { DrawPad } from './draw-pad.js';
import { loadGalleryIndex, loadDigit, renderGallery, markActive } from './gallery.js';

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

    this.pad.addEventListener('change', () => {
      if (!this.drawTimer) this.schedule(DRAW_DEBOUNCE_MS);
    });
    // The stroke is finished: send it almost at once.
    this.pad.addEventListener('strokeend', () => this.schedule(30));
    els.clear.addEventListener('click', () => {
      onClear();
      this.stopTimer();
      this.pad.clear();
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
    this.use({ kind: 'dataurl', url: this.pad.toDataURL() }, null, { abortCurrent: false });
  }

  use(source, button = null, options = {}) {
    markActive(this.galleryButtons, button);
    this.callbacks.onSource(source, options);
  }

  async pickFile(file) {
    if (!file) return;
    this.use({ kind: 'file', file });
    try {
      const bitmap = await createImageBitmap(file);
      this.pad.showImage(bitmap);
      bitmap.close();
    } catch (err) {
      this.pad.clear(); // not something the browser can show; the server will say why
    }
  }

  async pickGalleryDigit(entry, button) {
    try {
      const { img, pixels } = await loadDigit(entry);
      this.pad.showImage(img);
      this.use({ kind: 'pixels', pixels }, button);
    } catch (err) {
      this.callbacks.onError(err);
    }
  }

  /** Show the gallery and analyse its first digit, so no panel starts empty. */
  async loadGallery() {
    const entries = await loadGalleryIndex();
    this.galleryButtons = renderGallery(this.els.gallery, entries,
      (entry, button) => this.pickGalleryDigit(entry, button));
    if (entries.length) await this.pickGalleryDigit(entries[0], this.galleryButtons[0]);
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
