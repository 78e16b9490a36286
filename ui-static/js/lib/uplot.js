// uplot.js: the pinned uPlot chart library (ui/package-lock.json), served by
// mlflowd from /static-files/vendor/ (its minified build, which defines the
// global uPlot), with its stylesheet.
import { loadClassic, linkStylesheet } from './vendor.js';

linkStylesheet('uPlot.min.css');
const uPlot = await loadClassic('uPlot.iife.min.js', 'uPlot');

export default uPlot;
