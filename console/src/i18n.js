// The current language, its strings and its date and number formats.
import { CATALOGUE, LANGUAGES } from './catalogue.js';

const KEY = 'onewindow.lang';
const INTL = { 'zh-Hant': 'zh-Hant-MO', pt: 'pt-PT', en: 'en-GB' };

function initial() {
  const saved = localStorage.getItem(KEY);
  if (LANGUAGES.includes(saved)) return saved;
  for (const l of navigator.languages || []) {
    if (/^zh/i.test(l)) return 'zh-Hant';
    if (/^pt/i.test(l)) return 'pt';
    if (/^en/i.test(l)) return 'en';
  }
  return 'zh-Hant';
}

let lang = initial();

export function getLang() { return lang; }

export function setLang(l) {
  if (!LANGUAGES.includes(l)) return;
  lang = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
}

// The string for `key` with {name} placeholders filled; a missing key shows
// as ⟦key⟧ so that tests and people notice it.
export function t(key, params = {}) {
  const s = CATALOGUE[lang][key];
  if (s === undefined) return `⟦${key}⟧`;
  return s.replace(/\{(\w+)\}/g, (m, p) => (p in params ? String(params[p]) : m));
}

export function intlLocale() { return INTL[lang]; }

export function fmtDateTime(ms) {
  const n = Number(ms);
  if (!n) return t('case.none');
  return new Intl.DateTimeFormat(INTL[lang], { dateStyle: 'medium', timeStyle: 'short' })
    .format(new Date(n));
}

export function fmtTime(ms) {
  return new Intl.DateTimeFormat(INTL[lang], { hour: '2-digit', minute: '2-digit' })
    .format(new Date(Number(ms)));
}

// A calendar date 'YYYY-MM-DD' (no time zone).
export function fmtDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  if (!m) return t('case.none');
  return new Intl.DateTimeFormat(INTL[lang], { dateStyle: 'long', timeZone: 'UTC' })
    .format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])));
}

export function fmtNumber(n) {
  return new Intl.NumberFormat(INTL[lang]).format(Number(n || 0));
}

export function fmtAge(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  if (s < 60) return t('age.s', { n: fmtNumber(s) });
  if (s < 3600) return t('age.m', { n: fmtNumber(Math.floor(s / 60)) });
  if (s < 86400) return t('age.h', { n: fmtNumber(Math.floor(s / 3600)) });
  return t('age.d', { n: fmtNumber(Math.floor(s / 86400)) });
}

// A manifest's title map {zh-Hant, pt, en} in the current language, else
// `fallback`.
export function localTitle(map, fallback) {
  if (map && map[lang]) return map[lang];
  return fallback;
}

// A schema node's text in the current language: `x-title` / `x-description`
// maps when the schema has them, else the plain keyword.
export function schemaText(node, word) {
  const m = node && node[`x-${word}`];
  if (m && typeof m === 'object' && m[lang]) return m[lang];
  return node ? node[word] : undefined;
}

// The language of a schema node's text: the current one when the schema
// translates it (x-title...), else the language the schema is written in
// (`x-lang`, default English), so that the page marks it (WCAG 3.1.2).
export function schemaLang(node, word, root) {
  const m = node && node[`x-${word}`];
  if (m && typeof m === 'object' && m[lang]) return lang;
  return (root && root['x-lang']) || 'en';
}
