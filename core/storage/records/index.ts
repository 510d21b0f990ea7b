// The public API of the versioned document-graph store (Concourse's data model). Stable: add,
// never rename or remove. See docs/storage-records.md.
export { RecordError, type RecordErrorCode } from './errors.js';
export {
  type Value,
  type ValueType,
  type ValueClass,
  type RecordId,
  VALUE_TYPES,
  VALUE_CLASSES,
  INT32_MIN,
  INT32_MAX,
  LONG_MIN,
  LONG_MAX,
  RECORD_ID_MAX,
  KEY_LENGTH_MAX,
  bool,
  integer,
  long,
  double,
  str,
  link,
  timestampMicros,
  checkValue,
  checkKey,
  recordId,
  classOf,
  sameValue,
  compareValues,
  compareWithinClass,
  compareCodePoints,
  valuesEqualForCriteria,
  isNumeric,
  showValue,
} from './values.js';
export {
  OPERATORS,
  type Operator,
  type Condition,
  type Criteria,
  type CheckedCriteria,
  where,
  checkCriteria,
  criteriaKeys,
} from './criteria.js';
export { type RecordWrite, type RecordWriteOp, type WriteResult } from './writes.js';
export {
  RecordReader,
  type ReaderOptions,
  type Revision,
  type ValueRecords,
  type KeyDiff,
  type ValueDiff,
  type Chronicle,
  type Navigated,
  type CalculateFunction,
  type Scope,
} from './reader.js';
export { type RecordRevisionEvent, type BatchOptions } from './batch.js';
export { RecordStore, type RecordStoreOptions, type Prepared } from './store.js';
export { planDocument, type DocumentPlan } from './documents.js';
export { fold as foldForSearch, GRAM_LENGTH } from './fulltext.js';
export { encodeValue, decodeValue } from './codec.js';
export { NAMESPACE as RECORDS_NAMESPACE } from './layout.js';
export type { KVReader } from './staged.js';
export { parseCriteria, parseValueLiteral } from './ccl.js';
export { AND_VERIFY_MAX, ESTIMATE_ROWS_MAX } from './find-plan.js';
