// pages/metric.js: the metric page (#/metric/<key>?runs=[...]&experiments=[...]
// &plot_metric_keys=[...]&x_axis=step|wall|relative&y_axis_scale=linear|log
// &line_smoothness=0..99, MLflow's URL scheme): one large chart per metric of
// the runs, axis options kept in the URL.
import { api } from '../api.js';
import { h, errorBox } from '../dom.js';
import { setQuery, seg } from '../app.js';
import { renderRunsCharts } from './charts.js';

const MAX_RUNS = 100; // runs charted (the server's cap on one sampled request)

function jsonList(v) {
  try { const x = JSON.parse(v || '[]'); return Array.isArray(x) ? x.map(String) : []; } catch { return []; }
}

export default async function render(root, route) {
  const q = route.query;
  const key = route.params.metricKey;
  const runIds = jsonList(q.get('runs')).slice(0, MAX_RUNS);
  const exps = jsonList(q.get('experiments'));
  let keys = jsonList(q.get('plot_metric_keys'));
  if (!keys.length) keys = [key];
  const page = h('div', { class: 'page page-wide' });
  root.appendChild(page);
  const expLink = exps.length === 1 ? h('a', { href: `#/experiments/${seg(exps[0])}` }, `Experiment ${exps[0]}`) : null;
  if (expLink) api('mlflow/experiments/get', { query: { experiment_id: exps[0] } }).then((r) => { expLink.textContent = r.experiment.name; }).catch(() => {});
  page.appendChild(h('div', { class: 'breadcrumb' }, h('a', { href: '#/experiments' }, 'Experiments'), expLink ? [' / ', expLink] : null, ' /'));
  page.appendChild(h('h1', {}, keys.join(', ')));
  if (!runIds.length) { page.appendChild(errorBox(new Error('No runs given (the runs=[...] query parameter).'))); return; }

  // run names, looked up while the charts load (the ids until then)
  const links = new Map();
  const list = h('div', { class: 'meta' }, h('span', {}, 'Runs: ', runIds.map((id, i) => {
    const a = h('a', { href: exps.length === 1 ? `#/experiments/${seg(exps[0])}/runs/${seg(id)}` : `#/runs/${seg(id)}` }, id);
    links.set(id, a);
    return [i ? ', ' : '', a];
  })));
  page.appendChild(list);
  const namesP = (async () => {
    const names = new Map();
    try {
      // a link without experiments=[...]: the first run's experiment
      const expIds = exps.length ? exps : [(await api('mlflow/runs/get', { query: { run_id: runIds[0] } })).run.info.experiment_id];
      const ids = runIds.map((id) => `'${id.replace(/'/g, '')}'`).join(', ');
      const r = await api('mlflow/runs/search', { method: 'POST', body: {
        experiment_ids: expIds, filter: `attributes.run_id IN (${ids})`, max_results: MAX_RUNS, run_view_type: 'ALL' } });
      for (const run of r.runs || []) {
        names.set(run.info.run_id, run.info.run_name || run.info.run_id);
        const a = links.get(run.info.run_id);
        if (a) { a.textContent = run.info.run_name || run.info.run_id; a.href = `#/experiments/${seg(run.info.experiment_id)}/runs/${seg(run.info.run_id)}`; }
      }
    } catch { /* names stay ids */ }
    return names;
  })();
  const box = h('div', {});
  page.appendChild(box);
  const xAxis = ['step', 'wall', 'relative'].includes(q.get('x_axis')) ? q.get('x_axis') : 'step';
  const smoothing = Math.min(99, Math.max(0, Number(q.get('line_smoothness')) || 0)) / 100;
  return renderRunsCharts(box, {
    runs: runIds.map((id) => ({ id, name: id })), namesP, metricKeys: keys, single: true,
    xAxis, logY: q.get('y_axis_scale') === 'log', smoothing,
    onOptions: (o) => setQuery({ x_axis: o.xAxis, y_axis_scale: o.logY ? 'log' : 'linear', line_smoothness: String(Math.round(o.smoothing * 100)) }),
  });
}
