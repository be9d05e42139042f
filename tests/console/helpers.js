// Shared by the console's browser tests: the server global-setup.js started,
// sign-in, the accessibility check, screenshots and direct API calls.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.env.CONSOLE_TEST_OUT || path.join(here, '..', '..', 'console', 'test-results');

export const server = JSON.parse(fs.readFileSync(path.join(out, 'server.json'), 'utf8'));
export const LANGS = ['zh-Hant', 'pt', 'en'];

export const consoleSrc = path.join(here, '..', '..', 'console', 'src');

// The catalogue, loaded as the console loads it.
export async function catalogue() {
  return import(path.join(here, '..', '..', 'console', 'src', 'catalogue.js'));
}

export async function api(role, method, p, body) {
  const r = await fetch(`${server.base}/api/v1${p}`, {
    method,
    headers: {
      Authorization: `Bearer ${server.tokens[role]}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

// Opens the console, picks the language with the header's switch and signs
// in with the role's token.
export async function signIn(page, role, lang, startPath = '/') {
  await page.goto(`${server.base}${startPath}`);
  await page.locator('#lang').selectOption(lang);
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
  await page.locator('#signin-token').fill(server.tokens[role]);
  await page.locator('#signin-token').press('Enter');
  await expect(page.locator('#signout')).toBeVisible();
}

// No catalogue key left untranslated on screen, and no other language's
// catalogue string shown (a page speaks one language).
export async function checkLanguage(page, lang) {
  const { CATALOGUE } = await catalogue();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
  const text = await page.evaluate(() => {
    // Text outside elements marked with another language (the server's own
    // English detail is marked lang="en").
    const lang = document.documentElement.lang;
    const parts = [];
    const walk = (n) => {
      if (n.nodeType === Node.TEXT_NODE) { parts.push(n.textContent); return; }
      if (n.nodeType !== Node.ELEMENT_NODE) return;
      if (n.hasAttribute('lang') && n.getAttribute('lang') !== lang && n !== document.documentElement) return;
      if (['SCRIPT', 'STYLE', 'PRE'].includes(n.tagName) || n.closest('#lang') || n.getAttribute('translate') === 'no') return;
      for (const c of n.childNodes) walk(c);
    };
    walk(document.body);
    return parts.join('\n');
  });
  expect(text, 'a catalogue key is missing').not.toContain('⟦');
  const mine = new Set(Object.values(CATALOGUE[lang]));
  for (const other of LANGS.filter((l) => l !== lang)) {
    for (const s of Object.values(CATALOGUE[other])) {
      if (mine.has(s) || s.length < 8 || s.includes('{')) continue;
      const esc = s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const re = new RegExp(`(^|[^\\p{L}])${esc}($|[^\\p{L}])`, 'u');
      expect(re.test(text), `"${s}" (${other}) shown on a ${lang} page:\n${text}`).toBe(false);
    }
  }
}

// axe-core: no serious or critical violation.
export async function checkA11y(page, name) {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${name}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`)).toEqual([]);
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(out, 'screens', `${name}.png`), fullPage: true });
}

// The open tasks of `department` (as admin).
export async function tasksOf(department) {
  return (await api('admin', 'GET', `/tasks?department=${department}`)).tasks || [];
}
