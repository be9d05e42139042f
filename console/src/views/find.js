// Find a case: by number, or list cases by applicant, status and service.
import { api, query } from '../api.js';
import { h, announce, statusBadge } from '../dom.js';
import { t, fmtDate, fmtNumber } from '../i18n.js';
import { services, titleOf } from './counter.js';
import { errorBox, caseLink, statusText, when } from './common.js';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

export async function caseTable(cases, navigate, caption) {
  const rows = [];
  for (const c of cases) {
    rows.push(h('tr', {},
      h('th', { scope: 'row' }, caseLink(c.id, navigate)),
      h('td', {}, await titleOf(c.service)),
      h('td', {}, statusBadge(c.status, statusText(c.status))),
      h('td', {}, when(c.created_at_ms)),
      h('td', {}, c.due_date ? fmtDate(c.due_date) : t('case.none'), c.overdue ? h('span', { class: 'badge badge-overdue' }, ` ${t('case.overdue')}`) : null)));
  }
  return h('table', { class: 'data' },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('receipt.caseNumber')),
      h('th', { scope: 'col' }, t('case.service')),
      h('th', { scope: 'col' }, t('case.status')),
      h('th', { scope: 'col' }, t('case.submitted')),
      h('th', { scope: 'col' }, t('case.due')))),
    h('tbody', {}, rows));
}

export async function findView(ctx) {
  const { main, navigate } = ctx;
  const params = new URLSearchParams(location.search);
  main.append(h('h1', {}, t('find.title')));

  const num = h('input', { id: 'find-number', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const byNumber = h('form', { class: 'card inline-form', role: 'search', 'aria-label': t('find.byNumber') },
    h('div', { class: 'field' }, h('label', { for: 'find-number' }, t('find.byNumber')), num),
    h('button', { type: 'submit', class: 'primary' }, t('find.open')));
  byNumber.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = num.value.trim();
    if (v) navigate(`/case/${encodeURIComponent(v)}`);
  });

  const applicant = h('input', { id: 'find-applicant', type: 'text', value: params.get('applicant') || '' });
  const status = h('select', { id: 'find-status' },
    h('option', { value: '' }, t('find.anyStatus')),
    STATUSES.map((s) => h('option', { value: s, selected: params.get('status') === s }, statusText(`CASE_STATUS_${s}`))));
  const service = h('select', { id: 'find-service' }, h('option', { value: '' }, t('find.anyService')));
  try {
    for (const s of await services()) {
      service.append(h('option', { value: s.name, selected: params.get('service') === s.name }, s.title));
    }
  } catch (e) { /* the list stays short */ }
  const results = h('div', { id: 'find-results', 'aria-live': 'polite' });
  const search = h('form', { class: 'card inline-form', role: 'search', 'aria-label': t('find.search') },
    h('div', { class: 'field' }, h('label', { for: 'find-applicant' }, t('find.byApplicant')), applicant),
    h('div', { class: 'field' }, h('label', { for: 'find-status' }, t('find.byStatus')), status),
    h('div', { class: 'field' }, h('label', { for: 'find-service' }, t('find.byService')), service),
    h('button', { type: 'submit', class: 'primary' }, t('find.search')));

  let pageToken = '';
  let shown = [];
  async function run(more) {
    const q = { applicant: applicant.value.trim(), status: status.value, service: service.value, limit: 50 };
    if (params.get('overdue') === 'true') q.overdue = 'true';
    if (params.get('department')) q.department = params.get('department');
    if (more) q.page_token = pageToken; else shown = [];
    try {
      const r = await api('GET', `/cases${query(q)}`);
      shown = shown.concat(r.cases || []);
      pageToken = r.next_page_token || '';
      results.replaceChildren();
      if (!shown.length) {
        results.append(h('p', {}, t('find.none')));
      } else {
        const caption = t('find.results', { count: fmtNumber(shown.length) });
        results.append(await caseTable(shown, navigate, caption));
        if (pageToken) results.append(h('button', { type: 'button', class: 'secondary', onclick: () => run(true) }, t('find.more')));
        announce(caption);
      }
    } catch (e) {
      if (e.code !== 'UNAUTHENTICATED') results.replaceChildren(errorBox(e));
    }
  }
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = { applicant: applicant.value.trim(), status: status.value, service: service.value };
    history.replaceState({}, '', `/find${query(q)}`);
    run(false);
  });
  main.append(byNumber, search, results);
  if ([...params.keys()].length) run(false);
  num.focus();
}
