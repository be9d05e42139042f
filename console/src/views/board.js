// The supervisor's board: cases per service and status, each department's
// backlog and oldest task, overdue cases, and cases completed per hour.
import { api, stream } from '../api.js';
import { h } from '../dom.js';
import { t, fmtNumber, fmtAge, fmtTime, fmtDateTime } from '../i18n.js';
import { titleOf } from './counter.js';
import { errorBox, statusText } from './common.js';

const STATUSES = ['CASE_STATUS_RUNNING', 'CASE_STATUS_SUCCEEDED', 'CASE_STATUS_FAILED', 'CASE_STATUS_CANCELLED'];

function link(href, navigate, label, aria) {
  return h('a', { href, 'aria-label': aria, onclick: (e) => { e.preventDefault(); navigate(href); } }, label);
}

function chart(buckets) {
  const w = 24 * 28;
  const hgt = 140;
  const max = Math.max(1, ...buckets.map((b) => Number(b.completed || 0)));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt + 20}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('aria-hidden', 'true');
  buckets.forEach((b, i) => {
    const v = Number(b.completed || 0);
    const bh = Math.round((v / max) * hgt);
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', String(i * 28 + 4));
    r.setAttribute('y', String(hgt - bh));
    r.setAttribute('width', '20');
    r.setAttribute('height', String(Math.max(bh, v ? 1 : 0)));
    svg.append(r);
    if (i % 3 === 0) {
      const tx = document.createElementNS(ns, 'text');
      tx.setAttribute('x', String(i * 28 + 14));
      tx.setAttribute('y', String(hgt + 15));
      tx.setAttribute('text-anchor', 'middle');
      tx.textContent = fmtTime(b.hour_start_ms);
      svg.append(tx);
    }
  });
  return svg;
}

export async function boardView(ctx) {
  const { main, navigate } = ctx;
  const updated = h('p', { class: 'hint', id: 'board-updated' });
  const host = h('div', { id: 'board' });
  main.append(h('h1', {}, t('board.title')), h('div', { class: 'actions' }, updated,
    h('button', { type: 'button', class: 'secondary', onclick: () => load() }, t('board.refresh'))), host);

  async function load() {
    let b;
    try {
      b = (await api('GET', '/board')).board || {};
    } catch (e) {
      if (e.code !== 'UNAUTHENTICATED') host.replaceChildren(errorBox(e));
      return;
    }
    updated.textContent = t('board.updated', { time: fmtDateTime(b.at_ms || Date.now()) });
    // Cases per service and status.
    const per = new Map();
    for (const r of b.cases || []) {
      if (!per.has(r.service)) per.set(r.service, {});
      per.get(r.service)[r.status] = Number(r.count || 0);
    }
    const serviceRows = [];
    for (const [svc, counts] of [...per.entries()].sort()) {
      const title = await titleOf(svc);
      const total = STATUSES.reduce((a, s) => a + (counts[s] || 0), 0);
      serviceRows.push(h('tr', { dataset: { service: svc } },
        h('th', { scope: 'row' }, link(`/find?service=${encodeURIComponent(svc)}`, navigate, title)),
        STATUSES.map((s) => h('td', { class: 'num', dataset: { status: s } },
          counts[s] ? link(`/find?service=${encodeURIComponent(svc)}&status=${s.replace('CASE_STATUS_', '')}`, navigate, fmtNumber(counts[s]), `${title}: ${statusText(s)} ${fmtNumber(counts[s])}`) : fmtNumber(0))),
        h('td', { class: 'num', dataset: { status: 'total' } }, fmtNumber(total))));
    }
    const byService = h('section', { class: 'card', 'aria-labelledby': 'by-service-h' },
      h('h2', { id: 'by-service-h' }, t('board.byService')),
      serviceRows.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'board-services' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('board.service')),
            STATUSES.map((s) => h('th', { scope: 'col', class: 'num' }, statusText(s))),
            h('th', { scope: 'col', class: 'num' }, t('board.total')))),
          h('tbody', {}, serviceRows)))
        : h('p', {}, t('board.empty')));
    // Departments.
    const depts = (b.departments || []).slice().sort((x, y) => x.department.localeCompare(y.department));
    const byDept = h('section', { class: 'card', 'aria-labelledby': 'by-dept-h' },
      h('h2', { id: 'by-dept-h' }, t('board.departments')),
      depts.length
        ? h('table', { class: 'data', id: 'board-departments' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('board.department')),
            h('th', { scope: 'col', class: 'num' }, t('board.openTasks')),
            h('th', { scope: 'col', class: 'num' }, t('board.oldest')))),
          h('tbody', {}, depts.map((d) => h('tr', { dataset: { department: d.department } },
            h('th', { scope: 'row' }, d.department),
            h('td', { class: 'num', dataset: { col: 'open' } }, fmtNumber(d.open_tasks)),
            h('td', { class: 'num' }, Number(d.open_tasks) ? fmtAge(d.oldest_task_age_s) : t('case.none'))))))
        : h('p', {}, t('inbox.none')));
    // Overdue.
    const overdue = (b.overdue || []).filter((o) => Number(o.count) > 0);
    const overdueRows = [];
    for (const o of overdue) {
      const title = await titleOf(o.service);
      overdueRows.push(h('tr', {}, h('th', { scope: 'row' }, title),
        h('td', { class: 'num' }, fmtNumber(o.count)),
        h('td', {}, link(`/find?service=${encodeURIComponent(o.service)}&status=RUNNING&overdue=true`, navigate, t('board.showCases'), `${t('board.showCases')}: ${title}`))));
    }
    const byOverdue = h('section', { class: 'card', 'aria-labelledby': 'overdue-h' },
      h('h2', { id: 'overdue-h' }, t('board.overdue')),
      overdueRows.length
        ? h('table', { class: 'data', id: 'board-overdue' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('board.service')),
            h('th', { scope: 'col', class: 'num' }, t('board.overdueCount')),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('board.showCases'))))),
          h('tbody', {}, overdueRows))
        : h('p', {}, t('board.noOverdue')));
    // Completed per hour.
    const buckets = b.completed_per_hour || [];
    const perHour = h('section', { class: 'card', 'aria-labelledby': 'per-hour-h' },
      h('h2', { id: 'per-hour-h' }, t('board.perHour')),
      h('figure', {}, chart(buckets), h('figcaption', { class: 'hint' }, t('board.chartLabel'))),
      h('details', {}, h('summary', {}, t('board.perHour')),
        h('table', { class: 'data', id: 'board-hours' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('board.hour')), h('th', { scope: 'col', class: 'num' }, t('board.completed')))),
          h('tbody', {}, buckets.map((x) => h('tr', {}, h('td', {}, fmtDateTime(x.hour_start_ms)), h('td', { class: 'num' }, fmtNumber(x.completed))))))));
    host.replaceChildren(h('div', { class: 'grid' }, byService, byDept, byOverdue, perHour));
  }
  await load();
  let timer = null;
  const es = stream('/changes', {}, {
    change: () => { clearTimeout(timer); timer = setTimeout(load, 300); },
  });
  return () => { clearTimeout(timer); es.close(); };
}
