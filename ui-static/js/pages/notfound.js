// notfound.js: the page for a route the UI does not know.
import { h, emptyState } from '../dom.js';

export default async function render(root, route) {
  root.appendChild(h('div', { class: 'page', dataset: { testid: 'notfound' } },
    emptyState('Page not found',
      h('p', {}, 'Nothing lives at ', h('code', {}, `#${route.path}`), '.'),
      h('p', {}, h('a', { href: '#/experiments' }, 'Experiments'), ' · ', h('a', { href: '#/models' }, 'Models')))));
}
