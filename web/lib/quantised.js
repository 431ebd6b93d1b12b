// Quantised arrays as answers carry them (docs/api.md#quantised-arrays): uint8 bytes deflated
// and base64-encoded. Both engines hand the views the bytes inflated (the server's answers, and
// the static files the site builder wrote from them).

/** base64 of zlib-deflated bytes -> the bytes (the browser's own DecompressionStream). */
async function inflate(base64) {
  const deflated = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const stream = new Blob([deflated]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The deflated arrays inside an answer: {encoding: 'uint8', compression: 'deflate', data: base64}. */
function deflatedArrays(node, found = []) {
  if (!node || typeof node !== 'object') return found;
  if (node.encoding === 'uint8' && node.compression === 'deflate' && typeof node.data === 'string') {
    found.push(node);
  } else {
    for (const value of Object.values(node)) deflatedArrays(value, found);
  }
  return found;
}

/**
 * Replace each deflated array's `data` by its inflated bytes, in place, so that drawing code
 * stays synchronous. One promise per array, not per number: a slider's answer holds none.
 */
export async function inflateArrays(payload) {
  await Promise.all(deflatedArrays(payload).map(async (node) => {
    node.data = await inflate(node.data);
    delete node.compression;
  }));
}
