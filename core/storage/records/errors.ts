// The one error type of the record store: a client's mistake (bad key, wrong type, unknown
// operator, a duplicate where one was required) carries a code the HTTP layer maps to 400/409/412.

export type RecordErrorCode =
  | 'bad-key'
  | 'bad-record'
  | 'bad-value'
  | 'bad-document'
  | 'bad-criteria'
  | 'bad-operator'
  | 'bad-path'
  | 'bad-time'
  | 'bad-query'
  | 'not-numeric'
  | 'duplicate';

export class RecordError extends Error {
  override readonly name = 'RecordError';
  constructor(
    readonly code: RecordErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function fail(code: RecordErrorCode, message: string): never {
  throw new RecordError(code, message);
}
