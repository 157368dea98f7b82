import { expect, test } from 'vitest';
import { parseSupportCode, resolveSupportCode, shortCode } from '../../src/debug/support-code.js';

const CID = '4bf92f3577b34da6a3ce929d0e0e4736';

test.each([
  [CID, { kind: 'cid', cid: CID }],
  [`  ${CID.toUpperCase()} `, { kind: 'cid', cid: CID }],
  ['4bf92f35', { kind: 'prefix', prefix: '4bf92f35' }],
  ['4BF9 2F35', { kind: 'prefix', prefix: '4bf92f35' }],
  ['4bf9-2f35', { kind: 'prefix', prefix: '4bf92f35' }],
])('%j is a support code', (input, expected) => {
  expect(parseSupportCode(input)).toEqual(expected);
});

test.each(['', '4bf92f3', 'not-a-code', `${CID}0`, '0'.repeat(32), 'ghijklmn', '<b>4bf92f35</b>'])(
  '%j is not a support code',
  (input) => {
    expect(parseSupportCode(input)).toBeUndefined();
  },
);

test('the short code is the first 8 hex characters, and it finds the one cid it starts', () => {
  expect(shortCode(CID)).toBe('4bf92f35');
  const known = [CID, 'aaaaaaaa77b34da6a3ce929d0e0e4736', 'aaaaaaaa00000000a3ce929d0e0e4736'];
  expect(resolveSupportCode({ kind: 'prefix', prefix: '4bf92f35' }, known)).toEqual({
    status: 'found',
    cid: CID,
  });
  expect(resolveSupportCode({ kind: 'prefix', prefix: '12345678' }, known)).toEqual({ status: 'not-found' });
  expect(resolveSupportCode({ kind: 'prefix', prefix: 'aaaaaaaa' }, known)).toMatchObject({
    status: 'ambiguous',
    cids: known.slice(1),
  });
  // A longer prefix settles it.
  expect(resolveSupportCode({ kind: 'prefix', prefix: 'aaaaaaaa77' }, known)).toMatchObject({
    status: 'found',
  });
});
