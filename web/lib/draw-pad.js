// The drawing canvas: white, round, slightly soft strokes on black, like MNIST ink.
// Mouse, touch and pen all arrive as Pointer Events; the canvas has touch-action: none.

/** One segment of white ink, soft-edged like MNIST's pen (a dot when from === to); `brush`
 * sets the softness, `width` the line (the brush times the pen's pressure, if any). */
export function penStroke(ctx, from, to, width, brush) {
  ctx.save();
  Object.assign(ctx, {
    strokeStyle: '#fff', lineCap: 'round', lineJoin: 'round', lineWidth: width,
    shadowColor: 'rgba(255, 255, 255, 0.9)', shadowBlur: brush * 0.3,
  });
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x + (from === to ? 0.01 : 0), to.y);
  ctx.stroke();
  ctx.restore();
}

export class DrawPad extends EventTarget {
  constructor(canvas, { size = 280, brush = 22 } = {}) {
    super();
    this.canvas = canvas;
    this.size = size;
    this.brush = brush;
    canvas.width = size;
    canvas.height = size;
    this.ctx = canvas.getContext('2d', { willReadFrequently: false });
    this.drawing = false;
    this.pointerId = null;
    this.last = null;
    this.hasInk = false;
    this.clear();

    canvas.addEventListener('pointerdown', (e) => this.onDown(e));
    canvas.addEventListener('pointermove', (e) => this.onMove(e));
    canvas.addEventListener('pointerup', (e) => this.onUp(e));
    canvas.addEventListener('pointercancel', (e) => this.onUp(e));
    canvas.addEventListener('lostpointercapture', (e) => this.onUp(e));
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  clear() {
    const { ctx } = this;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = 'source-over';
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.size, this.size);
    ctx.restore();
    this.hasInk = false;
  }

  /** Show an image (gallery digit, uploaded file) as the starting point for drawing. */
  showImage(source, { smooth = true } = {}) {
    this.clear();
    const { ctx, size } = this;
    const w = source.naturalWidth || source.width;
    const h = source.naturalHeight || source.height;
    if (!w || !h) return;
    const scale = Math.min(size / w, size / h);
    ctx.imageSmoothingEnabled = smooth;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, (size - w * scale) / 2, (size - h * scale) / 2, w * scale, h * scale);
    this.hasInk = true;
  }

  toDataURL() {
    return this.canvas.toDataURL('image/png');
  }

  point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) / rect.width) * this.size,
      y: ((e.clientY - rect.top) / rect.height) * this.size,
      // Pens report pressure; mouse reports 0.5 while pressed. Keep the width MNIST-like.
      p: e.pointerType === 'pen' && e.pressure > 0 ? 0.7 + 0.6 * e.pressure : 1,
    };
  }

  stroke(from, to) {
    penStroke(this.ctx, from, to, this.brush * to.p, this.brush);
    this.hasInk = true;
  }

  onDown(e) {
    if (e.button !== undefined && e.button > 0) return; // left button / touch / pen tip only
    e.preventDefault();
    this.canvas.focus({ preventScroll: true });
    this.drawing = true;
    this.pointerId = e.pointerId;
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events may not be capturable; drawing still works without capture.
    }
    const p = this.point(e);
    this.last = p;
    this.stroke(p, p);
    this.dispatchEvent(new Event('strokestart'));
    this.dispatchEvent(new Event('change'));
  }

  onMove(e) {
    if (!this.drawing || e.pointerId !== this.pointerId) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of (events.length ? events : [e])) {
      const p = this.point(ev);
      this.stroke(this.last, p);
      this.last = p;
    }
    this.dispatchEvent(new Event('change'));
  }

  onUp(e) {
    if (!this.drawing || e.pointerId !== this.pointerId) return;
    this.drawing = false;
    this.pointerId = null;
    this.last = null;
    if (this.canvas.hasPointerCapture && this.canvas.hasPointerCapture(e.pointerId)) {
      this.canvas.releasePointerCapture(e.pointerId);
    }
    this.dispatchEvent(new Event('strokeend'));
  }
}
