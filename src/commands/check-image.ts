/** `classops check-image`: can the cluster pull this image anonymously? */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { ImageChecker } from '../registry/checker.js';
import { formatImageReference, parseImageReference } from '../roster/image-reference.js';
import { describeVerdict, isStudentFault, isTransient } from '../registry/verdict.js';
import { showUnsafe } from '../unsafe-characters.js';
import { EXIT, UsageError, type CommandIO } from './io.js';

export async function checkImageCommand(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, config: { type: 'string' } },
  });
  if (positionals.length !== 1)
    throw new UsageError('give exactly one image reference, e.g. ghcr.io/jlgore/container-course-student:v1');
  if (values.format !== 'text' && values.format !== 'json')
    throw new UsageError(`unknown --format "${values.format}"; use text or json`);
  const image = positionals[0]!;
  const parsed = parseImageReference(image);
  if (!parsed.ok) throw new UsageError(`"${image}" is not a valid image reference: ${parsed.problem}`);

  const config = loadConfig({ file: values.config, env: io.env });
  const verdict = await new ImageChecker(config.registry).check(image);
  const text = describeVerdict(verdict, image);
  if (values.format === 'json') {
    io.stdout.write(
      `${JSON.stringify({ image, reference: formatImageReference(parsed.reference), verdict, studentFault: isStudentFault(verdict), transient: isTransient(verdict), ...text }, null, 2)}\n`,
    );
  } else {
    const lines = [`${image}: ${verdict.kind}`];
    if (verdict.kind === 'pullable') {
      lines.push(
        `  digest:     ${verdict.digest}`,
        `  media type: ${verdict.mediaType}`,
        `  platforms:  ${verdict.platforms.join(', ') || '(not stated)'}`,
      );
    } else {
      lines.push(`  ${text.message}`, `  fix: ${text.hint}`);
    }
    // Text from a registry: shown, never acted on by the terminal.
    io.stdout.write(`${lines.map(showUnsafe).join('\n')}\n`);
  }
  return verdict.kind === 'pullable' ? EXIT.ok : EXIT.findings;
}
