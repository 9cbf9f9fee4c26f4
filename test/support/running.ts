/** A long-running `classops run` process, as an operator runs it: JSON logs on stderr, HTTP on a port it picks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, CLI, ROOT } from './cli.js';
import { waitFor } from './processes.js';

export class RunningClassops {
  private stderr = '';
  private constructor(readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  static async start(
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; command?: string[] } = {},
  ): Promise<RunningClassops> {
    const [command, ...prefix] = options.command ?? [process.execPath, CLI, 'run'];
    const child = spawn(command!, [...prefix, ...args], {
      cwd: options.cwd ?? ROOT,
      env: childEnv({ CLASSOPS_LOG_FORMAT: 'json', ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: `npm start` runs classops as a grandchild, which must stop with it.
      detached: true,
    });
    const running = new RunningClassops(child);
    await running.waitForLog(/serving \/healthz/, 60_000);
    return running;
  }

  /** The log lines as objects (lines that are not JSON are skipped). */
  logs(): Array<Record<string, unknown>> {
    return this.stderr.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  get output(): string {
    return this.stderr;
  }

  get port(): number {
    const line = this.logs().find((l) => String(l['msg']).startsWith('serving /healthz'));
    return Number(line?.['port']);
  }

  async waitForLog(pattern: RegExp, timeoutMs = 20_000, after = 0): Promise<void> {
    await waitFor(
      async () =>
        this.logs()
          .slice(after)
          .some((l) => pattern.test(String(l['msg']))),
      timeoutMs,
      `log line ${pattern}`,
      () => this.stderr,
    );
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`);
    return { status: res.status, text: await res.text() };
  }

  /** SIGTERM, and the exit code once it exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-this.child.pid!, sig);
      } catch {
        // already gone
      }
    };
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      group(signal);
      setTimeout(() => group('SIGKILL'), 15_000).unref();
    });
  }
}
