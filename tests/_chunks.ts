/**
 * Chunk splits for the codec tests: the same bytes cut at any points, so
 * a test can prove a codec's output does not depend on where reads end.
 *
 * @module
 */

/**
 * The bytes cut at the given points (taken modulo the length, duplicates
 * dropped), as consecutive chunks; empty chunks stay.
 */
export function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))]
    .sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let previous = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(previous, point));
    previous = point;
  }
  chunks.push(bytes.subarray(previous));
  return chunks;
}
