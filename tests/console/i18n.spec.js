// Every key of the console's catalogue exists in every language, with the
// same placeholders.
import { test, expect } from '@playwright/test';
import { catalogue, consoleSrc } from './helpers.js';

test('catalogue: every key in zh-Hant, pt and en with the same placeholders', async () => {
  const { CATALOGUE, LANGUAGES } = await catalogue();
  expect(Object.keys(CATALOGUE).sort()).toEqual([...LANGUAGES].sort());
  const all = new Set(LANGUAGES.flatMap((l) => Object.keys(CATALOGUE[l])));
  for (const l of LANGUAGES) {
    const missing = [...all].filter((k) => !(k in CATALOGUE[l]));
    expect(missing, `missing in ${l}`).toEqual([]);
    for (const k of all) {
      const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join(',');
      expect(ph(CATALOGUE[l][k]), `placeholders of ${k} in ${l}`).toBe(ph(CATALOGUE.en[k]));
      expect(CATALOGUE[l][k].trim(), `${k} empty in ${l}`).not.toBe('');
    }
  }
});

test('catalogue: every key the console uses exists', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { CATALOGUE } = await catalogue();
  const dir = consoleSrc;
  const files = [];
  const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) { if (f.isDirectory()) walk(path.join(d, f.name)); else if (f.name.endsWith('.js')) files.push(path.join(d, f.name)); } };
  walk(dir);
  const used = new Set();
  for (const f of files) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/\bt\('([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1]);
  }
  expect(used.size).toBeGreaterThan(50);
  expect([...used].filter((k) => !(k in CATALOGUE.en))).toEqual([]);
});
