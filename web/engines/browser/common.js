// What every part of the in-page engine needs: the static answers the site builder wrote (the
// model's description, the committed tables), the network's geometry from them, an input made
// as the server makes it, and a decoder run.
import { pageConfig } from '../../lib/page-config.js';
import { run } from './runtime.js';
import { imageToInput } from './upload/preprocess.js';
import { refusal } from './upload/constants.js';
import { inflateArrays } from '../../lib/quantised.js';

const cache = new Map();

export function aborted(signal) {
  if (signal && signal.aborted) throw new DOMException('aborted', 'AbortError');
}

/** A static answer by endpoint name (model_info, models, conv1_kernels, robustness, ...). */
export function get(name) {
  if (!cache.has(name)) {
    const path = pageConfig.data[name];
    if (!path) return Promise.reject(new Error(`This site was built without "${name}".`));
    cache.set(name, fetch(new URL(path, document.baseURI)).then((response) => {
      if (!response.ok) throw new Error(`Cannot load ${path} (${response.status}).`);
      return response.json();
    }));
  }
  // each caller its own copy, its arrays inflated as engines/server.js hands them over
  return cache.get(name).then(async (answer) => {
    const copy = structuredClone(answer);
    await inflateArrays(copy);
    return copy;
  });
}

/** The MNIST network's geometry, as the server describes it (GET /api/model). */
export async function geometry() {
  const info = await get('model_info');
  const primary = info.layers.find((layer) => layer.name === 'primary_caps');
  return { side: info.input_shape[0], grid: [...primary.grid, primary.capsule_types], info };
}

/** A base64 data URL (the drawing pad's, a shared link's) as a Blob: decoded here, not fetched,
 * because the page's policy lets it connect to its own site only. */
function dataUrlBlob(url) {
  const match = /^data:([^;,]*)(?:;[^;,]*)*;base64,([A-Za-z0-9+/]*={0,2})$/.exec(url);
  if (!match) throw refusal(422, 'The image must be a base64 data URL (data:image/png;base64,...).');
  return new Blob([Uint8Array.from(atob(match[2]), (c) => c.charCodeAt(0))], { type: match[1] });
}

/** A source ({kind: 'pixels' | 'dataurl' | 'file'}) -> the network's input, made as the server
 * makes it (options: the pair's box and side). */
export async function inputOf(source, options = {}) {
  if (source.kind === 'pixels') return Float32Array.from(source.pixels.flat());
  const blob = source.kind === 'file' ? source.file : dataUrlBlob(source.url);
  return (await imageToInput(blob, options)).pixels;
}

/** `network`'s decoder: digits (n,) and their capsules' vectors (n x dim, flat) -> images. */
export async function decode(network, digits, vectors, dim) {
  const out = await run(network, {
    vectors: [Float32Array.from(vectors), [digits.length, dim]],
    digits: [Int32Array.from(digits), [digits.length]],
  }, ['images']);
  return out.images;
}
