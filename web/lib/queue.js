// Requests that never pile up: a queue that runs one task at a time and keeps only the newest.

export function isAbort(err) {
  return err && (err.name === 'AbortError' || (err.cause && err.cause.name === 'AbortError'));
}

/**
 * Runs async tasks one at a time and keeps only the newest waiting task, so requests
 * never pile up. `submit(task)` lets the running task finish first (smooth updates
 * while drawing or dragging); `submit(task, {abortCurrent: true})` aborts it (its
 * answer is stale). A task is `async (signal) => void` and renders its own result.
 */
export class LatestQueue {
  /** onIdle(): called when the last task has finished and nothing waits. */
  constructor(onError, { onIdle = null } = {}) {
    this.onError = onError;
    this.onIdle = onIdle;
    this.pending = null;
    this.controller = null;
    this.running = false;
  }

  submit(task, { abortCurrent = false } = {}) {
    this.pending = task;
    if (this.running) {
      if (abortCurrent && this.controller) this.controller.abort();
      return;
    }
    this.pump();
  }

  cancel() {
    this.pending = null;
    if (this.controller) this.controller.abort();
  }

  get busy() {
    return this.running;
  }

  async pump() {
    this.running = true;
    while (this.pending) {
      const task = this.pending;
      this.pending = null;
      const controller = new AbortController();
      this.controller = controller;
      try {
        await task(controller.signal);
      } catch (err) {
        if (!isAbort(err) && !controller.signal.aborted && this.onError) this.onError(err);
      }
    }
    this.controller = null;
    this.running = false;
    if (this.onIdle) this.onIdle();
  }
}

/** A LatestQueue that marks `el` with data-busy from a submit until it is idle again. */
export class BusyQueue extends LatestQueue {
  constructor(el, onError) {
    super(onError, { onIdle: () => el.removeAttribute('data-busy') });
    this.el = el;
  }

  submit(task, options) {
    this.el.dataset.busy = 'true';
    super.submit(task, options);
  }
}
