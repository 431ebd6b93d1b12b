// The decoder's one hot loop in WebAssembly SIMD (4 floats an instruction), assembled here from
// its instructions so that no binary file ships. Measured (bench/browser.py): the Figure 4
// grid's 176 decodes take several times less than with plain JavaScript loops.
//
//   dense(x, n, inputs, units, w, out): for k < inputs, for b < n, a = x[b][k]; if a != 0,
//     out[b][0..units) += a * w[k][0..units)   (f32, byte addresses; units a multiple of 4;
//     out holds the bias beforehand; zero inputs, ReLU's ~40%, are skipped)

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(value) {
  const out = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

function sleb(value) {
  const out = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(byte & 0x40)) || (v === -1 && (byte & 0x40))) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const vector = (items) => [...uleb(items.length), ...items.flat()];
const name = (text) => vector([...text].map((c) => c.charCodeAt(0)));

// Instructions.
const get = (i) => [0x20, i];
const set = (i) => [0x21, i];
const i32 = (v) => [0x41, ...sleb(v)];
const add = [0x6a];
const mul = [0x6c];
const ltU = [0x49];
const loop = [0x03, 0x40];
const end = [0x0b];
const brIf = (depth) => [0x0d, depth];
const f32Load = [0x2a, 0x02, 0x00];
const f32Ne = [0x5c];
const f32Zero = [0x43, 0, 0, 0, 0];
const ifThen = [0x04, 0x40];
const simd = (op) => [0xfd, ...uleb(op)];
const v128Load = [...simd(0x00), 0x04, 0x00];
const v128Store = [...simd(0x0b), 0x04, 0x00];
const f32x4Splat = simd(0x13);
const f32x4Add = simd(0xe4);
const f32x4Mul = simd(0xe6);

// Parameters 0-5: x, n, inputs, units, w, out; locals 6-12.
const [X, N, INPUTS, UNITS, W, OUT] = [0, 1, 2, 3, 4, 5];
const [K, B, J, ROW, O, BYTES, A] = [6, 7, 8, 9, 10, 11, 12];
const SPLAT = 13;

const body = [
  ...get(UNITS), ...i32(4), ...mul, ...set(BYTES), // bytes per row of w and out
  ...i32(0), ...set(K),
  ...loop,
  ...get(W), ...get(K), ...get(BYTES), ...mul, ...add, ...set(ROW),
  ...i32(0), ...set(B),
  ...loop,
  ...get(X), ...get(B), ...get(INPUTS), ...mul, ...get(K), ...add, ...i32(4), ...mul, ...add,
  ...f32Load, ...set(A),
  ...get(A), ...f32Zero, ...f32Ne,
  ...ifThen,
  ...get(A), ...f32x4Splat, ...set(SPLAT),
  ...get(OUT), ...get(B), ...get(BYTES), ...mul, ...add, ...set(O),
  ...i32(0), ...set(J),
  ...loop,
  ...get(O), ...get(J), ...add, // store address
  ...get(O), ...get(J), ...add, ...v128Load,
  ...get(SPLAT), ...get(ROW), ...get(J), ...add, ...v128Load, ...f32x4Mul,
  ...f32x4Add, ...v128Store,
  ...get(J), ...i32(16), ...add, ...set(J),
  ...get(J), ...get(BYTES), ...ltU, ...brIf(0),
  ...end, // loop j
  ...end, // if a != 0
  ...get(B), ...i32(1), ...add, ...set(B),
  ...get(B), ...get(N), ...ltU, ...brIf(0),
  ...end, // loop b
  ...get(K), ...i32(1), ...add, ...set(K),
  ...get(K), ...get(INPUTS), ...ltU, ...brIf(0),
  ...end, // loop k
  ...end, // function
];
const locals = vector([[6, I32], [1, F32], [1, V128]].map(([count, type]) => [...uleb(count), type]));
const code = [...locals, ...body];

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  ...section(1, vector([[0x60, ...vector(new Array(6).fill(I32)), 0x00]])), // type: (i32 x 6) -> ()
  ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])), // import memory (min 1 page)
  ...section(3, vector([[0x00]])), // one function of type 0
  ...section(7, vector([[...name('dense'), 0x00, 0x00]])), // export it as "dense"
  ...section(10, vector([[...uleb(code.length), ...code]])),
]);

/** {dense, memory} or null where WebAssembly SIMD cannot run (or a CSP forbids compiling it). */
export async function loadKernel(pages) {
  try {
    const memory = new WebAssembly.Memory({ initial: pages });
    const { instance } = await WebAssembly.instantiate(MODULE, { env: { memory } });
    return { dense: instance.exports.dense, memory };
  } catch {
    return null;
  }
}
