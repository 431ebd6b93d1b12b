// The page's state in its URL, so that a link shares a view:
//   ?in=<the input: uint8 pixels, deflated, base64url>&it=<routing iterations>&d=<digit capsule>
//    &s=<the sliders' values>&t=<transform name:value,...>#<section>
// A new input is a new history entry (back and forward step through inputs); every other
// change replaces the current one. A URL that cannot be read is ignored with a notice.

// Replacements wait this long, so dragging a slider does not rewrite the URL every frame
// (browsers throttle the history API).
const REPLACE_MS = 150;

const toBase64Url = (bytes) => btoa(String.fromCharCode(...bytes))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromBase64Url = (text) => Uint8Array.from(
  atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function through(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

/** Rows of 0..1 floats -> the compact text of ?in=. */
export async function encodePixels(pixels) {
  const bytes = Uint8Array.from(pixels.flat(), (v) => Math.round(Math.max(0, Math.min(1, v)) * 255));
  return toBase64Url(await through(bytes, new CompressionStream('deflate-raw')));
}

/** ?in= -> rows of 0..1 floats of `shape` [h, w]; throws when it is not such an image. */
export async function decodePixels(text, [h, w]) {
  const bytes = await through(fromBase64Url(text), new DecompressionStream('deflate-raw'));
  if (bytes.length !== h * w) throw new Error(`${bytes.length} pixels, not ${h}\u00d7${w}`);
  return Array.from({ length: h }, (_, y) => Array.from(bytes.subarray(y * w, (y + 1) * w), (b) => b / 255));
}

const numbers = (text) => text.split(',').map((v) => {
  const n = Number(v);
  if (v === '' || !Number.isFinite(n)) throw new Error(`"${v}" is not a number`);
  return n;
});

export class UrlState {
  /**
   * shape: the input's [h, w] (/api/model); onRestore(view) after back/forward; onNotice(text)
   * for a link that cannot be read; copy: the Copy link button, onCopied(text, ok) its outcome.
   */
  constructor({
    shape, onRestore, onNotice, copy, onCopied,
  }) {
    this.shape = shape;
    this.onNotice = onNotice;
    this.view = null; // the last view written, so that partial updates keep the rest
    window.addEventListener('popstate', async () => {
      const view = await this.read();
      if (view) onRestore(view);
    });
    copy.addEventListener('click', async () => {
      try {
        await this.flush();
        await navigator.clipboard.writeText(window.location.href);
        onCopied('Link copied: it opens this view (input, routing, digit capsule, sliders, transforms).', true);
      } catch (err) {
        onCopied(`Copy this link from the address bar (the clipboard refused: ${err.message}).`, false);
      }
    });
  }

  /** The view in the current URL: {pixels, iterations, digit, sliders, transform}, or null. */
  async read() {
    const params = new URLSearchParams(window.location.search);
    if (!params.has('in')) return null;
    try {
      const view = { pixels: await decodePixels(params.get('in'), this.shape) };
      if (params.has('it')) view.iterations = numbers(params.get('it'))[0];
      if (params.has('d')) view.digit = numbers(params.get('d'))[0];
      if (params.has('s')) view.sliders = numbers(params.get('s'));
      if (params.has('t')) {
        view.transform = Object.fromEntries(params.get('t').split(',').map((pair) => {
          const [name, value] = pair.split(':');
          return [name, numbers(value)[0]];
        }));
      }
      this.view = view;
      return view;
    } catch (err) {
      this.onNotice(`This link's view could not be read (${err.message}); showing a digit of the gallery instead.`);
      window.history.replaceState(null, '', window.location.pathname + window.location.hash);
      return null;
    }
  }

  /** Resolves once the last write is in the address bar (Copy link waits for it). */
  async flush() {
    await this.writing;
    if (this.pending) this.pending();
  }

  /** Write `changes` into the URL: push: a new input (a new history entry), else replace. */
  write(changes, { push = false } = {}) {
    if (!this.view) push = false; // the page's first input replaces the bare URL
    const view = { ...(push ? {} : this.view), ...changes };
    this.view = view;
    if (push) this.pushWanted = true; // kept if a newer write overtakes this one
    this.writing = view.pixels ? this.commit(view) : Promise.resolve();
    return this.writing;
  }

  async commit(view) {
    const params = new URLSearchParams();
    params.set('in', await encodePixels(view.pixels));
    if (Number.isFinite(view.iterations)) params.set('it', String(view.iterations));
    if (Number.isInteger(view.digit)) params.set('d', String(view.digit));
    if (view.sliders) params.set('s', view.sliders.map((v) => v.toFixed(3)).join(','));
    if (view.transform) params.set('t', Object.entries(view.transform).map(([k, v]) => `${k}:${v}`).join(','));
    if (this.view !== view) return; // a newer write started while this one compressed
    const query = params.toString().replace(/%3A/g, ':').replace(/%2C/g, ',');
    // The section (#hash) is read when the URL is written: the reader may have moved since.
    const url = () => `${window.location.pathname}?${query}${window.location.hash}`;
    if (this.pushWanted) {
      this.pushWanted = false;
      if (this.pending) this.pending(); // the entry being left keeps its last state
      window.history.pushState(null, '', url());
      return;
    }
    clearTimeout(this.timer);
    this.pending = () => {
      clearTimeout(this.timer);
      this.pending = null;
      window.history.replaceState(null, '', url());
    };
    this.timer = setTimeout(this.pending, REPLACE_MS);
  }
}
