import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStore, REFERRAL_CODE_PATTERN, type Store } from '../src/store/index.js';
import { type IsolatedStore, STORE_ENGINES } from './support/store-engines.js';

let nextUser = 950_000_000 + (process.pid % 1000) * 10_000;
const freshUser = () => ++nextUser;
const cid = () => randomBytes(16).toString('hex');
let nextCode = 0;
const freshCode = () => `T${process.pid}X${++nextCode}`;

describe.each(STORE_ENGINES)('referrals and promo codes on $kind', (engine) => {
  let isolated: IsolatedStore;
  let store: Store;
  /** Another process on the same database (PostgreSQL); the same store on PGlite. */
  let other: Store;

  beforeAll(async () => {
    isolated = await engine.isolate();
    store = await openStore(isolated.options);
    other = engine.shared ? await openStore(isolated.options) : store;
  });

  afterAll(async () => {
    await expect(store.ledger.audit()).resolves.toEqual([]);
    if (other !== store) await other?.close();
    await store?.close();
    await isolated?.dispose();
  });

  const balanceOf = async (userId: number) => (await store.ledger.balance(userId)).available;

  describe('referrals', () => {
    test('a new user who came by a link is attributed to its owner, who gets the bonus once', async () => {
      const [referrer, invited] = [freshUser(), freshUser()];
      const code = await store.users.referralCode(referrer);
      await expect(store.users.referralCode(referrer)).resolves.toBe(code);

      const first = await store.users.start({
        userId: invited,
        referralCode: code,
        referralBonus: 7,
        cid: cid(),
      });
      expect(first).toEqual({ status: 'new', referrerId: referrer, referral: 'attributed' });
      const again = await store.users.start({
        userId: invited,
        referralCode: code,
        referralBonus: 7,
        cid: cid(),
      });
      expect(again).toEqual({ status: 'known', referral: 'not_new' });

      expect(await balanceOf(referrer)).toBe(7);
      expect(await balanceOf(invited)).toBe(0);
      const [entry] = await store.ledger.entries(referrer);
      expect(entry).toMatchObject({ kind: 'bonus', available: 7, bonusKey: `referral:${invited}` });
    });

    test("a user's link is made once, even when asked for at once on several processes", async () => {
      const referrer = freshUser();
      const codes = await Promise.all(
        [store, other, store, other].map((s) => s.users.referralCode(referrer)),
      );
      expect(new Set(codes).size).toBe(1);
      expect(codes[0]).toMatch(REFERRAL_CODE_PATTERN);
    });

    test('showing a link the user already has writes nothing', async () => {
      const referrer = freshUser();
      await store.users.referralCode(referrer);
      // xmin is the transaction that wrote the row's current version: a rewrite, even of the same values, moves it.
      const version = async () =>
        (
          await store.db.query<{ version: string }>(
            'SELECT xmin::text AS version FROM users WHERE user_id = $1',
            [referrer],
            { operation: 'SELECT', table: 'users' },
          )
        ).rows[0]?.version;
      const before = await version();
      await store.users.referralCode(referrer);
      await other.users.referralCode(referrer);
      expect(await version()).toBe(before);
    });

    test('the same link opened twice at once, on several processes, attributes once', async () => {
      const [referrer, invited] = [freshUser(), freshUser()];
      const code = await store.users.referralCode(referrer);
      const results = await Promise.all(
        [store, other, store, other].map((s) =>
          s.users.start({ userId: invited, referralCode: code, referralBonus: 5, cid: cid() }),
        ),
      );
      expect(results.filter((r) => r.status === 'new')).toHaveLength(1);
      expect(await balanceOf(referrer)).toBe(5);
    });

    test('a user seen before, an unknown code, or a zero bonus grants nothing', async () => {
      const referrer = freshUser();
      const code = await store.users.referralCode(referrer);
      const known = freshUser();
      await expect(store.users.start({ userId: known, referralBonus: 5, cid: cid() })).resolves.toEqual({
        status: 'new',
        referrerId: undefined,
        referral: 'none',
      });
      await expect(
        store.users.start({ userId: known, referralCode: code, referralBonus: 5, cid: cid() }),
      ).resolves.toEqual({ status: 'known', referral: 'not_new' });
      // The owner of a code is known by the time they can share it: no self-referral.
      await expect(
        store.users.start({ userId: referrer, referralCode: code, referralBonus: 5, cid: cid() }),
      ).resolves.toEqual({ status: 'known', referral: 'not_new' });
      await expect(
        store.users.start({ userId: freshUser(), referralCode: 'zzzzzzzzzz', referralBonus: 5, cid: cid() }),
      ).resolves.toEqual({ status: 'new', referrerId: undefined, referral: 'unknown_code' });
      await expect(
        store.users.start({ userId: freshUser(), referralCode: code, referralBonus: 0, cid: cid() }),
      ).resolves.toEqual({ status: 'new', referrerId: referrer, referral: 'attributed' });
      expect(await balanceOf(referrer)).toBe(0);
    });

    test('blocking and unblocking a user', async () => {
      const userId = freshUser();
      await expect(store.users.isBlocked(userId)).resolves.toBe(false);
      await store.users.setBlocked(userId, true);
      await expect(store.users.isBlocked(userId)).resolves.toBe(true);
      await store.users.setBlocked(userId, false);
      await expect(store.users.isBlocked(userId)).resolves.toBe(false);
    });
  });

  describe('promo codes', () => {
    test('a code credits once per user, whatever case it is typed in', async () => {
      const code = freshCode();
      await store.promoCodes.upsert({ code, credits: 15, maxUses: 10 });
      const userId = freshUser();

      await expect(
        store.promoCodes.redeem({ code: ` ${code.toLowerCase()} `, userId, cid: cid() }),
      ).resolves.toEqual({ status: 'redeemed', credits: 15, balance: { available: 15, held: 0 } });
      await expect(store.promoCodes.redeem({ code, userId, cid: cid() })).resolves.toEqual({
        status: 'already_used',
      });
      expect(await balanceOf(userId)).toBe(15);
    });

    test('each refusal says why: unknown, expired, used up', async () => {
      const expired = freshCode();
      await store.promoCodes.upsert({
        code: expired,
        credits: 5,
        maxUses: 10,
        expiresAt: new Date(Date.now() - 1000),
      });
      const single = freshCode();
      await store.promoCodes.upsert({ code: single, credits: 5, maxUses: 1 });
      const userId = freshUser();

      await expect(store.promoCodes.redeem({ code: 'NOSUCHCODE', userId, cid: cid() })).resolves.toEqual({
        status: 'unknown',
      });
      await expect(store.promoCodes.redeem({ code: 'not a code!', userId, cid: cid() })).resolves.toEqual({
        status: 'unknown',
      });
      await expect(store.promoCodes.redeem({ code: expired, userId, cid: cid() })).resolves.toEqual({
        status: 'expired',
      });
      await store.promoCodes.redeem({ code: single, userId: freshUser(), cid: cid() });
      await expect(store.promoCodes.redeem({ code: single, userId, cid: cid() })).resolves.toEqual({
        status: 'exhausted',
      });
      expect(await balanceOf(userId)).toBe(0);
    });

    test('the last use claimed by several users at once goes to one of them', async () => {
      const code = freshCode();
      await store.promoCodes.upsert({ code, credits: 9, maxUses: 2 });
      const users = [freshUser(), freshUser(), freshUser(), freshUser(), freshUser()];
      const results = await Promise.all(
        users.map((userId, i) => (i % 2 ? other : store).promoCodes.redeem({ code, userId, cid: cid() })),
      );
      expect(results.filter((r) => r.status === 'redeemed')).toHaveLength(2);
      expect(results.filter((r) => r.status === 'exhausted')).toHaveLength(3);
      const balances = await Promise.all(users.map(balanceOf));
      expect(balances.reduce((a, b) => a + b, 0)).toBe(18);
    });
  });
});
