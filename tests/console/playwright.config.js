// Browser tests of the web console against a real onewindowd (see
// server.js), driving Debian's chromium headless.
import { defineConfig } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.env.CONSOLE_TEST_OUT || path.join(here, '..', '..', 'console', 'test-results');

export default defineConfig({
  testDir: here,
  testMatch: /.*\.spec\.js$/,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 150_000,
  expect: { timeout: 10_000 },
  outputDir: path.join(out, 'artifacts'),
  reporter: [['list']],
  globalSetup: path.join(here, 'global-setup.js'),
  globalTeardown: path.join(here, 'global-teardown.js'),
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1366, height: 768 },
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
