// Delivery from `advance`: the engine's typed mail is announced by the next advance, after its
// reconcile, to a real HTTP server on loopback; a failing endpoint never fails the advance.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { gastown } from '../helpers/repo.js';
import { gtOk, mailRepo } from '../mail/helpers.js';

describe('advance delivers the mail the engine wrote', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('a down endpoint leaves it pending without failing advance; the next advance delivers it once', async () => {
    let up = false;
    const requests: { key: string; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({
          key: String(req.headers['idempotency-key']),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        res.writeHead(up ? 200 : 503).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const repo = await mailRepo(`\n[notifications.webhook.ops]\nurl = "${url}"\nbackoff = "1ms"\n`);
    cleanups.push(repo.cleanup);
    await gtOk(repo.path, [
      'molecule',
      'create',
      '--formula',
      'integration-test-full-validation',
      '--name',
      'day3',
      '--assignee',
      'polecat-1',
      '--var',
      'approver=@jgil',
    ]);
    // Writing the mail queued it; nothing was sent by `molecule create`.
    expect(requests).toEqual([]);

    const down = await gastown(['advance'], repo.path);
    expect(down.exitCode).toBe(0);
    expect(String(down.stdout)).toContain('notifications: 1 to retry (gastown notifications status)');
    expect(requests).toHaveLength(1);
    const pending = JSON.parse(await gtOk(repo.path, ['notifications', 'status', '--json'])) as {
      pending: { id: string; attempts: number }[];
    };
    expect(pending.pending).toMatchObject([{ id: 'day3.analysis.1.step-ready', attempts: 1 }]);

    up = true;
    expect(await gtOk(repo.path, ['advance'])).toContain('notifications: 1 delivered');
    expect(requests).toHaveLength(2);
    expect(requests[1]?.body).toMatchObject({
      id: 'day3.analysis.1.step-ready',
      mailbox: 'polecat-1',
      type: 'STEP_READY',
    });
    expect(requests[1]?.key).toBe(requests[0]?.key);
    await gtOk(repo.path, ['advance']);
    expect(requests).toHaveLength(2);
  });
});
