/** Address ranges as a NetworkPolicy's ipBlock takes them, checked before the API server would refuse a week's policy. */
import { isIPv4, isIPv6 } from 'node:net';

/** Whether a range is IPv6: NetworkPolicy keeps each family's ranges under its own ipBlock. */
export const isIPv6Range = (cidr: string): boolean => cidr.includes(':');

/**
 * Why `cidr` is not a range the API server takes, or undefined. `strict`: it must leave
 * something out of its family's whole range, as an ipBlock's `except` entry must.
 */
export function cidrProblem(cidr: string, strict: boolean): string | undefined {
  const [address = '', bits, ...rest] = cidr.split('/');
  // An IPv4 address written in IPv6 (::ffff:10.0.0.1) is read differently by different CNIs.
  const max = isIPv4(address) ? 32 : isIPv6(address) && !/[.%]/.test(address) ? 128 : undefined;
  if (max === undefined || bits === undefined || rest.length > 0)
    return 'is not an IPv4 or IPv6 range (an address, "/", a prefix length: 10.0.0.0/8, fc00::/7)';
  const least = strict ? 1 : 0;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) < least || Number(bits) > max)
    return `needs a prefix length from /${least} to /${max}`;
  return undefined;
}
