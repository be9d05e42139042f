// The desks' round trip, in each language: a clerk submits a shop-sign
// application through the generated form and gets the receipt; the case is
// followed live while the IAM officer completes its tasks in the inbox;
// the supervisor's board counts what the API counts; the analyst's map
// shows the case's path. Each screen: no missing key, no other language,
// no serious axe violation, a screenshot.
import crypto from 'node:crypto';
import { test, expect } from '@playwright/test';
import { server, LANGS, api, signIn, checkLanguage, checkA11y, screenshot } from './helpers.js';

const CASE_NUMBER = /^SG-\d{4}-\d{6}-\d$/;

// Fills the shop-sign form with the keyboard only: Tab moves between
// fields, keys type and choose.
async function fillShopSignByKeyboard(page, applicant) {
  const kb = page.keyboard;
  await page.locator('#service').focus();
  await kb.press('Tab');               // applicant name (required first)
  await kb.type(applicant);
  await kb.press('Tab');               // commercial registration no
  await kb.type('45120 (SO)');
  await kb.press('Tab');               // e-mail
  await kb.type('shop@example.mo');
  await kb.press('Tab');               // telephone
  await kb.press('Tab');               // resident id
  await kb.press('Tab');               // sign address
  await kb.type('Rua de São Domingos 8');
  await kb.press('Tab');               // kind of sign (select): type-ahead
  await kb.type('wall');
  await kb.press('Tab');               // carrier (select)
  await kb.type('plastic');
  await kb.press('Tab');               // area
  await kb.type('1.8');
  await kb.press('Tab');               // illuminated (checkbox, left off)
  await kb.press('Tab');               // heritage zone (checkbox, left off)
  await kb.press('Tab');               // text
  await kb.type('太平藥房 Farmácia Tai Ping');
}

async function fillShopSign(page, applicant, area) {
  const applicantGroup = page.getByRole('group', { name: /^Applicant/ });
  await applicantGroup.getByLabel(/^Name/).fill(applicant);
  const sign = page.getByRole('group', { name: /^Sign/ });
  await sign.getByLabel(/^Address/).fill('Rua de São Domingos 8');
  await sign.getByLabel(/^Kind of sign/).selectOption({ label: 'wall' });
  await sign.getByLabel(/^Carrier material/).selectOption({ label: 'plastic' });
  await sign.getByLabel(/^Area/).fill(area);
  await sign.getByLabel(/^Text of the sign/).fill('太平藥房');
}

async function chooseService(page, name) {
  const { workflow } = await api('admin', 'GET', `/workflows/${name}`);
  return workflow;
}

async function completeInInbox(page, lang, caseId, taskType, result, shot) {
  await expect(page.locator(`#inbox-table tr[data-case="${caseId}"]`)).toHaveCount(1, { timeout: 15_000 });
  const row = page.locator(`#inbox-table tr[data-case="${caseId}"]`);
  await expect(row).toContainText(taskType);
  if (shot) {
    await checkLanguage(page, lang);
    await checkA11y(page, `inbox ${lang}`);
    await screenshot(page, `inbox-${lang}`);
  }
  await row.getByRole('link').click();
  await expect(page.locator('#task-input')).toBeVisible();
  // The task's input is exactly what the engine handed to the department.
  const task = ((await api('admin', 'GET', '/tasks?department=IAM')).tasks || [])
    .find((x) => x.case_id === caseId);
  expect(JSON.parse(await page.locator('#task-input').innerText())).toEqual(JSON.parse(task.input_json));
  if (shot) {
    await checkLanguage(page, lang);
    await checkA11y(page, `task ${lang}`);
    await screenshot(page, `task-${lang}`);
  }
  await page.locator('#task-result').fill(JSON.stringify(result));
  await page.locator('#task-result').press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('#task-status .notice')).toBeVisible();
  await page.goto(`${server.base}/inbox`);
}

for (const lang of LANGS) {
  test(`counter, inbox, board and map in ${lang}`, async ({ browser }) => {
    const clerkCtx = await browser.newContext();
    const officerCtx = await browser.newContext();
    const supCtx = await browser.newContext();
    const analystCtx = await browser.newContext();
    const clerk = await clerkCtx.newPage();
    // Nothing is fetched from anywhere but the server (a closed network).
    const foreign = [];
    for (const c of [clerkCtx, officerCtx, supCtx, analystCtx]) {
      c.on('request', (r) => { if (!r.url().startsWith(server.base) && !/^(data|blob):/.test(r.url())) foreign.push(r.url()); });
    }
    const officer = await officerCtx.newPage();
    const sup = await supCtx.newPage();
    const analyst = await analystCtx.newPage();
    const wf = await chooseService(clerk, 'shop-sign');
    const title = JSON.parse(JSON.stringify(wf.manifest.title))[lang];
    expect(title).toBeTruthy();

    // --- Counter: choose the service by its title, fill, submit. ---------
    await signIn(clerk, 'counter', lang);
    await expect(clerk).toHaveURL(/\/counter$/);
    await clerk.locator('#service').selectOption({ label: title });
    await expect(clerk.locator('#app-h')).toHaveText(title);
    await checkLanguage(clerk, lang);
    await checkA11y(clerk, `counter form ${lang}`);
    const applicant = `Loja ${lang} ${Date.now()}`;
    let posted = 0;
    clerk.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/cases')) posted += 1; });
    // An empty form never reaches the server: inline errors instead.
    await clerk.locator('form.application button[type=submit]').click();
    await expect(clerk.locator('.error-summary')).toBeVisible();
    await expect(clerk.locator('.field-error:visible').first()).toBeVisible();
    expect(posted).toBe(0);
    await expect(clerk.locator('[aria-invalid="true"]').first()).toBeFocused();
    await checkA11y(clerk, `counter errors ${lang}`);
    await screenshot(clerk, `counter-errors-${lang}`);
    if (lang === 'en') await fillShopSignByKeyboard(clerk, applicant);
    else await fillShopSign(clerk, applicant, lang === 'pt' ? '1,8' : '1.8');
    // A document handed in at the counter: the scanned file's size and
    // SHA-256 are taken in the browser (the file itself stays at the desk).
    const scan = Buffer.from(`scan of the façade ${lang}`);
    const { CATALOGUE } = await import('../../console/src/catalogue.js');
    await clerk.getByRole('button', { name: CATALOGUE[lang]['counter.addDocument'] }).click();
    await expect(clerk.getByLabel(CATALOGUE[lang]['counter.docFile'])).toBeFocused();
    await clerk.getByLabel(CATALOGUE[lang]['counter.docFile']).setInputFiles({ name: 'facade.pdf', mimeType: 'application/pdf', buffer: scan });
    await expect(clerk.getByLabel(CATALOGUE[lang]['counter.docRef'])).toHaveValue(/^DOC-[0-9A-F]{12}$/);
    await screenshot(clerk, `counter-form-${lang}`);
    await clerk.locator('form.application button[type=submit]').focus();
    await clerk.keyboard.press('Enter');

    // --- The receipt. ----------------------------------------------------
    await expect(clerk.locator('#receipt-case')).toHaveText(CASE_NUMBER);
    expect(posted).toBe(1);
    const caseId = (await clerk.locator('#receipt-case').innerText()).trim();
    const { case: c } = await api('admin', 'GET', `/cases/${caseId}`);
    expect(c.service).toBe('shop-sign');
    expect(JSON.parse(c.input_json).applicant.name).toBe(applicant);
    expect(JSON.parse(c.input_json).sign.area_m2).toBe(1.8);
    await expect(clerk.locator('#receipt-service')).toHaveText(title);
    expect(c.documents).toHaveLength(1);
    expect(c.documents[0]).toMatchObject({ name: 'facade.pdf', media_type: 'application/pdf' });
    expect(c.documents[0].sha256).toBe(crypto.createHash('sha256').update(scan).digest('hex'));
    expect(c.due_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const [y, m, d] = c.due_date.split('-').map(Number);
    const dueText = new Intl.DateTimeFormat({ 'zh-Hant': 'zh-Hant-MO', pt: 'pt-PT', en: 'en-GB' }[lang], { dateStyle: 'long', timeZone: 'UTC' })
      .format(new Date(Date.UTC(y, m - 1, d)));
    await expect(clerk.locator('#receipt-due')).toHaveText(dueText);
    await expect(clerk.locator('.qr svg')).toBeVisible();
    await checkLanguage(clerk, lang);
    await checkA11y(clerk, `receipt ${lang}`);
    await screenshot(clerk, `receipt-${lang}`);
    await clerk.emulateMedia({ media: 'print' });
    await expect(clerk.locator('#top')).toBeHidden();
    await expect(clerk.locator('#receipt-case')).toBeVisible();
    await clerk.emulateMedia({ media: 'screen' });

    // --- Follow the case live. -------------------------------------------
    await clerk.getByRole('link', { name: await clerk.locator('.receipt .actions a').first().innerText() }).click();
    await expect(clerk).toHaveURL(new RegExp(`/case/${caseId}$`));
    await expect(clerk.locator('#case-status [data-status]')).toHaveAttribute('data-status', 'CASE_STATUS_RUNNING');
    await expect(clerk.locator('#case-departments')).toHaveText('IAM');
    await checkLanguage(clerk, lang);
    await checkA11y(clerk, `case ${lang}`);
    await screenshot(clerk, `case-running-${lang}`);

    // --- The IAM officer's inbox. ----------------------------------------
    await signIn(officer, 'department', lang);
    await expect(officer).toHaveURL(/\/inbox$/);
    await completeInInbox(officer, lang, caseId, 'sign-assessment', { approved: true }, true);
    await completeInInbox(officer, lang, caseId, 'issue-sign-licence', { licence_no: `L-${lang}` }, false);

    // The clerk's page turned to completed by itself (no reload).
    await expect(clerk.locator('#case-status [data-status]')).toHaveAttribute('data-status', 'CASE_STATUS_SUCCEEDED', { timeout: 15_000 });
    await expect(clerk.locator('#case-status')).toContainText(CATALOGUE[lang]['status.CASE_STATUS_SUCCEEDED']);
    await screenshot(clerk, `case-done-${lang}`);

    // --- The supervisor's board matches the API. -------------------------
    await signIn(sup, 'supervisor', lang);
    await expect(sup).toHaveURL(/\/board$/);
    await expect(sup.locator('#board-services')).toBeVisible();
    const { board } = await api('supervisor', 'GET', '/board');
    const fmt = new Intl.NumberFormat({ 'zh-Hant': 'zh-Hant-MO', pt: 'pt-PT', en: 'en-GB' }[lang]);
    for (const r of board.cases || []) {
      await expect(sup.locator(`#board-services tr[data-service="${r.service}"] td[data-status="${r.status}"]`))
        .toHaveText(fmt.format(Number(r.count)));
    }
    const succeeded = (board.cases || []).find((r) => r.service === 'shop-sign' && r.status === 'CASE_STATUS_SUCCEEDED');
    expect(Number(succeeded.count)).toBeGreaterThanOrEqual(1);
    for (const dpt of board.departments || []) {
      await expect(sup.locator(`#board-departments tr[data-department="${dpt.department}"] td[data-col="open"]`))
        .toHaveText(fmt.format(Number(dpt.open_tasks)));
    }
    await checkLanguage(sup, lang);
    await checkA11y(sup, `board ${lang}`);
    await screenshot(sup, `board-${lang}`);
    // Click through to the cases of the service.
    await sup.locator('#board-services tr[data-service="shop-sign"] th a').click();
    await expect(sup).toHaveURL(/\/find\?service=shop-sign/);
    await expect(sup.locator('#find-results')).toContainText(caseId);
    await checkLanguage(sup, lang);
    await checkA11y(sup, `find ${lang}`);
    await sup.locator('#find-results').getByRole('link', { name: caseId }).click();
    await expect(sup.locator('#case-status [data-status]')).toHaveAttribute('data-status', 'CASE_STATUS_SUCCEEDED');

    // --- The map: the analyst sees the workflow drawn; the supervisor
    // (who may read cases) sees the case's path through it. ---------------
    await signIn(analyst, 'analyst', lang, '/map?workflow=shop-sign');
    await expect(analyst).toHaveURL(/\/map/);
    await expect(analyst.locator('#map-graph svg')).toBeVisible({ timeout: 20_000 });
    await expect(analyst.locator('#map-graph svg [id="state-IssueSignLicence"]')).toHaveCount(1);
    await expect(analyst.locator('#map-graph svg .passed')).toHaveCount(0);
    await expect(analyst.locator('#map-graph')).toHaveAttribute('aria-label', new RegExp(title));
    await checkLanguage(analyst, lang);
    await checkA11y(analyst, `map ${lang}`);
    await screenshot(analyst, `map-${lang}`);
    await sup.goto(`${server.base}/map?workflow=shop-sign&case=${caseId}`);
    await expect(sup.locator('#map-graph svg')).toBeVisible({ timeout: 20_000 });
    await expect(sup.locator('#map-graph svg [id="state-IssueSignLicence"]')).toHaveClass(/passed/);
    await expect(sup.locator('#map-graph svg [id="state-SignAssessment"]')).toHaveClass(/passed/);
    expect(await sup.locator('#map-graph svg .current, #map-graph svg .failed').count()).toBe(0);
    await checkLanguage(sup, lang);
    await checkA11y(sup, `map with case ${lang}`);
    await screenshot(sup, `map-case-${lang}`);

    // The case's history as the clerk sees it names the officer.
    await expect(clerk.locator('table.data tbody')).toContainText('iam-officer');
    expect(foreign).toEqual([]);
    for (const ctx of [clerkCtx, officerCtx, supCtx, analystCtx]) await ctx.close();
  });
}
