import { Writable } from 'node:stream';
import winston from 'winston';
import { translationLog, type TranslationLog } from './translation-log';

/** JSON lines on stdout (containers collect stdout); one object per line, CR/LF always escaped by JSON. */
export function createLogger(level: string): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/**
 * A logger and a translation log that keep their lines in memory, in one list, for tests that
 * read what was logged.
 */
export function createMemoryLogger(level = 'info'): { logger: winston.Logger; lines: string[]; translations: TranslationLog } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(line);
      callback();
    },
  });
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines, translations: translationLog(level, (line) => lines.push(line)) };
}
