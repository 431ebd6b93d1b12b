// The status line under the input: what the page is doing, and what went wrong. An error or
// a notice stays until the reader picks a new input (clear()): the next progress line
// ("Analysed in ...") goes beside it, never over it.
export class StatusLine {
  constructor(el) {
    this.el = el;
    this.notice = document.createElement('span');
    this.notice.className = 'status-notice';
    this.notice.setAttribute('role', 'alert'); // said once when it appears, unlike progress
    this.progress = document.createElement('span');
    this.progress.className = 'status-progress';
    el.replaceChildren(this.notice, this.progress);
  }

  /** kind: 'info' | 'busy' | 'ok' (styled by data-kind). */
  set(message, kind = 'info') {
    this.progress.textContent = message;
    this.el.dataset.kind = kind;
  }

  error(err) {
    this.notify(err && err.message ? err.message : String(err));
    this.el.classList.add('error');
  }

  /** A message that stays: an error, or a link that could not be read. */
  notify(message) {
    this.notice.textContent = message;
    this.progress.textContent = '';
  }

  clear() {
    this.notice.textContent = '';
    this.el.classList.remove('error');
  }
}
