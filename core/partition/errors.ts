// A cluster configuration that cannot be placed. Raised at start-up, before any group exists,
// with a message an operator can act on.
export class PartitionConfigError extends Error {
  override readonly name = 'PartitionConfigError';
  constructor(
    /** The configuration field at fault, as written in conclave.yaml. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
