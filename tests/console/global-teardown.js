// Stops the onewindowd global-setup.js started and removes its store.
import fs from 'node:fs';
import path from 'node:path';

export default async function globalTeardown() {
  const file = process.env.CONSOLE_SERVER_JSON;
  if (!file || !fs.existsSync(file)) return;
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  try { process.kill(state.pid, 'SIGTERM'); } catch (e) { return; }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try { process.kill(state.pid, 0); } catch (e) { break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  try { process.kill(state.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  if (!process.env.CONSOLE_KEEP_DATA) fs.rmSync(state.dir, { recursive: true, force: true });
}
