/** The Lease arithmetic alone: who may create, renew, take or must wait. */
import { decideLease } from '../../src/cluster/leader.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const lease = (holder: string | null, renewedSecondsAgo: number, duration = 15) => ({
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: duration,
    renewTime: new Date(NOW - renewedSecondsAgo * 1000).toISOString(),
  },
});

test('no Lease: create it', () => {
  expect(decideLease(undefined, 'a', NOW, 15)).toBe('create');
});

test('my Lease: renew it, even when it lapsed', () => {
  expect(decideLease(lease('a', 1), 'a', NOW, 15)).toBe('renew');
  expect(decideLease(lease('a', 60), 'a', NOW, 15)).toBe('renew');
});

test('another holder renewing in time: wait, up to the last millisecond of its duration', () => {
  expect(decideLease(lease('b', 1), 'a', NOW, 15)).toBe('wait');
  expect(decideLease(lease('b', 15), 'a', NOW, 15)).toBe('wait');
  expect(decideLease(lease('b', 15.001), 'a', NOW, 15)).toBe('take');
});

test("the holder's own duration counts, not mine", () => {
  expect(decideLease(lease('b', 20, 30), 'a', NOW, 15)).toBe('wait');
});

test('a released Lease (no holder) is taken at once', () => {
  expect(decideLease(lease(null, 0, 1), 'a', NOW, 15)).toBe('take');
  expect(decideLease(lease('', 0), 'a', NOW, 15)).toBe('take');
});
