#!/usr/bin/env node
/** The `classops` command: picks a subcommand and turns failures into exit codes. */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { EXIT, type CommandIO } from './commands/io.js';
import {
  checkImageUsage,
  galleryUsage,
  prReportUsage,
  renderUsage,
  runUsage,
  validateUsage,
} from './commands/usage.js';

type Command = (args: string[], io: CommandIO) => Promise<number>;

/**
 * Each command's module is imported only when that command runs: `validate` and `--help`
 * must not pay for the Kubernetes client, express or undici that other commands load.
 */
const COMMANDS: Record<string, { summary: string; usage: string; load: () => Promise<Command> }> = {
  run: {
    summary: 'keep the cluster (or ./out/manifests) equal to the rosters',
    usage: runUsage,
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  validate: {
    summary: 'check roster files and explain every problem on its line',
    usage: validateUsage,
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  render: {
    summary: 'write the Kubernetes objects for every valid entry',
    usage: renderUsage,
    load: async () => (await import('./commands/render.js')).renderCommand,
  },
  'pr-report': {
    summary: 'judge a pull request as validate does and post the verdict on GitHub',
    usage: prReportUsage,
    load: async () => (await import('./commands/pr-report.js')).prReportCommand,
  },
  gallery: {
    summary: "serve /gallery: what every student's app says, checked safely",
    usage: galleryUsage,
    load: async () => (await import('./commands/gallery.js')).galleryCommand,
  },
  'check-image': {
    summary: 'check that an image can be pulled anonymously',
    usage: checkImageUsage,
    load: async () => (await import('./commands/check-image.js')).checkImageCommand,
  },
};

/**
 * Errors a user can fix (bad flags, config, paths, cluster settings), known by name so
 * that catching them does not import the modules that throw them.
 */
const USER_ERRORS = new Set(['UsageError', 'ConfigError', 'SourceError', 'ClusterError']);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const help = `classops: a GitOps controller for container courses

Usage: classops <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

Run "classops <command> --help" for a command's options.`;

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(`${help}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`classops: unknown command "${name}"\n\n${help}\n`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${command.usage.trimEnd()}\n  -h, --help            this help\n`);
    return EXIT.ok;
  }
  try {
    const run = await command.load();
    return await run(args, io);
  } catch (error) {
    const known = error instanceof Error && USER_ERRORS.has(error.name);
    const parseArgsError =
      error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
    const ioError =
      error instanceof Error && 'code' in error && typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code);
    if (known || parseArgsError || ioError) {
      io.stderr.write(`classops ${name}: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/**
 * Commands that parse rosters, report and exit keep V8's young generation at its starting
 * size: the parser's garbage otherwise grows it to its maximum (a 64 MiB new space on
 * Node 24), and `validate` of 5 000 entries peaks at 171 MiB instead of 118, in the same
 * time. Servers keep V8's default: under load, a small young generation cost the gallery
 * 15% of its requests per second. Only this flag is read after start-up (each time the
 * space would grow), and Node keeps flags writable for setFlagsFromString. Set here, not
 * in main(), so tests that call main() in their own process keep their defaults.
 */
const SMALL_YOUNG_GENERATION = new Set(['validate', 'pr-report']);

if (invokedDirectly()) {
  if (SMALL_YOUNG_GENERATION.has(process.argv[2] ?? '')) setFlagsFromString('--semi-space-growth-factor=1');
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `classops: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 70;
    },
  );
}
