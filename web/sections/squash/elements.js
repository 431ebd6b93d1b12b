// The elements of this section's template (squash.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (squash.html). */
export const squashElements = () => byId({ plot: 'squash-plot', caption: 'squash-caption' });
