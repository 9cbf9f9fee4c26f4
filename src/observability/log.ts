/** Structured JSON lines in the cluster (or when asked), readable text on a terminal. */

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  log(level: Level, message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

export function createLogger(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  format: 'json' | 'text' = stream.isTTY ? 'text' : 'json',
): Logger {
  const log = (level: Level, message: string, fields: Fields = {}) => {
    if (format === 'json') {
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
    } else {
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      stream.write(`${level.padEnd(5)} ${message}${extra ? `  ${extra}` : ''}\n`);
    }
  };
  return {
    log,
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

export const silentLogger: Logger = {
  log: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
