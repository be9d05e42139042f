// One case: its facts, documents and history, followed live; cancel it or
// add documents the applicant brought.
import { api, stream } from '../api.js';
import { h, announce, statusBadge, setChildren } from '../dom.js';
import { t, fmtDate } from '../i18n.js';
import { titleOf, documentList } from './counter.js';
import { errorBox, statusText, when, prettyJson } from './common.js';

export async function caseView(ctx) {
  const { main, who, params, navigate } = ctx;
  const id = params[0];
  const heading = h('h1', { tabindex: '-1' }, t('case.title', { id }));
  main.append(heading);
  let c;
  try {
    c = (await api('GET', `/cases/${encodeURIComponent(id)}`)).case;
  } catch (e) {
    main.append(errorBox(e));
    return undefined;
  }
  const facts = h('dl', { class: 'facts', id: 'case-facts' });
  const docsHost = h('div');
  const histBody = h('tbody');
  const live = h('p', { class: 'live', id: 'case-live' });
  const actions = h('div', { class: 'case-actions' });
  const outputHost = h('div');
  main.append(
    h('section', { class: 'card', 'aria-labelledby': 'facts-h' }, h('h2', { id: 'facts-h' }, t('case.status')), facts, live,
      h('p', {}, h('a', {
        href: `/map?workflow=${encodeURIComponent(c.service)}&version=${c.version}&case=${encodeURIComponent(c.id)}`,
        onclick: (e) => { e.preventDefault(); navigate(`/map?workflow=${encodeURIComponent(c.service)}&version=${c.version}&case=${encodeURIComponent(c.id)}`); },
      }, t('case.map')))),
    h('section', { class: 'card', 'aria-labelledby': 'docs-h' }, h('h2', { id: 'docs-h' }, t('case.documents')), docsHost),
    actions,
    h('section', { class: 'card', 'aria-labelledby': 'input-h' }, h('h2', { id: 'input-h' }, t('case.input')),
      h('pre', { class: 'json', tabindex: '0' }, prettyJson(c.input_json))),
    outputHost,
    h('section', { class: 'card', 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, t('case.history')),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'hist-h' },
        h('table', { class: 'data' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, '#'),
            h('th', { scope: 'col' }, t('case.time')),
            h('th', { scope: 'col' }, t('case.event')),
            h('th', { scope: 'col' }, t('case.state')),
            h('th', { scope: 'col' }, t('case.actor')))),
          histBody))));

  const serviceTitle = await titleOf(c.service);
  function showCase() {
    setChildren(facts,
      h('dt', {}, t('case.status')), h('dd', { id: 'case-status' }, statusBadge(c.status, statusText(c.status))),
      h('dt', {}, t('case.service')), h('dd', {}, serviceTitle),
      h('dt', {}, t('case.submitted')), h('dd', {}, when(c.created_at_ms)),
      c.submitted_by ? [h('dt', {}, t('case.submittedBy')), h('dd', { translate: 'no' }, c.submitted_by)] : null,
      h('dt', {}, t('case.due')), h('dd', {}, c.due_date ? fmtDate(c.due_date) : t('case.none'), ' ',
        c.status === 'CASE_STATUS_RUNNING' ? h('span', { class: c.overdue ? 'badge badge-overdue' : 'badge' }, c.overdue ? t('case.overdue') : t('case.notOverdue')) : null),
      c.status === 'CASE_STATUS_RUNNING'
        ? [h('dt', {}, t('case.current')), h('dd', { id: 'case-current' }, (c.current_states || []).join(', ') || t('case.none')),
          h('dt', {}, t('case.departments')), h('dd', { id: 'case-departments' }, (c.open_departments || []).join(', ') || t('case.none'))]
        : [h('dt', {}, t('case.ended')), h('dd', {}, when(c.ended_at_ms))],
      c.error ? [h('dt', {}, t('case.error')), h('dd', {}, h('code', {}, c.error), c.cause ? h('span', { lang: 'en' }, ` ${c.cause}`) : null)] : null);
    const docs = c.documents || [];
    setChildren(docsHost, docs.length
      ? h('ul', { class: 'docs', id: 'case-docs' }, docs.map((d) => h('li', {}, d.name || d.id, d.id && d.name ? ` (${d.id})` : '', d.added_at_ms ? ` — ${when(d.added_at_ms)}` : '')))
      : h('p', {}, t('case.noDocuments')));
    setChildren(outputHost, c.output_json
      ? h('section', { class: 'card', 'aria-labelledby': 'output-h' }, h('h2', { id: 'output-h' }, t('case.output')),
        h('pre', { class: 'json', tabindex: '0' }, prettyJson(c.output_json)))
      : '');
    // The action forms stay as they are while the case runs (what is typed
    // in them survives live updates); they go when it ends.
    if (c.status !== 'CASE_STATUS_RUNNING') actions.replaceChildren();
    else if (!actions.childElementCount) showActions();
  }

  function showActions() {
    actions.replaceChildren();
    if (c.status !== 'CASE_STATUS_RUNNING') return;
    const msg = h('div', { role: 'status' });
    if (who.role === 'counter' || who.role === 'admin') {
      const docs = documentList([{}]);
      const f = h('form', { class: 'card', 'aria-labelledby': 'add-h', novalidate: true },
        h('h2', { id: 'add-h' }, t('case.addDocs')), docs.el,
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('case.addDocsDo'))));
      f.addEventListener('submit', async (e) => {
        e.preventDefault();
        const bad = docs.validate();
        if (bad.length) { bad[0].focus(); return; }
        const list = docs.value();
        if (!list.length) return;
        try {
          c = (await api('POST', `/cases/${encodeURIComponent(c.id)}/documents`, { documents: list })).case || c;
          showCase();
          actions.replaceChildren();
          showActions();
          announce(t('case.docsAdded'));
        } catch (ex) {
          msg.replaceChildren(errorBox(ex));
        }
      });
      actions.append(f);
    }
    if (['counter', 'supervisor', 'admin'].includes(who.role)) {
      const reason = h('textarea', { id: 'cancel-reason', rows: 2, required: true });
      const err = h('p', { class: 'field-error', id: 'cancel-reason-err', hidden: true });
      reason.setAttribute('aria-describedby', 'cancel-reason-err');
      const f = h('form', { class: 'card', 'aria-labelledby': 'cancel-h', novalidate: true },
        h('h2', { id: 'cancel-h' }, t('case.cancel')),
        h('div', { class: 'field' }, h('label', { for: 'cancel-reason' }, t('case.cancelReason'), h('span', { class: 'req' }, ` (${t('form.required')})`)), reason, err),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, t('case.cancelDo'))));
      f.addEventListener('submit', async (e) => {
        e.preventDefault();
        if (!reason.value.trim()) {
          err.hidden = false;
          err.textContent = t('err.required');
          reason.setAttribute('aria-invalid', 'true');
          reason.focus();
          return;
        }
        try {
          c = (await api('POST', `/cases/${encodeURIComponent(c.id)}/cancel`, { reason: reason.value.trim() })).case || c;
          showCase();
          announce(t('case.cancelled'));
          heading.focus();
        } catch (ex) {
          msg.replaceChildren(errorBox(ex));
        }
      });
      actions.append(f);
    }
    actions.append(msg);
  }

  let lastSeq = 0;
  function addEvent(ev) {
    const seq = Number(ev.seq || 0);
    if (seq <= lastSeq) return;
    lastSeq = seq;
    histBody.append(h('tr', {},
      h('td', {}, String(seq)),
      h('td', {}, when(ev.at_ms)),
      h('td', {}, h('code', {}, ev.type || '')),
      h('td', {}, ev.state || ''),
      h('td', { translate: 'no' }, ev.actor || '')));
  }

  showCase();
  try {
    let after = 0;
    for (;;) {
      const r = await api('GET', `/cases/${encodeURIComponent(c.id)}/history?after_seq=${after}&limit=500`);
      for (const ev of r.events || []) addEvent(ev);
      if (!r.more || !(r.events || []).length) break;
      after = lastSeq;
    }
  } catch (e) { /* the stream below fills it */ }

  let es = null;
  let refetch = null;
  if (c.status === 'CASE_STATUS_RUNNING') {
    live.textContent = t('case.liveOn');
    es = stream(`/cases/${encodeURIComponent(c.id)}/events`, { after_seq: lastSeq }, {
      history: (ev) => {
        addEvent(ev);
        clearTimeout(refetch);
        refetch = setTimeout(async () => {
          try {
            const before = c.status;
            c = (await api('GET', `/cases/${encodeURIComponent(c.id)}`)).case;
            showCase();
            if (c.status !== before) announce(`${t('case.status')}: ${statusText(c.status)}`);
            if (c.status !== 'CASE_STATUS_RUNNING' && es) { es.close(); es = null; live.textContent = ''; }
          } catch (e) { /* a 401 returns to sign-in */ }
        }, 150);
      },
    });
    es.onerror = () => {
      // The server closes the stream after the case's last event.
      if (c.status !== 'CASE_STATUS_RUNNING' && es) { es.close(); es = null; }
    };
  }
  return () => { clearTimeout(refetch); if (es) es.close(); };
}
