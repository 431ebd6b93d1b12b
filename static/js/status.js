// The status line under the input: what the page is doing, or what went wrong.
export class StatusLine {
  constructor(el) {
    this.el = el;
  }

  /** kind: 'info' | 'busy' | 'ok' | 'error' (styled by data-kind and .error). */
  set(message, kind = 'info') {
    this.el.textContent = message;
    this.el.dataset.kind = kind;
    this.el.classList.toggle('error', kind === 'error');
  }

  error(err) {
    this.set(err && err.message ? err.message : String(err), 'error');
  }
}
