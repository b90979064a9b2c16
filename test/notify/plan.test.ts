// The outbox's decisions without a network: backoff, bounded attempts, filters, keys, config.
import { describe, expect, it } from 'vitest';
import { type Endpoint, parseNotificationsSection } from '../../src/notify/config.js';
import { afterFailure, endpointMatches, idempotencyKey, planDeliveries } from '../../src/notify/plan.js';
import { parseToml } from '../../src/store/toml.js';
import { mailConfig } from '../mail/helpers.js';

const endpoints = (toml: string): Endpoint[] => parseNotificationsSection(parseToml(toml, 'c').notifications);
const [hook] = endpoints(
  '[notifications.webhook.ops]\nurl = "http://127.0.0.1:9/x"\nbackoff = "1s"\nmax_attempts = 4\n',
) as [Endpoint];
const header = { from: '@jgil', to: ['polecat-1'], subject: 's', type: 'message' };

describe('delivery plan', () => {
  it('waits twice as long after each failure and gives up after max_attempts', () => {
    let r = afterFailure(hook, undefined, 'HTTP 503', false, 1000);
    expect(r).toEqual({ attempts: 1, next_at: 2000, last_error: 'HTTP 503' });
    r = afterFailure(hook, r, 'HTTP 503', false, 2000);
    expect(r.next_at).toBe(4000);
    r = afterFailure(hook, r, 'HTTP 503', false, 4000);
    expect(r.next_at).toBe(8000);
    expect(afterFailure(hook, r, 'HTTP 503', false, 8000)).toEqual({
      attempts: 4,
      last_error: 'HTTP 503',
      failed: true,
    });
    expect(afterFailure(hook, undefined, 'HTTP 400', true, 0)).toMatchObject({ attempts: 1, failed: true });
  });

  it('keys a delivery by endpoint and message copy only', () => {
    expect(idempotencyKey('webhook.ops', 'polecat-1', 'A')).toBe(
      idempotencyKey('webhook.ops', 'polecat-1', 'A'),
    );
    expect(
      new Set([
        idempotencyKey('webhook.ops', 'polecat-1', 'A'),
        idempotencyKey('webhook.ops', 'polecat-2', 'A'),
        idempotencyKey('webhook.other', 'polecat-1', 'A'),
        idempotencyKey('webhook.ops', 'polecat-1', 'B'),
      ]).size,
    ).toBe(4);
  });

  it('announces only what the filters name, and an email only to someone with an address', () => {
    const config = mailConfig();
    const [filtered] = endpoints(
      '[notifications.webhook.x]\nurl = "http://h/"\ntypes = ["CHECKPOINT_READY"]\naddresses = ["team:leads"]\n',
    ) as [Endpoint];
    const copy = (mailbox: string, type: string) => ({
      folder: mailbox,
      mailbox,
      id: 'X',
      header: { ...header, type },
    });
    expect(endpointMatches(filtered, config, copy('@jgil', 'CHECKPOINT_READY'))).toBe(true);
    expect(endpointMatches(filtered, config, copy('@jgil', 'message'))).toBe(false);
    expect(endpointMatches(filtered, config, copy('polecat-1', 'CHECKPOINT_READY'))).toBe(false);
    const [mail] = endpoints('[notifications.email]\nhost = "h"\nfrom = "g@x"\n') as [Endpoint];
    expect(endpointMatches(mail, config, copy('@jgil', 'message'))).toBe(true);
    expect(endpointMatches(mail, config, copy('queue:triage', 'message'))).toBe(false);
    // A copy whose file is gone has nothing to announce.
    expect(
      planDeliveries([{ folder: 'p', mailbox: 'polecat-1', id: 'X' }], [hook], config, {
        delivered: () => false,
        attempts: () => undefined,
      }),
    ).toEqual([]);
  });

  it('refuses a malformed section, naming the key', () => {
    expect(() => endpoints('[notifications.webhook.ops]\nurl = "ftp://x"\n')).toThrow(
      '`notifications.webhook.ops.url` must be an http:// or https:// URL',
    );
    expect(() => endpoints('[notifications.webhook.ops]\nurl = "http://x"\nretries = 3\n')).toThrow(
      /unknown key `notifications.webhook.ops.retries`/,
    );
    expect(() => endpoints('[notifications.webhook.ops]\nurl = "http://x"\ntypes = ["STEP_DONE"]\n')).toThrow(
      /unknown message type "STEP_DONE"/,
    );
    expect(() => endpoints('[notifications.email]\nfrom = "g@x"\n')).toThrow(
      'missing required field `notifications.email.host`',
    );
    expect(() => endpoints('[notifications.webhook.ops]\nurl = "http://x"\nbackoff = "soon"\n')).toThrow(
      /must be a duration/,
    );
  });
});
