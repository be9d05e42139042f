// What goes wrong at the desks: a role opening a view it may not, an
// expired token in the middle of typing, a counter task round trip.
import crypto from 'node:crypto';
import { test, expect } from '@playwright/test';
import { server, api, signIn, checkLanguage, checkA11y, screenshot, tasksOf } from './helpers.js';

test('a department officer opening the board gets a clear page in each language', async ({ page }) => {
  await signIn(page, 'department', 'pt');
  await page.goto(`${server.base}/board`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Não disponível para a sua função');
  await checkLanguage(page, 'pt');
  await checkA11y(page, 'denied pt');
  await page.locator('#lang').selectOption('zh-Hant');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('您的角色不可使用此頁');
  await checkLanguage(page, 'zh-Hant');
  await screenshot(page, 'denied-zh-Hant');
  // The navigation offers only the inbox.
  await expect(page.locator('#nav a')).toHaveCount(1);
});

test('a wrong token is refused on the sign-in page', async ({ page }) => {
  await page.goto(`${server.base}/`);
  await page.locator('#lang').selectOption('en');
  await page.locator('#signin-token').fill('not-a-token');
  await page.locator('#signin-token').press('Enter');
  await expect(page.locator('#signin-error')).toHaveText('This token was not accepted. Check it and try again.');
  await expect(page.locator('#signin-token')).toBeFocused();
  await checkA11y(page, 'signin');
  await screenshot(page, 'signin-en');
});

test('an expired session returns to sign-in and keeps the typed form', async ({ page }) => {
  await signIn(page, 'counter', 'en');
  await page.locator('#service').selectOption({ label: 'Permanent shop-sign and advertisement licence' });
  await page.getByRole('group', { name: /^Applicant/ }).getByLabel(/^Name/).fill('Kept Across Sign-in');
  await page.getByRole('group', { name: /^Sign/ }).getByLabel(/^Address/).fill('Travessa 1');
  // The token stops working (as when it expires or is revoked).
  await page.evaluate(() => sessionStorage.setItem('onewindow.token', 'expired-token'));
  await page.locator('form.application button[type=submit]').click();
  // Validation stops the empty required fields first; fill them and retry.
  const sign = page.getByRole('group', { name: /^Sign/ });
  await sign.getByLabel(/^Kind of sign/).selectOption({ label: 'wall' });
  await sign.getByLabel(/^Carrier material/).selectOption({ label: 'wood' });
  await sign.getByLabel(/^Area/).fill('2');
  await sign.getByLabel(/^Text of the sign/).fill('Kept');
  await page.locator('form.application button[type=submit]').click();
  await expect(page.locator('#signin-token')).toBeVisible();
  await expect(page.getByText('Your session has ended. Sign in again; what you typed is kept.')).toBeVisible();
  await page.locator('#signin-token').fill(server.tokens.counter);
  await page.locator('#signin-token').press('Enter');
  await expect(page).toHaveURL(/\/counter$/);
  await expect(page.getByRole('group', { name: /^Applicant/ }).getByLabel(/^Name/)).toHaveValue('Kept Across Sign-in');
  await expect(page.getByRole('group', { name: /^Sign/ }).getByLabel(/^Text of the sign/)).toHaveValue('Kept');
  await page.locator('form.application button[type=submit]').click();
  await expect(page.locator('#receipt-case')).toHaveText(/^SG-/);
});

test('a counter task round trip: IAM asks for documents, the counter brings them', async ({ browser }) => {
  // A case submitted through the API; IAM asks for more documents.
  const input = {
    applicant: { name: 'Round Trip Lda' },
    sign: { address: 'Avenida 2', kind: 'wall', carrier: 'wood', area_m2: 2, illuminated: false, heritage_zone: false, text: 'RT' },
  };
  const sub = await api('counter', 'POST', '/cases', { service: 'shop-sign', input_json: JSON.stringify(input) });
  const id = sub.case_id;
  let task;
  await expect.poll(async () => { task = (await tasksOf('IAM')).find((x) => x.case_id === id); return !!task; }).toBe(true);
  await api('department', 'POST', '/tasks/fail', { token: task.token, error: 'Dept.MoreDocumentsNeeded', cause: 'owner consent' });

  // The clerk finds the COUNTER task in the counter's inbox and answers it.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, 'counter', 'zh-Hant', '/inbox');
  await expect(page).toHaveURL(/\/inbox$/);
  const row = page.locator(`#inbox-table tr[data-case="${id}"]`);
  await expect(row).toContainText('more-documents', { timeout: 15_000 });
  await checkLanguage(page, 'zh-Hant');
  await checkA11y(page, 'counter inbox zh-Hant');
  await screenshot(page, 'counter-inbox-zh-Hant');
  await row.locator('a.button').click();
  await expect(page.locator('#task-input')).toContainText('owner consent');
  // The scanned consent: its size and SHA-256 are taken in the browser.
  const consent = Buffer.from('%PDF-1.4 owner consent\n');
  await page.getByLabel('掃描檔案').setInputFiles({ name: 'consent.pdf', mimeType: 'application/pdf', buffer: consent });
  await expect(page.getByLabel('文件名稱')).toHaveValue('consent.pdf');
  await page.getByLabel('參考編號').fill('DOC-1');
  await page.locator('form:has(#task-result) button[type=submit]').click();
  await expect(page.locator('#task-status .notice')).toHaveText('工作已完成。');

  // The case is back with IAM's assessment, with the documents in its data.
  await expect.poll(async () => (await api('counter', 'GET', `/cases/${id}`)).case.current_states).toEqual(['SignAssessment']);
  const again = (await tasksOf('IAM')).find((x) => x.case_id === id);
  const brought = JSON.parse(again.input_json).documents.municipal.documents[0];
  expect(brought).toMatchObject({ id: 'DOC-1', name: 'consent.pdf', media_type: 'application/pdf' });
  expect(brought.sha256).toBe(crypto.createHash('sha256').update(consent).digest('hex'));
  expect(Number(brought.size_bytes)).toBe(consent.length);

  // Documents added and the case cancelled from the case page.
  await page.goto(`${server.base}/case/${id}`);
  // A started row without its file is refused before sending.
  await page.getByLabel('參考編號').fill('DOC-2');
  await page.locator('form:has(#add-h) button[type=submit]').click();
  await expect(page.getByLabel('掃描檔案')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('掃描檔案')).toBeFocused();
  await page.getByLabel('掃描檔案').setInputFiles({ name: 'facade.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('jpeg bytes') });
  await page.getByLabel('文件名稱').fill('Façade photo');
  await page.locator('form:has(#add-h) button[type=submit]').click();
  await expect(page.locator('#case-docs')).toContainText('DOC-2');
  await page.locator('#cancel-reason').fill('applicant withdrew');
  await page.locator('form:has(#cancel-h) button[type=submit]').click();
  await expect(page.locator('#case-status [data-status]')).toHaveAttribute('data-status', 'CASE_STATUS_CANCELLED');
  const c = (await api('counter', 'GET', `/cases/${id}`)).case;
  expect(c.status).toBe('CASE_STATUS_CANCELLED');
  expect(c.documents.map((d) => d.id)).toContain('DOC-2');
  await ctx.close();
});

test('the counter form and the board fit a tablet (768×1024) without sideways scrolling', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 768, height: 1024 } });
  const page = await ctx.newPage();
  await signIn(page, 'counter', 'zh-Hant');
  await page.locator('#service').selectOption({ label: '長期廣告及招牌准照' });
  await expect(page.locator('#app-h')).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
  await checkA11y(page, 'counter tablet');
  await screenshot(page, 'counter-tablet-zh-Hant');
  const sup = await (await browser.newContext({ viewport: { width: 768, height: 1024 } })).newPage();
  await signIn(sup, 'supervisor', 'pt');
  await expect(sup.locator('#board')).not.toBeEmpty();
  expect(await sup.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
  await screenshot(sup, 'board-tablet-pt');
  await ctx.close();
  await sup.context().close();
});
