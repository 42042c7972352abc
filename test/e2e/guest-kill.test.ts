import { describe, expect, it } from 'vitest';
import { bench, isRoot, rootSnapshot } from '../helpers.js';
import { guestHooks, guestResidue, NONE, qemuOf, startGuest } from './guest-helpers.js';

// A guest run whose host process is SIGKILLed: qemu outlives it until `bench clean`. Apart from
// guest.test.ts because it leaves an ownerless qemu and state file for a moment, and runs its own
// `bench clean`: it belongs with the files that look at the machine as a whole (vitest.config.ts).

describe.runIf(isRoot)('bench … --kernel guest, killed', () => {
  const before = guestHooks();

  it('SIGKILL of the host process leaves qemu running; bench clean kills it and removes its files', async () => {
    const g = startGuest(['verify', '--backend', 'nft', '--kernel', 'guest']);
    const id = await g.id;
    // qemu is recorded (as the sh that execs it) before it starts: wait until the sh has become
    // qemu (killed earlier, the sh reads end of file instead of its go, and exits).
    const deadline = Date.now() + 20_000;
    while (qemuOf(id).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    g.child.kill('SIGKILL');
    await g.child;
    expect(guestResidue(id).qemu.length, 'qemu outlives its killed owner').toBe(1);
    expect(guestResidue(id).jobDir).toBe(true);
    const c = await bench(['clean']);
    expect(c.exitCode, c.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(guestResidue(id)).toEqual(NONE);
    expect(await rootSnapshot()).toEqual(before());
  }, 60_000);
});
