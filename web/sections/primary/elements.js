// The elements of this section's template (primary.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (primary.html). */
export const primaryElements = () => byId({
  canvas: 'primary-caps', marker: 'primary-marker', legend: 'primary-legend', stretch: 'primary-stretch',
  title: 'capsule-title', vector: 'capsule-vector',
});
