// Reading histories: JSON Lines and EDN, and every way a history can be malformed.
import { describe, expect, it } from 'vitest';
import { HistoryError, pairOperations, parseEdn, parseHistory, parseJsonl, formatOfPath } from '../../jepsen/history.js';
import { readEdnForms } from '../../jepsen/edn.js';
import { jsonl } from './checker-helpers.js';

function errorOf(f: () => unknown): HistoryError {
  try {
    f();
  } catch (err) {
    if (err instanceof HistoryError) return err;
    throw err;
  }
  throw new Error('expected a HistoryError');
}

describe('parseJsonl', () => {
  it('reads events with keys, values, times and extra fields', () => {
    const text = [
      '{"process":0,"type":"invoke","f":"write","key":"x","value":3,"time":10,"node":"n1"}',
      '',
      '{"process":0,"type":"ok","f":"write","key":"x","value":3,"time":12}',
    ].join('\n');
    const ev = parseJsonl(text);
    expect(ev).toHaveLength(2);
    expect(ev[0]).toEqual({ process: 0, type: 'invoke', f: 'write', key: 'x', value: 3, time: 10, line: 1, extra: { node: 'n1' } });
    expect(ev[1]?.line).toBe(3);
  });

  it('treats an absent key and value as null', () => {
    const ev = parseJsonl('{"process":1,"type":"invoke","f":"read"}');
    expect(ev[0]?.key).toBeNull();
    expect(ev[0]?.value).toBeNull();
  });

  const cases: ReadonlyArray<readonly [string, string, number, RegExp]> = [
    ['malformed JSON', '{"process":0,"type":"invoke","f":"read"}\n{"process":0,', 2, /not valid JSON/],
    ['not an object', '[1,2]', 1, /must be a JSON object/],
    ['process not an integer', '{"process":"a","type":"invoke","f":"read"}', 1, /"process" must be an integer/],
    ['unknown type', '{"process":0,"type":"invoke","f":"read"}\n{"process":0,"type":"done","f":"read"}', 2, /"type" must be one of/],
    ['missing f', '{"process":0,"type":"invoke"}', 1, /"f" must be a non-empty string/],
    ['key not a string', '{"process":0,"type":"invoke","f":"read","key":5}', 1, /"key" must be a string/],
    ['completion without invoke', '{"process":0,"type":"invoke","f":"read"}\n{"process":1,"type":"ok","f":"read","value":null}', 2, /no operation open/],
    [
      'two operations open on one process',
      '{"process":0,"type":"invoke","f":"read"}\n{"process":1,"type":"invoke","f":"read"}\n{"process":0,"type":"invoke","f":"write","value":1}',
      3,
      /still open/,
    ],
    [
      'a process reused after info',
      '{"process":0,"type":"invoke","f":"write","value":1}\n{"process":0,"type":"info","f":"write","value":1}\n{"process":0,"type":"invoke","f":"read"}',
      3,
      /reused after its operation ended in info on line 2/,
    ],
    ['completion of another f', '{"process":0,"type":"invoke","f":"write","value":1}\n{"process":0,"type":"ok","f":"read","value":1}', 2, /does not match/],
    ['completion of another key', '{"process":0,"type":"invoke","f":"read","key":"a"}\n{"process":0,"type":"ok","f":"read","key":"b"}', 2, /names key/],
  ];
  for (const [name, text, line, message] of cases) {
    it(`rejects ${name}, naming line ${line}`, () => {
      const err = errorOf(() => parseJsonl(text));
      expect(err.line).toBe(line);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith(`line ${line}: `)).toBe(true);
    });
  }
});

describe('pairOperations', () => {
  it('drops fail, keeps info with ret +Infinity, treats a missing completion as info', () => {
    const ev = parseJsonl(
      jsonl(
        [0, 'invoke', 'write', 1],
        [1, 'invoke', 'write', 2],
        [2, 'invoke', 'cas', [1, 3]],
        [0, 'ok', 'write', 1],
        [1, 'fail', 'write', 2],
        [2, 'info', 'cas', [1, 3]],
        [3, 'invoke', 'read'],
        [3, 'ok', 'read', 1],
        [4, 'invoke', 'read'],
      ),
    );
    const ops = pairOperations(ev);
    expect(ops.map((o) => [o.id, o.process, o.f, o.status])).toEqual([
      [0, 0, 'write', 'ok'],
      [1, 2, 'cas', 'info'],
      [2, 3, 'read', 'ok'],
      [3, 4, 'read', 'info'],
    ]);
    expect(ops[0]).toMatchObject({ input: 1, call: 0, ret: 3, line: 1, retLine: 4 });
    expect(ops[1]?.ret).toBe(Number.POSITIVE_INFINITY);
    expect(ops[1]?.input).toEqual([1, 3]);
    expect(ops[2]).toMatchObject({ input: null, output: 1 });
    expect(ops[3]?.ret).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('parseEdn', () => {
  it('reads a Knossos vector of maps, with nil, keywords and cas pairs', () => {
    const ev = parseEdn(`[{:process 0, :type :invoke, :f :cas, :value [1 2]}
 {:process 0, :type :ok, :f :cas, :value [1 2]}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value nil}]`);
    expect(ev.map((e) => [e.process, e.type, e.f, e.key, e.value, e.line])).toEqual([
      [0, 'invoke', 'cas', null, [1, 2], 1],
      [0, 'ok', 'cas', null, [1, 2], 2],
      [1, 'invoke', 'read', null, null, 3],
      [1, 'ok', 'read', null, null, 4],
    ]);
  });

  it('reads a Jepsen history.edn: one map per line, comments, :time and extra fields', () => {
    const ev = parseEdn(`; a comment
{:index 0, :time 100, :type :invoke, :process 3, :f :write, :value 5}
{:index 1, :time 250, :type :ok, :process 3, :f :write, :value 5} ; trailing`);
    expect(ev).toHaveLength(2);
    expect(ev[0]).toMatchObject({ process: 3, type: 'invoke', f: 'write', value: 5, time: 100, line: 2, extra: { index: 0 } });
  });

  it('skips nemesis events (non-integer :process)', () => {
    const ev = parseEdn(`({:process :nemesis, :type :info, :f :start, :value nil}
 {:process 0, :type :invoke, :f :read, :value nil}
 {:process :nemesis, :type :info, :f :start, :value [:isolated {"n1" #{"n2"}}]}
 {:process 0, :type :ok, :f :read, :value 1})`);
    expect(ev.map((e) => e.process)).toEqual([0, 0]);
    expect(ev[1]?.line).toBe(4);
  });

  it('reads independent tuples [:k v] as key and value', () => {
    const ev = parseEdn(`[{:process 0, :type :invoke, :f :cas, :value [:x [0 1]]}
{:process 0, :type :ok, :f :cas, :value [:x [0 1]]}
{:process 1, :type :invoke, :f :read, :value [:y nil]}
{:process 1, :type :ok, :f :read, :value [:y 3]}]`);
    expect(ev.map((e) => [e.key, e.value])).toEqual([
      ['x', [0, 1]],
      ['x', [0, 1]],
      ['y', null],
      ['y', 3],
    ]);
  });

  it('reads independent tuples with integer keys, recognised by reads invoked with [k nil]', () => {
    const ev = parseEdn(`{:process 0, :type :invoke, :f :read, :value [0 nil]}
{:process 0, :type :ok, :f :read, :value [0 2]}
{:process 1, :type :invoke, :f :cas, :value [7 [1 2]]}
{:process 1, :type :fail, :f :cas, :value [7 [1 2]]}`);
    expect(ev.map((e) => [e.key, e.value])).toEqual([
      ['0', null],
      ['0', 2],
      ['7', [1, 2]],
      ['7', [1, 2]],
    ]);
  });

  it('keeps cas pairs as values when the history is not independent', () => {
    const ev = parseEdn(`{:process 0, :type :invoke, :f :cas, :value [0 1]}
{:process 0, :type :ok, :f :cas, :value [0 1]}`);
    expect(ev.map((e) => [e.key, e.value])).toEqual([
      [null, [0, 1]],
      [null, [0, 1]],
    ]);
  });

  it('reads records, tagged values, strings, chars, sets, ratios and #_ discards', () => {
    const forms = readEdnForms('#jepsen.history.Op{:a "s\\"q" :b \\c :c #{1 2} :d 1/2 :e #_ 99 7 :f -3N :g 1.5M :h #inst "2020"}');
    expect(forms).toHaveLength(1);
    const ev = parseEdn('#jepsen.history.Op{:process 0, :type :invoke, :f :write, :value "v"}');
    expect(ev[0]?.value).toBe('v');
  });

  const bad: ReadonlyArray<readonly [string, string, number, RegExp]> = [
    ['an unterminated vector', '[{:process 0, :type :invoke, :f :read}\n', 2, /missing '\]'/],
    ['a stray closer', '{:process 0, :type :invoke, :f :read}\n}', 2, /unexpected '\}'/],
    ['an odd map', '[{:process 0, :type}]', 1, /even number/],
    ['an event that is not a map', '[{:process 0, :type :invoke, :f :read}\n 5]', 2, /must be an EDN map/],
    ['a bad type', '[{:process 0, :type :invoke, :f :read}\n{:process 0, :type :yes, :f :read}]', 2, /:type must be one of/],
    ['a completion without invoke', '[{:process 0, :type :invoke, :f :read}\n{:process 1, :type :ok, :f :read, :value 1}]', 2, /no operation open/],
    ['a reused process', '[{:process 0, :type :invoke, :f :read}\n{:process 0, :type :info, :f :read}\n{:process 0, :type :invoke, :f :read}]', 3, /reused/],
    ['a missing :process', '[{:type :invoke, :f :read}]', 1, /needs a :process/],
    ['a plain value in an independent history', '{:process 0, :type :invoke, :f :write, :value [:x 1]}\n{:process 0, :type :ok, :f :write, :value 1}', 2, /independent keys/],
  ];
  for (const [name, text, line, message] of bad) {
    it(`rejects ${name}, naming line ${line}`, () => {
      const err = errorOf(() => parseEdn(text));
      expect(err.line).toBe(line);
      expect(err.message).toMatch(message);
    });
  }
});

describe('parseHistory and formats', () => {
  it('dispatches on the format and guesses it from the file name', () => {
    expect(formatOfPath('a/b/history.edn')).toBe('edn');
    expect(formatOfPath('h.jsonl')).toBe('jsonl');
    expect(parseHistory('{:process 0, :type :invoke, :f :read}', 'edn')).toHaveLength(1);
    expect(parseHistory('{"process":0,"type":"invoke","f":"read"}', 'jsonl')).toHaveLength(1);
  });
});
