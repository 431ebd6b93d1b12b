// The elements of this section's template (recon.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (recon.html). */
export const reconElements = () => byId({
  canvas: 'reconstruction', sliders: 'sliders', digit: 'recon-digit', reset: 'recon-reset', sweepButton: 'sweep-button',
  sweep: 'sweep', sweepNote: 'sweep-note', vectorNote: 'vector-note', seenCopy: 'seen-copy',
});

/** This section's elements (recon.html): the labels' table. */
export const dimensionElements = () => byId({ table: 'dimension-table', method: 'dimension-method', note: 'dimension-note' });

/** This part's elements (recon.html). */
export const mistakePairElements = () => byId({
  pair: 'mistake-pair', trueCanvas: 'mistake-true', trueCaption: 'mistake-true-caption',
  predictedCanvas: 'mistake-predicted', predictedCaption: 'mistake-predicted-caption', note: 'mistake-note',
});
