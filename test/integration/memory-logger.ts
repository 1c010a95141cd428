import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../src/observability/logger';
import { translationLog, type TranslationLog } from '../../src/observability/translation-log';

/**
 * The gateway's logger and translation log, keeping their lines in memory, in one list, for
 * tests that read what was logged.
 */
export function createMemoryLogger(level = 'info'): { logger: winston.Logger; lines: string[]; translations: TranslationLog } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(line);
      callback();
    },
  });
  const logger = createLogger(level, new winston.transports.Stream({ stream }));
  return { logger, lines, translations: translationLog(level, (line) => lines.push(line)) };
}
