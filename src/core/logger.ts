import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stderr: stdout belongs to the stdio protocol. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'codebuddy' } }, pino.destination({ fd: 2, sync: false }));
}
