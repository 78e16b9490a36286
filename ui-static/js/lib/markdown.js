// markdown.js: Markdown (notes, descriptions) to a sanitized DocumentFragment,
// with the pinned marked renderer and DOMPurify sanitizer served by mlflowd
// from /static-files/vendor/. Links open in a new tab without access to this
// page; images from other sites (which the page's CSP would block) become links.
// Raw HTML inside the Markdown is shown as text, not rendered: DOMPurify
// would strip it anyway, and parsing it at all makes the browser log CSP
// violations for the event handlers it refuses.
import { Marked } from '../../static-files/vendor/marked.esm.js';
import { loadClassic } from './vendor.js';

// DOMPurify's minified build (half the size of its ES module) defines the global DOMPurify.
const DOMPurify = await loadClassic('purify.min.js', 'DOMPurify');

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const marked = new Marked({
  gfm: true, breaks: false, async: false,
  renderer: { html: ({ text }) => escapeHtml(text) },
});

function sameOrigin(url) {
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin || u.protocol === 'data:';
  } catch {
    return false;
  }
}

export function renderMarkdown(text) {
  const html = marked.parse(String(text ?? ''));
  const frag = DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe'],
    FORBID_ATTR: ['style'],
  });
  for (const a of frag.querySelectorAll('a[href]')) {
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  for (const img of frag.querySelectorAll('img')) {
    const src = img.getAttribute('src') || '';
    if (sameOrigin(src)) continue;
    const a = document.createElement('a');
    a.textContent = img.getAttribute('alt') || src;
    if (/^https?:/i.test(src)) {
      a.href = src;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
    }
    img.replaceWith(a);
  }
  return frag;
}
