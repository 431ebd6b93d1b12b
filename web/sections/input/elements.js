// The elements of this section's template (input.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (input.html): the pad, the buttons, the gallery, the drop overlay. */
export const inputElements = () => byId({
  pad: 'draw', clear: 'clear', upload: 'upload', overlay: 'drop-overlay', gallery: 'gallery',
});

/** What the network saw and answered, and the status line (input.html). */
export const answerElements = () => byId({
  seen: 'seen', prediction: 'prediction', confidence: 'confidence', announce: 'announce', status: 'status',
  copy: 'copy-link',
});

/** The outlines of receptive fields over the input (lib/fields.js). */
export const inputFields = () => byId({ capsuleOutline: 'receptive-field', patchOutline: 'input-patch' });

/** This part's elements (input.html). */
export const mistakesElements = () => byId({ gallery: 'mistakes-gallery' });
