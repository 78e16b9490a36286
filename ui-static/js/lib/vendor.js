// vendor.js: loading the pinned third-party files mlflowd serves from
// /static-files/vendor/ (see ui/package.json): minified builds that define a
// global are loaded once as classic scripts, stylesheets linked once.
const BASE = new URL('../../static-files/vendor/', import.meta.url).href;
const pending = new Map();

export function vendorUrl(name) {
  return BASE + name;
}

// Resolves to globalThis[globalName] once the script name has run.
export function loadClassic(name, globalName) {
  if (globalThis[globalName]) return Promise.resolve(globalThis[globalName]);
  if (!pending.has(name)) {
    pending.set(name, new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = vendorUrl(name);
      s.onload = () => resolve(globalThis[globalName]);
      s.onerror = () => reject(new Error(`could not load ${name}`));
      document.head.appendChild(s);
    }));
  }
  return pending.get(name);
}

export function linkStylesheet(name) {
  const href = vendorUrl(name);
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.appendChild(link);
}
