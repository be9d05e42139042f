// The analyst's map: each workflow and its versions, the state machine
// drawn by the server, and a case's path through it highlighted (states
// passed, where it waits, where it failed).
import { api, query, workflows } from '../api.js';
import { h, setChildren } from '../dom.js';
import { t, fmtDateTime, fmtNumber, getLang } from '../i18n.js';
import { serviceTitle } from './counter.js';
import { errorBox } from './common.js';

// The server's SVG, without scripts or event handlers, as a DOM node.
function cleanSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== 'svg') return null;
  for (const bad of svg.querySelectorAll('script, foreignObject')) bad.remove();
  for (const el of [svg, ...svg.querySelectorAll('*')]) {
    for (const a of [...el.attributes]) {
      if (/^on/i.test(a.name) || (/href$/i.test(a.name) && /^\s*javascript:/i.test(a.value))) el.removeAttribute(a.name);
    }
  }
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  return document.importNode(svg, true);
}

export async function mapView(ctx) {
  const { main } = ctx;
  const params = new URLSearchParams(location.search);
  main.append(h('h1', {}, t('map.title')));
  let all;
  try {
    all = await workflows();
  } catch (e) {
    main.append(errorBox(e));
    return;
  }
  const byName = new Map();
  for (const w of all) {
    if (!byName.has(w.name)) byName.set(w.name, []);
    byName.get(w.name).push(w);
  }
  for (const list of byName.values()) list.sort((a, b) => Number(b.version) - Number(a.version));
  const names = [...byName.keys()].sort((a, b) => serviceTitle(byName.get(a)[0]).localeCompare(serviceTitle(byName.get(b)[0]), getLang()));

  const wfSel = h('select', { id: 'map-workflow' },
    names.map((n) => h('option', { value: n, selected: params.get('workflow') === n }, serviceTitle(byName.get(n)[0]))));
  const verSel = h('select', { id: 'map-version' });
  const caseIn = h('input', { id: 'map-case', type: 'text', value: params.get('case') || '', autocomplete: 'off', spellcheck: 'false' });
  const graph = h('div', { class: 'graph', id: 'map-graph', tabindex: '0' });
  const versions = h('div', { id: 'map-versions' });
  function fillVersions(keep) {
    const list = byName.get(wfSel.value) || [];
    setChildren(verSel, h('option', { value: '0' }, t('map.latest')),
      list.map((w) => h('option', { value: String(w.version), selected: keep === String(w.version) }, fmtNumber(w.version))));
    versions.replaceChildren(h('table', { class: 'data' },
      h('caption', {}, t('map.versions')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('map.version')), h('th', { scope: 'col' }, t('map.deployedCol')), h('th', { scope: 'col' }, t('map.departments')))),
      h('tbody', {}, list.map((w) => h('tr', {},
        h('th', { scope: 'row' }, fmtNumber(w.version)),
        h('td', {}, fmtDateTime(w.deployed_at_ms), w.deployed_by ? ` — ${w.deployed_by}` : ''),
        h('td', {}, (w.departments || []).join(', ')))))));
  }
  wfSel.addEventListener('change', () => fillVersions());
  fillVersions(params.get('version') || '');

  const form = h('form', { class: 'card inline-form' },
    h('div', { class: 'field' }, h('label', { for: 'map-workflow' }, t('map.workflow')), wfSel),
    h('div', { class: 'field' }, h('label', { for: 'map-version' }, t('map.version')), verSel),
    // Analysts may draw workflows but not read cases.
    ctx.who.role !== 'analyst' ? h('div', { class: 'field' }, h('label', { for: 'map-case' }, t('map.case')), caseIn) : null,
    h('button', { type: 'submit', class: 'primary' }, t('map.show')));
  const legend = h('ul', { class: 'legend', 'aria-label': t('map.legend') },
    h('li', {}, h('span', { class: 'swatch passed', 'aria-hidden': 'true' }), t('map.passed')),
    h('li', {}, h('span', { class: 'swatch current', 'aria-hidden': 'true' }), t('map.current')),
    h('li', {}, h('span', { class: 'swatch failed', 'aria-hidden': 'true' }), t('map.failed')));

  async function draw() {
    const name = wfSel.value;
    if (!name) return;
    const version = verSel.value;
    const caseId = ctx.who.role !== 'analyst' ? caseIn.value.trim() : '';
    history.replaceState({}, '', `/map${query({ workflow: name, version: version !== '0' ? version : '', case: caseId })}`);
    graph.replaceChildren(h('p', {}, t('app.loading')));
    try {
      const svgText = await api('GET', `/workflows/${encodeURIComponent(name)}/graph.svg${query({ version: version !== '0' ? version : '', case: caseId })}`, undefined, { raw: true });
      const svg = cleanSvg(svgText);
      const shownVersion = version !== '0' ? version : String((byName.get(name) || [{}])[0].version || '');
      const label = t('map.graph', { name: serviceTitle(byName.get(name)[0]), version: fmtNumber(shownVersion) });
      graph.setAttribute('role', 'img');
      graph.setAttribute('aria-label', label);
      graph.replaceChildren(svg || '');
    } catch (e) {
      graph.removeAttribute('role');
      graph.removeAttribute('aria-label');
      if (e.code !== 'UNAUTHENTICATED') graph.replaceChildren(errorBox(e));
    }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); draw(); });
  main.append(form, h('section', { class: 'card', 'aria-labelledby': 'graph-h' },
    h('h2', { id: 'graph-h' }, t('map.legend')), legend, graph), h('section', { class: 'card' }, versions));
  if (names.length) await draw();
}
