// A rejection only the server can make reaches the field it names: the
// service's schema is tightened (a new version deployed with owctl) while
// the clerk is typing; the submission is refused and the field is marked.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { server, signIn, checkA11y, checkLanguage, screenshot } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const owctl = process.env.OWCTL || path.join(path.dirname(process.env.ONEWINDOWD), 'owctl');

function deploy(dir, manifest) {
  fs.writeFileSync(path.join(dir, 'strict-sign.service.yaml'), manifest);
  const out = execFileSync(owctl, ['--addr', server.grpc, '--token-file', path.join(dir, 'token'),
    'workflow', 'deploy', path.join(dir, 'strict-sign.asl.yaml')], { encoding: 'utf8' });
  return out.trim();
}

test('a server-side schema rejection is shown on its field, in Portuguese', async ({ page }) => {
  test.skip(!fs.existsSync(owctl), `no owctl at ${owctl}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-strict-'));
  fs.writeFileSync(path.join(dir, 'token'), server.tokens.admin, { mode: 0o600 });
  fs.copyFileSync(path.join(root, 'workflows', 'shop-sign.asl.yaml'), path.join(dir, 'strict-sign.asl.yaml'));
  const base = fs.readFileSync(path.join(root, 'workflows', 'shop-sign.service.yaml'), 'utf8')
    .replace(/case_prefix: SG/, 'case_prefix: ST')
    .replace(/pt: Licença de afixação permanente de reclamos e tabuletas/, 'pt: Licença de teste estrita')
    .replace(/en: Permanent shop-sign and advertisement licence/, 'en: Strict test licence')
    .replace(/zh-Hant: 長期廣告及招牌准照/, 'zh-Hant: 嚴格測試准照');
  expect(deploy(dir, base)).toMatch(/strict-sign@\d+/);

  await signIn(page, 'counter', 'pt');
  await page.locator('#service').selectOption({ label: 'Licença de teste estrita' });
  const name = page.getByRole('group', { name: /^Applicant/ }).getByLabel(/^Name/);
  await name.fill('Farmácia Tai Ping');
  const sign = page.getByRole('group', { name: /^Sign/ });
  await sign.getByLabel(/^Address/).fill('Rua 1');
  await sign.getByLabel(/^Kind of sign/).selectOption({ label: 'wall' });
  await sign.getByLabel(/^Carrier material/).selectOption({ label: 'wood' });
  await sign.getByLabel(/^Area/).fill('2');
  await sign.getByLabel(/^Text of the sign/).fill('Tai Ping');

  // Meanwhile the service's names may have at most 4 characters.
  const strict = base.replace(/maxLength: 200/, 'maxLength: 4');
  expect(strict).not.toBe(base);
  expect(deploy(dir, strict)).toMatch(/strict-sign@\d+/);

  let status = 0;
  page.on('response', (r) => { if (r.url().endsWith('/api/v1/cases') && r.request().method() === 'POST') status = r.status(); });
  await page.locator('form.application button[type=submit]').click();
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  expect(status).toBe(400);
  const errId = (await name.getAttribute('aria-describedby')).split(' ').pop();
  await expect(page.locator(`[id="${errId}"]`)).toContainText('O servidor recusou este valor.');
  await expect(page.locator('.error-summary')).toContainText('O pedido não foi aceite.');
  await expect(page.locator('#receipt-case')).toHaveCount(0);
  await checkLanguage(page, 'pt');
  await checkA11y(page, 'server rejection pt');
  await screenshot(page, 'counter-server-error-pt');

  // Corrected, it goes through.
  await name.fill('Tai');
  await page.locator('form.application button[type=submit]').click();
  await expect(page.locator('#receipt-case')).toHaveText(/^ST-\d{4}-\d{6}-\d$/);
  fs.rmSync(dir, { recursive: true, force: true });
});
