// A section's elements, looked up by the ids its own template declares (web/sections/<name>/).

/** {name: 'id', ...} -> {name: element, ...}; a missing id is an error, not a silent null. */
export function byId(ids) {
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => {
    const element = document.getElementById(id);
    if (!element) throw new Error(`The page has no element #${id}.`);
    return [name, element];
  }));
}
