/** Kubernetes resource quantities (`50m`, `1.5`, `64Mi`, `2G`), read as numbers to compare them. */

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** The value of a quantity in its base unit (cores, bytes, objects), or undefined when it is not one. */
export function quantityValue(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  return match === null ? undefined : Number(match[1]) * SUFFIX[match[2] ?? '']!;
}

/** Whether a quantity is written in thousandths (`m`): right for CPU, a slip for memory (`64m` is 0.064 bytes). */
export const inThousandths = (text: string): boolean => text.endsWith('m');
