import { BACKENDS, type Check, type Preflight } from '../../../backends/index.js';
import { backendOptionsShape, toBackendOptions } from '../../config/backend.js';
import { parseShape } from '../options.js';
import { binary } from '../../../backends/preflight.js';
import type { Context } from '../context.js';
import { guestVerdict } from '../../guest/doctor.js';
import { insideGuest } from '../../guest/detect.js';

/** `bench doctor`: for each backend, binaries and versions, kernel features, cgroup2 and bpffs;
 * ready or unavailable, with the reason and the fix. */
export async function doctor(ctx: Context, flags: { json?: boolean; iptablesMode?: string }): Promise<void> {
  const options = toBackendOptions(parseShape(backendOptionsShape, flags));
  const host = [
    await binary(ctx.exec, 'ip', ['-V'], 'iproute2'),
    await binary(ctx.exec, 'nsenter', ['--version'], 'util-linux'),
    await binary(ctx.exec, 'sysctl', ['--version'], 'procps'),
    await binary(ctx.exec, 'socat', ['-V'], 'socat'),
    await binary(ctx.exec, 'conntrack', ['--version'], 'conntrack'),
  ];
  const backends: { name: string; title: string; preflight: Preflight }[] = [];
  for (const b of BACKENDS) backends.push({ name: b.name, title: b.title, preflight: await b.preflight(options, ctx.exec) });
  // --kernel guest: possible here? (Inside a guest, the kernel checked above is the guest's own.)
  const guest = insideGuest() ? undefined : await guestVerdict(ctx.exec, { lookUpPackage: true });
  if (flags.json) {
    ctx.out(`${JSON.stringify({ root: process.getuid?.() === 0, host, backends, guest: guest ?? { state: 'inside' } })}\n`);
    return;
  }
  ctx.say(`running as root: ${process.getuid?.() === 0 ? 'yes' : 'no (bench up, run and verify need root)'}`);
  ctx.say('host tools:');
  for (const c of host)
    ctx.say(`  ${c.state === 'ok' ? 'ok     ' : 'MISSING'} ${c.what}${c.detail ? `  ${c.detail}` : ''}${c.fix ? `  → ${c.fix}` : ''}`);
  /** One verdict: ready or unavailable with the reason and fix, then the checks behind it. */
  const say = (title: string, v: { state: string; reason?: string; fix?: string; checks: Check[] }) => {
    ctx.say(`\n${title.replace('%s', v.state === 'ready' ? 'ready' : 'unavailable')}`);
    if (v.state === 'unavailable') ctx.say(`  reason: ${v.reason}\n  fix:    ${v.fix}`);
    for (const c of v.checks) ctx.say(`  ${c.state === 'ok' ? 'ok     ' : 'MISSING'} ${c.what}${c.detail ? `  ${c.detail}` : ''}`);
  };
  for (const b of backends) say(`${b.name}: %s (${b.title})`, b.preflight);
  if (guest) say('guest kernel (--kernel guest): %s', guest);
  else ctx.say('\nrunning inside a svcbench guest kernel');
}
