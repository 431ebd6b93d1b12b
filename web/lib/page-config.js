// The page's settings, written into index.html by whoever serves it (app/http/pages.py, or the
// static build, static_site/build.py) as one <script type="application/json" id="page-config"> block: which engine
// answers, and the API's endpoints by name, read from the server's one table of endpoints, so
// that no path is typed twice.
const block = document.getElementById('page-config');
export const pageConfig = block ? JSON.parse(block.textContent) : { engine: 'server', endpoints: {} };

/** The path of endpoint `name` (app/http/endpoints.py's view name), relative to the page. */
export function endpoint(name) {
  const path = pageConfig.endpoints[name];
  if (!path) throw new Error(`The page was served without the endpoint "${name}".`);
  return path;
}
