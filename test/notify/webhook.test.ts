// Webhook notifications against a real HTTP server on loopback: retries with backoff, one
// idempotency key per message, failures recorded and listed, and a sender killed mid-delivery.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, gastown, testEnv } from '../helpers/repo.js';
import { gtOk, mailRepo } from '../mail/helpers.js';

interface Received {
  key: string;
  body: Record<string, unknown>;
}

/** An HTTP server that answers each request with what `answer` says, recording every request. */
async function hookServer(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        key: String(req.headers['idempotency-key']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      answer(requests.length, req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    /** What a receiver that drops repeats by idempotency key keeps. */
    accepted: () => new Set(requests.map((r) => r.key)),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const webhook = (url: string, extra = '') => `
[notifications.webhook.ops]
url = "${url}"
backoff = "10ms"
${extra}`;

describe('webhook notifications', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('an endpoint that fails twice then succeeds gets the message once, always with one idempotency key', async () => {
    const server = await hookServer((n, _req, res) => {
      res.writeHead(n <= 2 ? 503 : 200).end();
    });
    cleanups.push(server.close);
    const repo = await mailRepo(webhook(server.url));
    cleanups.push(repo.cleanup);
    const sent = JSON.parse(
      await gtOk(repo.path, [
        'mail',
        'send',
        '--as',
        '@jgil',
        '--to',
        'polecat-1',
        '--subject',
        'Approval required',
        '--body',
        'Day 3',
        '--json',
      ]),
    ) as { id: string };
    // Sending never waits for the endpoint: the copy is queued.
    expect(server.requests).toEqual([]);
    const status = JSON.parse(await gtOk(repo.path, ['notifications', 'status', '--json'])) as {
      pending: unknown[];
    };
    expect(status.pending).toMatchObject([
      { endpoint: 'webhook.ops', mailbox: 'polecat-1', id: sent.id, attempts: 0 },
    ]);

    const out = await gtOk(repo.path, ['notifications', 'deliver', '--wait', '30s']);
    expect(out).toContain(`delivered webhook.ops polecat-1 ${sent.id}`);
    expect(server.requests).toHaveLength(3);
    expect(server.accepted().size).toBe(1);
    expect(server.requests[2]?.body).toMatchObject({
      id: sent.id,
      mailbox: 'polecat-1',
      from: '@jgil',
      to: ['polecat-1'],
      subject: 'Approval required',
      type: 'message',
      body: 'Day 3\n',
      path: `.beads/mail/polecat-1/${sent.id}.md`,
    });
    expect(server.requests[2]?.body.key).toBe(server.requests[0]?.key);

    // Delivered is recorded: nothing pending, and running again sends nothing.
    expect(JSON.parse(await gtOk(repo.path, ['notifications', 'status', '--json']))).toMatchObject({
      pending: [],
      failed: [],
    });
    await gtOk(repo.path, ['notifications', 'deliver']);
    expect(server.requests).toHaveLength(3);
  });

  it('records a delivery that keeps failing, lists it, and starts it over on --retry-failed', async () => {
    let up = false;
    const server = await hookServer((_n, _req, res) => {
      res.writeHead(up ? 204 : 500).end();
    });
    cleanups.push(server.close);
    const repo = await mailRepo(
      webhook(server.url, 'max_attempts = 2\ntypes = ["message"]\naddresses = ["team:leads"]'),
    );
    cleanups.push(repo.cleanup);
    await gtOk(repo.path, [
      'mail',
      'send',
      '--as',
      'polecat-1',
      '--to',
      'team:leads',
      '--cc',
      'polecat-2',
      '--subject',
      's',
      '--body',
      'b',
    ]);
    const first = await gastown(['notifications', 'deliver', '--wait', '30s'], repo.path);
    expect(first.exitCode).toBe(1);
    // Two members of team:leads match the filter; polecat-2's copy does not.
    expect(server.requests.map((r) => r.body.mailbox).sort()).toEqual(['@ana', '@ana', '@jgil', '@jgil']);
    const status = await gastown(['notifications', 'status'], repo.path);
    expect(status.exitCode).toBe(1);
    expect(String(status.stdout)).toMatch(
      /failed {3}webhook\.ops {2}@ana {2}\w+ after 2 attempt\(s\): HTTP 500/,
    );
    up = true;
    await gtOk(repo.path, ['notifications', 'deliver']);
    expect(server.requests).toHaveLength(4);
    await gtOk(repo.path, ['notifications', 'deliver', '--retry-failed']);
    expect(server.requests).toHaveLength(6);
    expect(server.accepted().size).toBe(2);
    expect((await gastown(['notifications', 'status'], repo.path)).exitCode).toBe(0);
  });

  it('does not retry a request the endpoint refuses as malformed (4xx)', async () => {
    const server = await hookServer((_n, _req, res) => {
      res.writeHead(400).end();
    });
    cleanups.push(server.close);
    const repo = await mailRepo(webhook(server.url));
    cleanups.push(repo.cleanup);
    await gtOk(repo.path, [
      'mail',
      'send',
      '--as',
      'polecat-1',
      '--to',
      '@jgil',
      '--subject',
      's',
      '--body',
      'b',
    ]);
    const r = await gastown(['notifications', 'deliver', '--wait', '30s'], repo.path);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('HTTP 400 (not retried)');
    expect(server.requests).toHaveLength(1);
  });

  it('a sender killed while the endpoint holds its request neither loses nor doubles the message', async () => {
    let held: ServerResponse | undefined;
    let heldSeen: () => void = () => {};
    const firstRequest = new Promise<void>((resolve) => {
      heldSeen = resolve;
    });
    const server = await hookServer((n, _req, res) => {
      if (n === 1) {
        held = res; // never answered: the sender is killed while it waits
        heldSeen();
      } else res.writeHead(200).end();
    });
    cleanups.push(server.close);
    const repo = await mailRepo(webhook(server.url));
    cleanups.push(repo.cleanup);
    await gtOk(repo.path, [
      'mail',
      'send',
      '--as',
      '@jgil',
      '--to',
      'polecat-1',
      '--subject',
      'once',
      '--body',
      'b',
    ]);

    const sender = execa(process.execPath, [CLI, 'notifications', 'deliver'], {
      cwd: repo.path,
      env: testEnv(),
      extendEnv: false,
      reject: false,
    });
    await firstRequest;
    sender.kill('SIGKILL');
    const killed = await sender;
    expect(killed.signal).toBe('SIGKILL');
    held?.destroy();
    // The dead sender's lock is taken over; the message is still pending and goes again.
    expect(existsSync(join(repo.path, '.beads/.cache/outbox/lock'))).toBe(true);
    expect(JSON.parse(await gtOk(repo.path, ['notifications', 'status', '--json']))).toMatchObject({
      pending: [{ mailbox: 'polecat-1', attempts: 0 }],
    });
    await gtOk(repo.path, ['notifications', 'deliver']);
    expect(server.requests).toHaveLength(2);
    expect(server.accepted().size).toBe(1);
    await gtOk(repo.path, ['notifications', 'deliver']);
    expect(server.requests).toHaveLength(2);
  });
});
