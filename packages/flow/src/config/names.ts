/** Small helpers for lists of names, shared by loading and export. */

/** De-duplicated, first occurrence kept, order kept. */
export function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/** Code-unit order: the same everywhere, whatever the locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
