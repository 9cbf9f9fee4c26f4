#!/usr/bin/env node
/** The `classops` command: picks a subcommand and turns failures into exit codes. */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config.js';
import { EXIT, UsageError, type CommandIO } from './commands/io.js';
import { checkImageCommand, usage as checkImageUsage } from './commands/check-image.js';
import { galleryCommand, usage as galleryUsage } from './commands/gallery.js';
import { renderCommand, usage as renderUsage } from './commands/render.js';
import { runCommand, usage as runUsage } from './commands/run.js';
import { validateCommand, usage as validateUsage } from './commands/validate.js';
import { SourceError } from './source/dir.js';
import { ClusterError } from './cluster/kube.js';

type Command = (args: string[], io: CommandIO) => Promise<number>;

const COMMANDS: Record<string, { summary: string; usage: string; run: Command }> = {
  run: { summary: 'keep the cluster (or ./out/manifests) equal to the rosters', usage: runUsage, run: runCommand },
  validate: {
    summary: 'check roster files and explain every problem on its line',
    usage: validateUsage,
    run: validateCommand,
  },
  render: { summary: 'write the Kubernetes objects for every valid entry', usage: renderUsage, run: renderCommand },
  'check-image': {
    summary: 'check that an image can be pulled anonymously',
    usage: checkImageUsage,
    run: checkImageCommand,
  },
  gallery: {
    summary: "serve /gallery: what every student's app says, checked safely",
    usage: galleryUsage,
    run: galleryCommand,
  },
};

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
    return await command.run(args, io);
  } catch (error) {
    const known =
      error instanceof UsageError ||
      error instanceof ConfigError ||
      error instanceof SourceError ||
      error instanceof ClusterError;
    const parseArgsError =
      error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
    const ioError =
      error instanceof Error && 'code' in error && typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code);
    if (known || parseArgsError || ioError) {
      io.stderr.write(`classops ${name}: ${(error as Error).message}\n`);
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

if (invokedDirectly()) {
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
