// The elements of this section's template (math.html), by id: the one place its scripts
// find them, so that the ids live beside the markup that declares them.
import { byId } from '../../lib/dom.js';

/** This section's elements (math.html). */
export const mathElements = () => byId({ section: 'math', body: 'math-body', caption: 'math-caption' });
