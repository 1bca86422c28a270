/**
 * Reading an operator's file at start-up or on reload: a regular file, not over a size a settings
 * or token file could need, so a wrong path (a device, a log) fails at once with a clear reason.
 *
 * @module
 */

/**
 * The text of the file at `path`; throws a `TypeError` saying why it cannot be read (what a
 * setting's parser throws for a value it cannot use).
 */
export function readBoundedTextFile(path: string, maxBytes: number): string {
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) throw new Error("not a file");
    if (info.size > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new TypeError(`cannot read ${path}: ${(error as Error).message}`);
  }
}
