// Email notifications through nodemailer to a real SMTP server (smtp-server) on loopback.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { gastown } from '../helpers/repo.js';
import { gtOk, mailRepo } from '../mail/helpers.js';

interface Delivered {
  from: string;
  to: string[];
  data: string;
}

async function smtpServer(reject = false) {
  const received: Delivered[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (reject) {
        const err = new Error('no such user') as Error & { responseCode: number };
        err.responseCode = 550;
        callback(err);
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => server.close() };
}

const email = (port: number, extra = '') => `
[notifications.email]
host = "127.0.0.1"
port = ${port}
from = "gastown@example.com"
backoff = "10ms"
${extra}`;

describe('email notifications', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('sends each message copy to its recipient through SMTP, once', async () => {
    const smtp = await smtpServer();
    cleanups.push(smtp.close);
    const repo = await mailRepo(email(smtp.port));
    cleanups.push(repo.cleanup);
    const sent = JSON.parse(
      await gtOk(repo.path, [
        'mail',
        'send',
        '--as',
        'polecat-1',
        '--to',
        '@jgil',
        '--subject',
        'Day 3 analysis complete',
        '--body',
        'Approval required.',
        '--json',
      ]),
    ) as { id: string };
    await gtOk(repo.path, ['notifications', 'deliver', '--wait', '30s']);
    expect(smtp.received).toHaveLength(1);
    const m = smtp.received[0] as Delivered;
    expect(m.from).toBe('gastown@example.com');
    expect(m.to).toEqual(['jgil@example.com']);
    expect(m.data).toContain('Subject: Day 3 analysis complete');
    expect(m.data).toContain('Approval required.');
    expect(m.data).toMatch(/Message-ID: <[0-9a-f]{40}@gastown>/);
    expect(m.data).toContain(`.beads/mail/@jgil/${sent.id}.md`);
    await gtOk(repo.path, ['notifications', 'deliver']);
    expect(smtp.received).toHaveLength(1);
  });

  it('records a recipient the server refuses (5xx) as failed without retrying', async () => {
    const smtp = await smtpServer(true);
    cleanups.push(smtp.close);
    const repo = await mailRepo(email(smtp.port, 'to = ["ops@example.com"]'));
    cleanups.push(repo.cleanup);
    await gtOk(repo.path, [
      'mail',
      'send',
      '--as',
      'polecat-1',
      '--to',
      'queue:triage',
      '--subject',
      's',
      '--body',
      'b',
    ]);
    const r = await gastown(['notifications', 'deliver', '--wait', '30s'], repo.path);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('SMTP 550');
    const status = JSON.parse(
      String((await gastown(['notifications', 'status', '--json'], repo.path)).stdout),
    ) as {
      failed: { attempts: number; folder: string }[];
    };
    expect(status.failed).toMatchObject([{ attempts: 1, folder: 'queue%3Atriage' }]);
  });
});
