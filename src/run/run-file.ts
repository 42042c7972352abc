import { createHash } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// run.json on disk: written atomically and carrying a checksum of its own content.
//
// Atomic: the text goes to a temporary file in the same directory (rename(2) is atomic only
// within one file system), is fsync'ed, then renamed over run.json, and the directory is fsync'ed
// so the rename itself survives a crash. A process killed at any moment leaves either the previous
// complete run.json or the new one, never a mix (rename(2): "If newpath already exists, it will be
// atomically replaced, so that there is no point at which another process attempting to access
// newpath will find it missing").
//
// Checksum: the field `contentSha256` is the SHA-256 of the canonical content, JSON.stringify of
// every other field in the file's own order with no whitespace. It lives inside the file, so one
// rename publishes content and checksum together (a sidecar file could not be renamed in the same
// step and would disagree after a kill between the two renames). A reader can tell the two ways a
// file goes wrong apart: text that is not complete JSON is torn or truncated; complete JSON whose
// content does not hash to its checksum was edited after svcbench wrote it. Re-indenting the file
// changes neither: the canonical form ignores whitespace.

export const CHECKSUM_FIELD = 'contentSha256';

/** SHA-256 (hex) of the canonical content of a run.json object: every field but the checksum. */
export function contentChecksum(value: Record<string, unknown>): string {
  const { [CHECKSUM_FIELD]: _ignored, ...content } = value;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** The text written to run.json: the object with its checksum as the last field. The checksum is
 * computed over the object as JSON would read it back (NaN and undefined as JSON writes them). */
export function runFileText(value: object): string {
  const content = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  delete content[CHECKSUM_FIELD];
  return `${JSON.stringify({ ...content, [CHECKSUM_FIELD]: contentChecksum(content) }, null, 1)}\n`;
}

/** The temporary file writeFileAtomic writes `path` through (a run records it before the first
 * write, so `bench clean` removes it when a kill lands between the write and the rename). */
export const tempPathOf = (path: string): string => join(dirname(path), `.${basename(path)}.tmp`);

/** Writes `text` to `path` so that a kill at any moment leaves the old file or the new one. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = tempPathOf(path);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** fsync of a directory makes a rename in it durable. Some file systems (9p without .L, as the
 * guest kernel's results share may be) have no fsync for directories and say EINVAL: the rename
 * is still atomic there, only its durability across a power loss is the file system's. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EBADF') throw e;
  } finally {
    await fh.close();
  }
}

export type RunFileProblem =
  /** Not complete JSON: cut short by a kill or a full disk, or not JSON at all. */
  | 'torn'
  /** Complete JSON whose content does not match its checksum: edited after it was written. */
  | 'mismatch';

/** A run.json that cannot be trusted, with what went wrong and what to do about it. */
export class RunFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: RunFileProblem,
    detail: string,
  ) {
    super(
      problem === 'torn'
        ? `${file} is not complete JSON (${detail}): it was cut short (a kill or a full disk while it was written, or a partial copy) or is not a run.json; copy the run directory again from where it came from, or rerun`
        : `${file} does not match its checksum (${CHECKSUM_FIELD}: recorded ${detail}): it was edited after svcbench wrote it, so its figures may not be the ones measured; restore the original, or delete the "${CHECKSUM_FIELD}" field to accept the edited file as unverified`,
    );
    this.name = 'RunFileError';
  }
}

/** A parsed run.json and whether its checksum was verified ('absent': written before svcbench
 * recorded one, accepted unverified). */
export interface RunFileContent {
  value: unknown;
  checksum: 'verified' | 'absent';
}

/** Reads run.json, checks that it is complete JSON and that its content matches its checksum.
 * The schema is the caller's to check. */
export async function readRunFile(file: string): Promise<RunFileContent> {
  return parseRunFile(await readFile(file, 'utf8'), file);
}

export function parseRunFile(text: string, file: string): RunFileContent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunFileError(file, 'torn', e instanceof Error ? e.message : String(e));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !(CHECKSUM_FIELD in value))
    return { value, checksum: 'absent' };
  const record = value as Record<string, unknown>;
  const recorded = record[CHECKSUM_FIELD];
  const actual = contentChecksum(record);
  if (recorded !== actual)
    throw new RunFileError(file, 'mismatch', `${JSON.stringify(recorded)?.slice(0, 80)}, content hashes to ${actual}`);
  return { value, checksum: 'verified' };
}
