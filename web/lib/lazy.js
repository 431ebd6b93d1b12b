// Draw a part of the page when it comes near the screen, or when the browser is idle, not
// in the same task as everything else: the sections in view draw first, the first paint
// never waits for canvases below the fold.

const NEAR = '300px'; // this close to the screen counts as in view

export class WhenVisible {
  /** elements: the sections whose being in view makes this part draw. */
  constructor(elements) {
    this.pending = null;
    this.idle = 0;
    this.visible = new Set();
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) this.visible.add(entry.target);
        else this.visible.delete(entry.target);
      }
      if (this.visible.size) this.flush();
    }, { rootMargin: NEAR });
    for (const el of elements) observer.observe(el);
  }

  /** Draw with `draw` now if in view, else soon: when scrolled to, or at the next idle time.
   * Only the newest waits: a later call replaces an earlier one not yet drawn. */
  run(draw) {
    this.pending = draw;
    if (this.visible.size) {
      this.flush();
    } else if (!this.idle) {
      this.idle = requestIdleCallback(() => this.flush(), { timeout: 1500 });
    }
  }

  get waiting() {
    return Boolean(this.pending);
  }

  flush() {
    if (this.idle) cancelIdleCallback(this.idle);
    this.idle = 0;
    const draw = this.pending;
    this.pending = null;
    if (draw) draw();
  }
}
