// ONNX Runtime Web, as the static edition runs it: the WebAssembly backend on one thread (no
// special headers needed), its .wasm and the networks fetched gzipped and inflated by the
// browser itself (whatever the server); every network's session made once, when first asked
// for, with its model's weights file (fetched once for all its graphs) as external data. Where
// the files are comes from the page's config (written by static_site/build.py).
import { pageConfig } from '../../lib/page-config.js';

const url = (path) => new URL(path, document.baseURI).href;
let runtime = null;
const sessions = new Map();
const weightsFiles = new Map();

async function inflated(path) {
  const response = await fetch(url(path));
  if (!response.ok) throw new Error(`Cannot load ${path} (${response.status}).`);
  return new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
}

/** The ort module, configured once: one thread, no proxy worker, the wasm from our own files. */
export function loadRuntime() {
  if (!runtime) {
    runtime = (async () => {
      const { module, wasm } = pageConfig.runtime;
      const [ort, binary] = await Promise.all([import(url(module)), inflated(wasm)]);
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmBinary = binary;
      return ort;
    })();
  }
  return runtime;
}

/** A model's weights file, inflated once for every graph that reads it. */
function weights(path) {
  if (!weightsFiles.has(path)) weightsFiles.set(path, inflated(path).then((buffer) => new Uint8Array(buffer)));
  return weightsFiles.get(path);
}

/** The session of exported network `name` (static_site/export.py's NETWORKS). */
export function session(name) {
  if (!sessions.has(name)) {
    const file = pageConfig.networks[name];
    if (!file) throw new Error(`This site was built without the network "${name}".`);
    const external = pageConfig.weights[name];
    sessions.set(name, (async () => {
      const [ort, bytes, data] = await Promise.all([loadRuntime(), inflated(file), weights(external)]);
      return ort.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        // basic: folds the compressed weights back to float32 constants; 'all' adds layout
        // rewrites that cost more at load than they save (bench/site.py: first prediction
        // 2.9 s against 2.3 s, later analyses 67 ms against 58 ms at the median)
        graphOptimizationLevel: 'basic',
        externalData: [{ path: external.split('/').pop().replace(/\.gz$/, ''), data }],
      });
    })());
  }
  return sessions.get(name);
}

/** Run network `name` on {input: [Float32Array | Int32Array, shape]}; the chosen outputs as
 * {name: {data, dims}}. */
export async function run(name, inputs, outputs) {
  const [ort, graph] = await Promise.all([loadRuntime(), session(name)]);
  const feeds = {};
  for (const [key, [data, shape]] of Object.entries(inputs)) {
    feeds[key] = new ort.Tensor(data instanceof Int32Array ? 'int32' : 'float32', data, shape);
  }
  return graph.run(feeds, outputs);
}
