/**
 * Ends an exhaustive `switch`: the call only type-checks when every case is handled, and at run time it
 * throws if a value the types ruled out arrives anyway (e.g. from an older or newer peer).
 */
export function assertNever(value: never, message = 'Unexpected value'): never {
  throw new Error(`${message}: ${JSON.stringify(value)}`);
}
