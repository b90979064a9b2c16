// The engine's typed mail and the outbox together: a transition's message written again (reconcile
// runs twice, or after the delivery) is announced once.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { writeMailFiles } from '../../src/mail/send.js';
import { planTransitionMail } from '../../src/mail/typed.js';
import { deliverPending, outboxStatus } from '../../src/notify/deliver.js';
import { tempDir } from '../helpers/repo.js';
import { mailConfig } from '../mail/helpers.js';

describe('outbox', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('announces an engine message once however often reconcile writes it', async () => {
    const keys: string[] = [];
    const server = createServer((req, res) => {
      keys.push(String(req.headers['idempotency-key']));
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const config = mailConfig(`\n[notifications.webhook.ops]\nurl = "${url}"\n`);
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const { files } = planTransitionMail(
      { type: 'CHECKPOINT_READY', molecule: 'day3', step: 'review', approvers: ['team:leads'] },
      config,
    );
    expect(files).toHaveLength(2);
    writeMailFiles(dir.path, config, files);
    writeMailFiles(dir.path, config, files);
    expect((await outboxStatus(dir.path, config)).pending).toHaveLength(2);
    expect(await deliverPending(dir.path, config)).toEqual({ delivered: 2, failed: 0, retrying: 0 });
    writeMailFiles(dir.path, config, files);
    expect(await deliverPending(dir.path, config)).toEqual({ delivered: 0, failed: 0, retrying: 0 });
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    expect(await outboxStatus(dir.path, config)).toMatchObject({ pending: [], failed: [] });
  });
});
