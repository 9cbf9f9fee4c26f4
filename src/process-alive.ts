/** Whether a process runs: what a killed writer left (a temporary, a staging tree) is cleared only when it does not. */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // it does, as another user
  }
}

/** The pid in a name that ends `<prefix><pid>`, if any. */
function pidAfter(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const pid = /^\d{1,10}$/.exec(name.slice(prefix.length))?.[0];
  return pid === undefined ? undefined : Number(pid);
}

/** Whether a name is a leftover of a killed process: `<prefix><pid>` of a pid that is not this one and does not run. */
export const leftBehind = (name: string, prefix: string): boolean => {
  const pid = pidAfter(name, prefix);
  return pid !== undefined && pid !== process.pid && !processRuns(pid);
};
