// uplot.js: the pinned uPlot chart library (ui/package-lock.json), served by
// mlflowd from /static-files/vendor/ (its minified build, loaded once as a
// classic script, which defines the global uPlot), with its stylesheet.
const VENDOR = new URL('../../static-files/vendor/', import.meta.url).href;

if (!document.querySelector(`link[href="${VENDOR}uPlot.min.css"]`)) {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = `${VENDOR}uPlot.min.css`;
  document.head.appendChild(link);
}

if (!globalThis.uPlot) {
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `${VENDOR}uPlot.iife.min.js`;
    s.onload = resolve;
    s.onerror = () => reject(new Error('could not load the chart library'));
    document.head.appendChild(s);
  });
}

export default globalThis.uPlot;
