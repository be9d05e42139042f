// Pieces several views share.
import { h } from '../dom.js';
import { t, fmtDateTime } from '../i18n.js';

// An API error in the current language; the server's own words (English)
// under a disclosure marked as English.
export function errorBox(e) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('p', {}, t(`code.${e.code || 'INTERNAL'}`)),
    e.message ? h('details', {}, h('summary', {}, t('err.detail')), h('p', { lang: 'en' }, e.message)) : null);
}

export function caseLink(id, navigate, label) {
  const href = `/case/${encodeURIComponent(id)}`;
  return h('a', { href, onclick: (e) => { e.preventDefault(); navigate(href); } }, label || id);
}

export function statusText(status) {
  return t(`status.${status || 'CASE_STATUS_UNSPECIFIED'}`);
}

export function when(ms) { return fmtDateTime(ms); }

export function prettyJson(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text || ''; }
}
