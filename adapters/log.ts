// Structured logs: one event per line, fields as key=value in a terminal, one JSON object per
// line with --log-format json. Plain code (it is called from the hot path on errors).
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

export function makeLogger(format: 'pretty' | 'json', out: (line: string) => void = (l) => process.stderr.write(l + '\n'), minLevel: LogLevel = 'info'): Logger {
  const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  const log = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (order[level] < order[minLevel]) return;
    const ts = new Date().toISOString();
    if (format === 'json') {
      out(JSON.stringify({ ts, level, msg, ...fields }));
      return;
    }
    const kv = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
      .join(' ');
    out(`${ts} ${level.toUpperCase().padEnd(5)} ${msg}${kv === '' ? '' : ' ' + kv}`);
  };
  return {
    log,
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    debug: (m, f) => log('debug', m, f),
  };
}
