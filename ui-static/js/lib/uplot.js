// uplot.js: the pinned uPlot chart library (ui/package-lock.json), served by
// mlflowd from /static-files/vendor/, with its stylesheet linked once.
import uPlot from '../../static-files/vendor/uPlot.esm.js';

const CSS_URL = new URL('../../static-files/vendor/uPlot.min.css', import.meta.url).href;
if (!document.querySelector(`link[href="${CSS_URL}"]`)) {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = CSS_URL;
  document.head.appendChild(link);
}

export default uPlot;
