/** Whether a process runs: what a killed writer left (a temporary, a staging tree) is cleared only when it does not. */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // it does, as another user
  }
}
