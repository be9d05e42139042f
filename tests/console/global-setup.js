// Starts a real onewindowd ($ONEWINDOWD) on free loopback ports with a temp
// store, an auth file with one principal per role, the demo workflows of
// workflows/ and the calendars of deploy/calendars; writes what the tests
// need (base URL, tokens) to $CONSOLE_TEST_OUT/server.json.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const PRINCIPALS = [
  { name: 'clerk-1', role: 'counter' },
  { name: 'iam-officer', role: 'department', department: 'IAM' },
  { name: 'supervisor-1', role: 'supervisor' },
  { name: 'analyst-1', role: 'analyst' },
  { name: 'admin-1', role: 'admin' },
];

export default async function globalSetup() {
  const bin = process.env.ONEWINDOWD;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`ONEWINDOWD must name the onewindowd binary (got ${bin || 'nothing'})`);
  }
  const out = process.env.CONSOLE_TEST_OUT || path.join(root, 'console', 'test-results');
  fs.mkdirSync(path.join(out, 'screens'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-console-'));
  const tokens = {};
  let yaml = 'principals:\n';
  for (const p of PRINCIPALS) {
    const tok = crypto.randomBytes(24).toString('base64url');
    tokens[p.role] = tok;
    const hash = crypto.createHash('sha256').update(tok).digest('hex');
    yaml += `  - {name: ${p.name}, role: ${p.role}${p.department ? `, department: ${p.department}` : ''}, token_sha256: ${hash}}\n`;
  }
  fs.writeFileSync(path.join(dir, 'auth.yaml'), yaml, { mode: 0o600 });
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const log = fs.openSync(path.join(out, 'onewindowd.log'), 'w');
  const child = spawn(bin, [
    '--listen', `127.0.0.1:${grpcPort}`,
    '--http-listen', `127.0.0.1:${httpPort}`,
    '--data-dir', path.join(dir, 'data'),
    '--workflows', path.join(root, 'workflows'),
    '--calendar-dir', path.join(root, 'deploy', 'calendars'),
    '--auth-file', path.join(dir, 'auth.yaml'),
  ], { stdio: ['ignore', log, log], detached: false });
  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`onewindowd exited with ${child.exitCode}; see ${path.join(out, 'onewindowd.log')}`);
    }
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch (e) { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`onewindowd did not become ready on ${base}; see ${path.join(out, 'onewindowd.log')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const state = { base, grpc: `127.0.0.1:${grpcPort}`, tokens, pid: child.pid, dir, out };
  fs.writeFileSync(path.join(out, 'server.json'), JSON.stringify(state, null, 2));
  child.unref();
  process.env.CONSOLE_SERVER_JSON = path.join(out, 'server.json');
}
