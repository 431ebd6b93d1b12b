// The elements of this section's template (digitcaps.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (digitcaps.html). */
export const digitCapsElements = () => byId({
  bars: 'digit-caps', vectors: 'digit-vectors', rows: 'digit-rows', rowMarker: 'digit-row-marker',
});
