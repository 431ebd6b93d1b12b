// Talking to the Flask API: JSON in, JSON out, errors as {"error": "message"}; every path
// from the page's config (lib/page-config.js).
import { endpoint } from '../lib/page-config.js';
import { isAbort } from '../lib/queue.js';
import { inflateArrays } from '../lib/quantised.js';

/** An error the server reported (4xx with {"error": ...}) or a network failure. */
export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}


// A request that gets no whole answer in this long fails with a message saying so, rather
// than leaving the page waiting for ever.
let timeoutMs = 30_000;

/** Change how long a request may take (the tests shorten it). */
export function setRequestTimeout(ms) {
  timeoutMs = ms;
}

/** fetch + read + inflate, aborted by the caller's signal or by the time limit. */
async function request(url, options = {}) {
  const controller = new AbortController();
  const outer = options.signal;
  const follow = () => controller.abort(outer.reason);
  if (outer) {
    if (outer.aborted) follow();
    else outer.addEventListener('abort', follow, { once: true });
  }
  const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
  try {
    return await answer(url, { ...options, signal: controller.signal });
  } catch (err) {
    if (controller.signal.reason && controller.signal.reason.name === 'TimeoutError' && !(outer && outer.aborted)) {
      const path = new URL(url, window.location.href).pathname;
      throw new ApiError(`The server did not answer ${options.method || 'GET'} ${path} within ${timeoutMs / 1000} s; `
        + 'it may be busy. Try again in a moment.', 0);
    }
    throw err;
  } finally {
    clearTimeout(timer);
    if (outer) outer.removeEventListener('abort', follow);
  }
}

async function answer(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    if (isAbort(err) || (err && err.name === 'TimeoutError')) throw err;
    throw new ApiError(`Cannot reach the server (${err.message}).`);
  }
  let payload = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      payload = await response.json();
    } catch (err) {
      if (isAbort(err)) throw err;
      payload = null;
    }
  }
  if (!response.ok) {
    const message = payload && typeof payload.error === 'string'
      ? payload.error
      : `The server answered ${response.status} ${response.statusText}.`;
    throw new ApiError(message, response.status);
  }
  if (payload === null) throw new ApiError(`Unexpected answer from ${url}.`, response.status);
  try {
    await inflateArrays(payload);
  } catch (err) {
    throw new ApiError(`The server sent a damaged array (${err.message}).`);
  }
  return payload;
}

export function getJSON(url, signal) {
  return request(url, { signal, headers: { Accept: 'application/json' } });
}

/** GET endpoint `name` (a cacheable answer: /api/model, /api/models, the committed tables...). */
export const get = (name, signal) => getJSON(endpoint(name), signal);

export function postJSON(url, body, signal) {
  return request(url, {
    method: 'POST',
    signal,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
}

/**
 * Analyse one input with POST /api/analyze.
 * source: {kind: 'pixels', pixels: 28x28} | {kind: 'dataurl', url} | {kind: 'file', file}
 */
export function analyze(source, iterations, signal) {
  if (source.kind === 'file') {
    const form = new FormData();
    form.append('image', source.file, source.file.name || 'upload');
    form.append('routing_iterations', String(iterations));
    return request(endpoint('analyze'), {
      method: 'POST', signal, body: form, headers: { Accept: 'application/json' },
    });
  }
  const body = { routing_iterations: iterations };
  if (source.kind === 'pixels') body.pixels = source.pixels;
  else body.image = source.url;
  return postJSON(endpoint('analyze'), body, signal);
}

/** The votes u_hat_{j|i} for digit capsule j, agreement, evidence and saliency (POST /api/votes). */
export const votes = (pixels, digit, iterations, signal) =>
  postJSON(endpoint('votes'), { pixels, digit, routing_iterations: iterations }, signal);

/** The numbers behind primary capsule i (the model's order) and digit capsule j (POST /api/capsule-math). */
export const capsuleMath = (pixels, capsule, digit, iterations, signal) =>
  postJSON(endpoint('capsule_math'), {
    pixels, capsule, digit, routing_iterations: iterations,
  }, signal);

export const reconstruct = (digit, vector, signal) =>
  postJSON(endpoint('reconstruct'), { digit, vector }, signal);

export const sweep = (digit, vector, signal) =>
  postJSON(endpoint('sweep'), { digit, vector }, signal);

/** Two overlapping digits (MultiMNIST): body is {pixels} | {image} | {compose: [two digits]}. */
export const multiAnalyze = (body, signal) => postJSON(endpoint('multi_analyze'), body, signal);

/** The MultiMNIST decoder on one digit capsule's vector. */
export const multiReconstruct = (digit, vector, signal) =>
  postJSON(endpoint('multi_reconstruct'), { digit, vector }, signal);

/** Both models (CapsNet and the baseline CNN) on a 28x28 input, after `transform`. */
export const compare = (pixels, transform, signal) =>
  postJSON(endpoint('compare'), { pixels, transform }, signal);

/** Both models along one transform parameter; digit null: the CapsNet's own prediction. */
export function transformSweep(pixels, { parameter, values, digit, transform }, signal) {
  const body = { pixels, parameter, values, transform };
  if (digit !== null) body.digit = digit;
  return postJSON(endpoint('transform_sweep'), body, signal);
}
