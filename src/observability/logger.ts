import winston from 'winston';

/** JSON lines on stdout (containers collect stdout); one object per line, CR/LF always escaped by JSON. */
export function createLogger(level: string, transport: winston.transport = new winston.transports.Console()): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}
