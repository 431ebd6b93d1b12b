// The one interface the views talk to. When Flask serves the page, the server answers (its
// JSON API, engines/server.js); in the static edition, the page itself does (the exported
// networks in ONNX Runtime Web, engines/browser/engine.js). Both answer with the same shapes
// (docs/api.md), so no view knows, or needs to know, which one did.
import { pageConfig } from './lib/page-config.js';

const chosen = pageConfig.engine === 'browser'
  ? import('./engines/browser/engine.js')
  : import('./engines/server.js');

const call = (name) => async (...args) => (await chosen)[name](...args);

/** GET-like answers by endpoint name (model_info, models, conv1_kernels, robustness, dimensions, mistakes). */
export const get = call('get');
/** Every stage for one input: source {kind: 'pixels' | 'dataurl' | 'file', ...}. */
export const analyze = call('analyze');
export const reconstruct = call('reconstruct');
export const sweep = call('sweep');
export const compare = call('compare');
export const transformSweep = call('transformSweep');
export const votes = call('votes');
export const capsuleMath = call('capsuleMath');
export const multiAnalyze = call('multiAnalyze');
export const multiReconstruct = call('multiReconstruct');
