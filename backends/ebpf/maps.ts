import { closeSync } from 'node:fs';
import { check, ENOENT, libbpf, objGet } from './libbpf.js';
import { KEY_SIZE, readEntry, VALUE_SIZE, type SvcEntry } from './layout.js';
import type { MapBatch } from './render.js';

// svc_map through libbpf's batch calls: one bpf() syscall per batch, whatever its size.

/** Runs `f` with an fd of the pinned map, closing it afterwards. */
export function withMap<T>(pin: string, f: (fd: number) => T): T {
  const fd = objGet(pin);
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

export function updateBatch(fd: number, b: MapBatch): void {
  if (b.count === 0) return;
  const count = [b.count];
  check('bpf_map_update_batch', `${b.count} entries`, libbpf().bpf_map_update_batch(fd, b.keys, b.values, count, null));
}

/** Deletes keys; a key already gone (ENOENT stops the kernel's batch at it) is skipped. */
export function deleteBatch(fd: number, keys: Buffer, n: number): void {
  let done = 0;
  while (done < n) {
    const count = [n - done];
    const r = libbpf().bpf_map_delete_batch(fd, keys.subarray(done * KEY_SIZE), count, null);
    if (r >= 0) return;
    if (-r !== ENOENT) check('bpf_map_delete_batch', `${n - done} keys`, r);
    done += count[0]! + 1; // count = keys deleted before the missing one
  }
}

const CHUNK = 8192;

/** Every entry of the map (hash-map batch lookup: the kernel walks bucket by bucket). */
export function dump(fd: number): SvcEntry[] {
  const keys = Buffer.alloc(CHUNK * KEY_SIZE);
  const values = Buffer.alloc(CHUNK * VALUE_SIZE);
  // The batch cursor is a bucket index for hash maps; libbpf wants room for a key.
  const tokens = [Buffer.alloc(64), Buffer.alloc(64)];
  const out: SvcEntry[] = [];
  for (let round = 0; ; round++) {
    const count = [CHUNK];
    const r = libbpf().bpf_map_lookup_batch(
      fd,
      round === 0 ? null : tokens[(round + 1) % 2]!,
      tokens[round % 2]!,
      keys,
      values,
      count,
      null,
    );
    if (r < 0 && -r !== ENOENT) check('bpf_map_lookup_batch', `svc_map`, r);
    for (let i = 0; i < count[0]!; i++) out.push(readEntry(keys, values, i));
    if (r < 0) return out; // ENOENT: the walk is over
  }
}
