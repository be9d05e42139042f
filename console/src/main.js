// The console's shell: sign-in, the role's navigation, the language switch
// and client-side routes (/counter, /find, /case/ID, /inbox, /task/...,
// /board, /map).
import './style.css';
import { api, getToken, setToken, setUnauthenticatedHandler, forgetWorkflows } from './api.js';
import { t, getLang, setLang } from './i18n.js';
import { h, announce } from './dom.js';
import { counterView } from './views/counter.js';
import { findView } from './views/find.js';
import { caseView } from './views/case.js';
import { inboxView, taskView } from './views/inbox.js';
import { boardView } from './views/board.js';
import { mapView } from './views/map.js';

// Which roles may open which view (ARCHITECTURE.md §3.1).
const ROUTES = [
  { re: /^\/counter$/, view: counterView, roles: ['counter', 'admin'], nav: 'nav.counter', path: '/counter' },
  { re: /^\/find$/, view: findView, roles: ['counter', 'supervisor', 'admin'], nav: 'nav.find', path: '/find' },
  { re: /^\/inbox$/, view: inboxView, roles: ['counter', 'department', 'admin'], nav: 'nav.inbox', path: '/inbox' },
  { re: /^\/board$/, view: boardView, roles: ['supervisor', 'admin'], nav: 'nav.board', path: '/board' },
  { re: /^\/map$/, view: mapView, roles: ['analyst', 'supervisor', 'admin'], nav: 'nav.map', path: '/map' },
  { re: /^\/case\/([^/]+)$/, view: caseView, roles: ['counter', 'supervisor', 'admin'] },
  { re: /^\/task\/([^/]+)$/, view: taskView, roles: ['counter', 'department', 'admin'] },
];

const HOME = { counter: '/counter', department: '/inbox', supervisor: '/board', analyst: '/map', admin: '/counter' };

export const session = { who: null };
let cleanup = null;   // the current view's teardown (closes streams)
let expired = false;  // the last sign-out came from a 401

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, '', path); else history.pushState({}, '', path);
  render();
}

function roleName(role) { return t(`role.${role}`); }

function renderChrome() {
  document.title = t('app.name');
  document.getElementById('brand-name').textContent = t('app.name');
  document.getElementById('skip-link').textContent = t('app.skip');
  document.getElementById('lang-label').textContent = t('app.language');
  document.getElementById('lang').value = getLang();
  const out = document.getElementById('signout');
  out.textContent = t('app.signout');
  out.hidden = !session.who;
  const who = document.getElementById('who');
  who.replaceChildren();
  if (session.who) {
    // The principal's name is data, not text of the page's language.
    const [before, after] = t('app.signedInAs', { name: '\u0000', role: roleName(session.who.role) }).split('\u0000');
    who.append(before, h('bdi', { translate: 'no' }, session.who.principal || 'admin'), after);
  }
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('app.nav'));
  nav.replaceChildren();
  if (!session.who) return;
  const ul = h('ul');
  for (const r of ROUTES) {
    if (!r.nav || !r.roles.includes(session.who.role)) continue;
    const current = location.pathname === r.path;
    ul.append(h('li', {}, h('a', {
      href: r.path, 'aria-current': current ? 'page' : undefined,
      onclick: (e) => { e.preventDefault(); sessionStorage.removeItem('onewindow.receipt'); navigate(r.path); },
    }, t(r.nav))));
  }
  nav.append(ul);
}

function signinView(main) {
  const tokenId = 'signin-token';
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert', hidden: true });
  const input = h('input', {
    id: tokenId, name: 'token', type: 'password', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'signin-error',
  });
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, t('signin.title')),
    expired ? h('p', { class: 'notice', role: 'status' }, t('signin.expired')) : null,
    h('p', {}, t('signin.intro')),
    h('div', { class: 'field' }, h('label', { for: tokenId }, t('signin.token')), input),
    err,
    h('button', { type: 'submit', class: 'primary' }, t('signin.submit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    try {
      session.who = await api('GET', '/whoami', undefined, { quiet401: true });
      expired = false;
      forgetWorkflows();
      const back = sessionStorage.getItem('onewindow.back');
      sessionStorage.removeItem('onewindow.back');
      navigate(back && back !== '/signin' ? back : HOME[session.who.role] || '/', { replace: true });
    } catch (ex) {
      setToken('');
      err.hidden = false;
      err.textContent = ex.code === 'UNAUTHENTICATED' ? t('signin.bad') : t(`code.${ex.code}`);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  main.append(form);
  input.focus();
}

function deniedView(main, route) {
  main.append(h('section', { class: 'card narrow', 'aria-labelledby': 'denied-h' },
    h('h1', { id: 'denied-h' }, t('denied.title')),
    h('p', {}, t('denied.text', {
      role: roleName(session.who.role),
      roles: route.roles.map(roleName).join(getLang() === 'zh-Hant' ? '、' : ', '),
    })),
    h('p', {}, h('a', {
      href: HOME[session.who.role],
      onclick: (e) => { e.preventDefault(); navigate(HOME[session.who.role]); },
    }, t('denied.home')))));
}

export async function render() {
  if (cleanup) { try { cleanup(); } catch (e) { /* ignore */ } cleanup = null; }
  const main = document.getElementById('main');
  main.replaceChildren();
  const path = location.pathname;
  if (!getToken() || !session.who) {
    if (getToken() && !session.who) {
      try {
        session.who = await api('GET', '/whoami', undefined, { quiet401: true });
      } catch (e) {
        setToken('');
      }
      if (session.who) return render();
    }
    if (path !== '/signin') sessionStorage.setItem('onewindow.back', path + location.search);
    renderChrome();
    signinView(main);
    return;
  }
  renderChrome();
  if (path === '/' || path === '/signin' || path === '/index.html') {
    navigate(HOME[session.who.role] || '/find', { replace: true });
    return;
  }
  for (const r of ROUTES) {
    const m = r.re.exec(path);
    if (!m) continue;
    if (!r.roles.includes(session.who.role)) { deniedView(main, r); return; }
    const ctx = { main, who: session.who, params: m.slice(1).map(decodeURIComponent), navigate };
    const c = await r.view(ctx);
    if (typeof c === 'function') cleanup = c;
    return;
  }
  main.append(h('h1', {}, t('notfound.title')));
}

setUnauthenticatedHandler(() => {
  // The token expired or was revoked: back to sign-in, keeping the page
  // (forms keep their drafts in sessionStorage).
  setToken('');
  session.who = null;
  expired = true;
  sessionStorage.setItem('onewindow.back', location.pathname + location.search);
  history.pushState({}, '', '/signin');
  render();
});

document.getElementById('lang').addEventListener('change', (e) => {
  setLang(e.target.value);
  render().then(() => {
    announce(t('app.language'));
    document.getElementById('lang').focus();
  });
});
document.getElementById('signout').addEventListener('click', () => {
  setToken('');
  session.who = null;
  expired = false;
  forgetWorkflows();
  history.pushState({}, '', '/signin');
  render();
});
window.addEventListener('popstate', render);

setLang(getLang());
render();
