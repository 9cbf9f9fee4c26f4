/**
 * Kubernetes resource quantities (`50m`, `0.5`, `64Mi`, `1e3`), read exactly, as fractions,
 * so that equal amounts written two ways (`700m` and `0.7`) compare equal.
 */

const DECIMAL: Readonly<Record<string, [bigint, bigint]>> = {
  n: [1n, 10n ** 9n],
  u: [1n, 10n ** 6n],
  m: [1n, 1000n],
  '': [1n, 1n],
  k: [10n ** 3n, 1n],
  M: [10n ** 6n, 1n],
  G: [10n ** 9n, 1n],
  T: [10n ** 12n, 1n],
  P: [10n ** 15n, 1n],
  E: [10n ** 18n, 1n],
  Ki: [2n ** 10n, 1n],
  Mi: [2n ** 20n, 1n],
  Gi: [2n ** 30n, 1n],
  Ti: [2n ** 40n, 1n],
  Pi: [2n ** 50n, 1n],
  Ei: [2n ** 60n, 1n],
};

/** As the API server reads them: an unsigned or `+` number, then a suffix or a decimal exponent. */
const QUANTITY = /^\+?(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

/** A quantity as numerator and denominator of its base unit (cores, bytes, objects). */
export interface Quantity {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/** The quantity `text` writes, or undefined when it is not one (negative ones included: no amount here is). */
export function parseQuantity(text: string): Quantity | undefined {
  const match = QUANTITY.exec(text);
  if (match === null) return undefined;
  const [, whole = '', fraction = '', exponent, suffix = ''] = match;
  if (whole === '' && fraction === '') return undefined;
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  const power = exponent === undefined ? 0 : Number(exponent);
  if (Math.abs(power) > 30) return undefined;
  if (power >= 0) numerator *= 10n ** BigInt(power);
  else denominator *= 10n ** BigInt(-power);
  const [times, over] = DECIMAL[suffix]!;
  numerator *= times;
  denominator *= over;
  return { numerator, denominator };
}

/** Whether `a` is more than `b`. */
export const exceeds = (a: Quantity, b: Quantity): boolean => a.numerator * b.denominator > b.numerator * a.denominator;

/** Whether a quantity is written in thousandths (`m`): right for CPU, a slip for memory (`64m` is 0.064 bytes). */
export const inThousandths = (text: string): boolean => text.endsWith('m');
