// Structured logs: one JSON object per line on stderr ({time, level, component, msg, ...fields}),
// so a log collector can parse every line without a format string.
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  (level: Level, msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function jsonLogger(component: string, base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const log = ((level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...base, ...fields }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  }) as Logger;
  log.child = (fields) => jsonLogger(component, { ...base, ...fields }, write);
  return log;
}

export const silentLogger: Logger = Object.assign(() => {}, { child: () => silentLogger });
