/** Address ranges as a NetworkPolicy's ipBlock takes them, checked before the API server would refuse a week's policy. */
import { isIPv4, isIPv6 } from 'node:net';

/** Whether a range is IPv6: NetworkPolicy keeps each family's ranges under its own ipBlock. */
export const isIPv6Range = (cidr: string): boolean => cidr.includes(':');

/** An address as a number, and its bit count; undefined for anything but plain IPv4 or IPv6 text. */
function addressBits(address: string): { value: bigint; bits: number } | undefined {
  if (isIPv4(address)) return { value: address.split('.').reduce((v, part) => (v << 8n) | BigInt(part), 0n), bits: 32 };
  // An IPv4 address written in IPv6 (::ffff:10.0.0.1) is read differently by different CNIs.
  if (!isIPv6(address) || /[.%]/.test(address)) return undefined;
  const groups = (text: string | undefined) => (text === undefined || text === '' ? [] : text.split(':'));
  const [head, tail] = address.split('::').map(groups) as [string[], string[] | undefined];
  const all = [...head, ...Array<string>(8 - head.length - (tail?.length ?? 0)).fill('0'), ...(tail ?? [])];
  return { value: all.reduce((v, group) => (v << 16n) | BigInt(`0x${group}`), 0n), bits: 128 };
}

/**
 * Why `cidr` is not a range the API server takes, or undefined: an address, `/`, and a
 * prefix length without leading zeros, with no bit set past the prefix (which newer API
 * servers refuse, and which is a typo's mark). `strict`: it must leave something out of
 * its family's whole range, as an ipBlock's `except` entry must.
 */
export function cidrProblem(cidr: string, strict: boolean): string | undefined {
  const [address = '', prefix, ...rest] = cidr.split('/');
  const parsed = addressBits(address);
  if (parsed === undefined || prefix === undefined || rest.length > 0)
    return 'is not an IPv4 or IPv6 range (an address, "/", a prefix length: 10.0.0.0/8, fc00::/7)';
  const least = strict ? 1 : 0;
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) < least || Number(prefix) > parsed.bits)
    return `needs a prefix length from /${least} to /${parsed.bits}`;
  const host = parsed.bits - Number(prefix);
  if ((parsed.value & ((1n << BigInt(host)) - 1n)) !== 0n)
    return `sets bits past its /${prefix} prefix: write the range's first address`;
  return undefined;
}
