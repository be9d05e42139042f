// The counter's window: choose a service, fill its form, list the documents
// handed in, submit, and print the receipt.
import qrcode from 'qrcode-generator';
import { api, workflows } from '../api.js';
import { h, newId, announce } from '../dom.js';
import { t, localTitle, fmtDateTime, fmtDate, fmtNumber, getLang } from '../i18n.js';
import { schemaForm } from './schemaform.js';
import { sha256Hex } from '../sha256.js';
import { errorBox } from './common.js';

const DRAFT = 'onewindow.draft';

function loadDraft() {
  try { return JSON.parse(sessionStorage.getItem(DRAFT) || 'null'); } catch (e) { return null; }
}

// The latest version of each workflow, by title in the current language.
export async function services() {
  const latest = new Map();
  for (const w of await workflows()) {
    const v = Number(w.version || 0);
    if (!latest.has(w.name) || Number(latest.get(w.name).version) < v) latest.set(w.name, w);
  }
  return [...latest.values()]
    .map((w) => ({ name: w.name, title: serviceTitle(w), workflow: w }))
    .sort((a, b) => a.title.localeCompare(b.title, getLang()));
}

export function serviceTitle(w) {
  return localTitle(w && w.manifest && w.manifest.title, w ? w.name : '');
}

// The title of service `name` (for lists), from the cached workflows.
export async function titleOf(name) {
  try {
    const all = await workflows();
    const w = all.find((x) => x.name === name && x.manifest && x.manifest.title);
    return w ? serviceTitle(w) : name;
  } catch (e) {
    return name;
  }
}

function qrSvg(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true });
}

export function receipt(ctx, { id, service, created, due }) {
  const { main, navigate } = ctx;
  main.replaceChildren();
  const qr = h('div', { class: 'qr', role: 'img', 'aria-label': t('receipt.qr', { id }) });
  qr.innerHTML = qrSvg(id);
  qr.querySelector('svg')?.setAttribute('aria-hidden', 'true');
  const heading = h('h1', { id: 'receipt-h', tabindex: '-1' }, t('receipt.heading'));
  main.append(h('section', { class: 'card receipt', 'aria-labelledby': 'receipt-h', id: 'receipt' },
    h('p', { class: 'receipt-org' }, t('app.name')),
    heading,
    h('div', { class: 'receipt-body' },
      h('dl', { class: 'facts' },
        h('dt', {}, t('receipt.caseNumber')), h('dd', { class: 'case-number', id: 'receipt-case' }, id),
        h('dt', {}, t('receipt.service')), h('dd', { id: 'receipt-service' }, service),
        h('dt', {}, t('receipt.date')), h('dd', { id: 'receipt-date' }, fmtDateTime(created)),
        h('dt', {}, t('receipt.due')), h('dd', { id: 'receipt-due' }, due ? fmtDate(due) : t('receipt.noDue'))),
      qr),
    h('p', { class: 'receipt-keep' }, t('receipt.keep')),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', class: 'primary', onclick: () => window.print() }, t('receipt.print')),
      h('a', { href: `/case/${encodeURIComponent(id)}`, class: 'button', onclick: (e) => { e.preventDefault(); navigate(`/case/${encodeURIComponent(id)}`); } }, t('receipt.follow')),
      h('a', { href: '/counter', class: 'button', onclick: (e) => { e.preventDefault(); sessionStorage.removeItem('onewindow.receipt'); navigate('/counter'); } }, t('receipt.another')))));
  heading.focus();
}

// Rows of document references: the scanned file (read here for its size
// and SHA-256; it is not uploaded), its name, reference number and media
// type. A row left empty is ignored; a started row needs a file, a name and
// a reference.
export function documentList(init = [], onChange = () => {}) {
  const rows = [];
  const list = h('div', { class: 'doc-rows' });
  const addBtn = h('button', { type: 'button', class: 'secondary' }, t('counter.addDocument'));
  function relabel() {
    rows.forEach((r, i) => {
      r.legend.textContent = t('counter.document', { n: i + 1 });
      r.remove.textContent = t('counter.removeDocument', { n: i + 1 });
    });
  }
  function add(d = {}, focus = false) {
    const ids = [newId('doc'), newId('doc'), newId('doc'), newId('doc')];
    const errId = `${ids[0]}-err`;
    const printId = `${ids[0]}-print`;
    const file = h('input', { id: ids[3], type: 'file', 'aria-describedby': `${printId} ${errId}` });
    const name = h('input', { id: ids[0], type: 'text', value: d.name || '', oninput: onChange });
    const ref = h('input', { id: ids[1], type: 'text', value: d.id || '', oninput: onChange });
    const media = h('input', { id: ids[2], type: 'text', value: d.media_type || '', placeholder: 'application/pdf', oninput: onChange });
    const print = h('p', { class: 'hint', id: printId });
    const err = h('p', { class: 'field-error', id: errId, hidden: true });
    const legend = h('legend');
    const remove = h('button', { type: 'button', class: 'link' });
    const box = h('fieldset', { class: 'doc-row' }, legend,
      h('div', { class: 'field' }, h('label', { for: ids[3] }, t('counter.docFile')), file, print, err),
      h('div', { class: 'field' }, h('label', { for: ids[0] }, t('counter.docName')), name),
      h('div', { class: 'field' }, h('label', { for: ids[1] }, t('counter.docRef')), ref),
      h('div', { class: 'field' }, h('label', { for: ids[2] }, t('counter.docType')), media),
      remove);
    const r = { box, legend, remove, name, ref, media, file, err, sha256: d.sha256 || '', size: d.size_bytes || 0 };
    const showPrint = () => {
      print.textContent = r.sha256 ? t('counter.docFingerprint', { size: fmtNumber(r.size), hash: r.sha256.slice(0, 16) }) : '';
    };
    showPrint();
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      const bytes = new Uint8Array(await f.arrayBuffer());
      r.sha256 = sha256Hex(bytes);
      r.size = bytes.length;
      if (!name.value) name.value = f.name;
      if (!media.value) media.value = f.type || 'application/octet-stream';
      if (!ref.value) ref.value = `DOC-${r.sha256.slice(0, 12).toUpperCase()}`;
      showPrint();
      err.hidden = true;
      file.removeAttribute('aria-invalid');
      onChange();
    });
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(r), 1);
      box.remove();
      relabel();
      onChange();
      addBtn.focus();
    });
    rows.push(r);
    list.append(box);
    relabel();
    if (focus) file.focus();
  }
  addBtn.addEventListener('click', () => { add({}, true); onChange(); });
  for (const d of init) add(d);
  const started = (r) => r.sha256 || r.name.value.trim() || r.ref.value.trim();
  return {
    el: h('div', {}, list, addBtn),
    // Rows started but incomplete are marked; returns the controls to fix.
    validate() {
      const bad = [];
      for (const r of rows) {
        r.err.hidden = true;
        r.file.removeAttribute('aria-invalid');
        if (!started(r)) continue;
        if (!r.sha256) {
          r.err.hidden = false;
          r.err.textContent = t('counter.docNeedsFile');
          r.file.setAttribute('aria-invalid', 'true');
          bad.push(r.file);
        } else if (!r.name.value.trim() || !r.ref.value.trim()) {
          r.err.hidden = false;
          r.err.textContent = t('err.required');
          bad.push(r.name.value.trim() ? r.ref : r.name);
        }
      }
      return bad;
    },
    value() {
      return rows.filter((r) => r.sha256 && r.name.value.trim() && r.ref.value.trim())
        .map((r) => ({
          id: r.ref.value.trim(),
          name: r.name.value.trim(),
          media_type: r.media.value.trim() || 'application/octet-stream',
          size_bytes: r.size,
          sha256: r.sha256,
        }));
    },
  };
}

export async function counterView(ctx) {
  const { main } = ctx;
  const saved = sessionStorage.getItem('onewindow.receipt');
  if (saved) {
    // A receipt on screen stays on screen when the language changes.
    receipt(ctx, JSON.parse(saved));
    return undefined;
  }
  const heading = h('h1', {}, t('counter.title'));
  main.append(heading);
  let list;
  try {
    list = await services();
  } catch (e) {
    main.append(errorBox(e));
    return undefined;
  }
  if (!list.length) { main.append(h('p', {}, t('counter.noServices'))); return undefined; }
  const draft = loadDraft() || {};
  const select = h('select', { id: 'service' },
    h('option', { value: '' }, t('counter.chooseService')),
    list.map((s) => h('option', { value: s.name, selected: draft.service === s.name }, s.title)));
  const formHost = h('div', { id: 'form-host' });
  main.append(h('div', { class: 'field service-pick' }, h('label', { for: 'service' }, t('counter.service')), select), formHost);

  async function showForm(name, data, docs) {
    formHost.replaceChildren();
    if (!name) return;
    let w;
    try {
      w = (await api('GET', `/workflows/${encodeURIComponent(name)}`)).workflow;
    } catch (e) {
      formHost.append(errorBox(e));
      return;
    }
    let schema = { type: 'object' };
    try {
      if (w.manifest && w.manifest.input_schema_json) schema = JSON.parse(w.manifest.input_schema_json);
    } catch (e) { /* no usable schema: an empty form */ }
    const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });
    const save = () => sessionStorage.setItem(DRAFT, JSON.stringify({ service: name, data: form.raw(), docs: docsList.value() }));
    const form = schemaForm(schema, data, () => save());
    const docsList = documentList(docs || [], () => save());
    const submit = h('button', { type: 'submit', class: 'primary' }, t('counter.submit'));
    const days = w.manifest && w.manifest.deadline_working_days;
    const el = h('form', { class: 'card application', novalidate: true, 'aria-labelledby': 'app-h' },
      h('h2', { id: 'app-h' }, serviceTitle(w)),
      days ? h('p', { class: 'hint' }, t('counter.deadline', { days: fmtNumber(days) })) : null,
      summary,
      form.el,
      h('fieldset', { class: 'documents' }, h('legend', {}, t('counter.documents')), docsList.el),
      h('div', { class: 'actions' }, submit));
    el.addEventListener('submit', async (e) => {
      e.preventDefault();
      save();
      summary.hidden = true;
      summary.replaceChildren();
      const errors = form.validate();
      const docErrors = docsList.validate();
      if (errors.length || docErrors.length) {
        summary.hidden = false;
        summary.append(h('p', {}, t('counter.fixErrors', { count: fmtNumber(errors.length + docErrors.length) })));
        if (errors.length) errors[0].focus(); else docErrors[0].focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = t('counter.submitting');
      try {
        const body = { service: name, input_json: JSON.stringify(form.value()), request_id: draftRequestId() };
        const docs2 = docsList.value();
        if (docs2.length) body.documents = docs2;
        const r = await api('POST', '/cases', body);
        sessionStorage.removeItem(DRAFT);
        sessionStorage.removeItem('onewindow.requestId');
        const rec = { id: r.case_id, service: serviceTitle(w), serviceName: name, created: r.created_at_ms || Date.now(), due: r.due_date || '' };
        sessionStorage.setItem('onewindow.receipt', JSON.stringify(rec));
        receipt(ctx, rec);
        announce(`${t('receipt.caseNumber')} ${r.case_id}`);
      } catch (ex) {
        if (ex.code === 'UNAUTHENTICATED') return;
        submit.disabled = false;
        submit.textContent = t('counter.submit');
        summary.hidden = false;
        summary.append(h('p', {}, t('counter.serverRejected'), ' ', t(`code.${ex.code}`)));
        const marked = ex.code === 'INVALID_ARGUMENT' ? form.serverErrors(ex.message, ex.fields) : [];
        if (!marked.length) summary.append(h('p', { class: 'detail', lang: 'en' }, ex.message));
        summary.focus();
      }
    });
    formHost.append(el);
  }
  select.addEventListener('change', () => {
    sessionStorage.removeItem(DRAFT);
    sessionStorage.removeItem('onewindow.requestId');
    showForm(select.value);
  });
  if (draft.service) await showForm(draft.service, draft.data, draft.docs);
  return undefined;
}

// One request id per application being typed, so a retried submission
// (a lost answer, a double click) does not open a second case.
function draftRequestId() {
  let id = sessionStorage.getItem('onewindow.requestId');
  if (!id) {
    id = `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    sessionStorage.setItem('onewindow.requestId', id);
  }
  return id;
}
