// The rules kube-proxy writes (knftables' text) in the form `nft list` prints them back, for the
// description of the table (table.ts) that read-back compares with a listing. Only the few
// expressions that nft prints differently are translated; every rule kube-proxy writes is
// covered by load.test.ts, which compares this form with a real listing line by line.

import { BenchError } from '../../src/errors.js';

/** `mark set mark or 0x4000` → `meta mark set meta mark | 0x00004000`, `{ a , b }` → `{ a, b }`, … */
export function listed(rule: string, mark: string): string {
  if (!rule.includes('mark') && !rule.includes(' , ') && !rule.includes('addr . port')) return rule;
  const m = formatMark(mark);
  return (
    rule
      .replaceAll(`mark set mark or ${mark}`, `meta mark set meta mark | ${m}`)
      .replaceAll(`mark set mark xor ${mark}`, `meta mark set meta mark ^ ${m}`)
      .replaceAll(`mark and ${mark} == 0 `, `meta mark & ${m} == 0x00000000 `)
      .replaceAll(`mark and ${mark} != 0 `, `meta mark & ${m} != 0x00000000 `)
      .replaceAll(' , ', ', ')
      // nft leaves out the protocol match that `P dport` already implies (#140362's lb chains).
      .replace(/^meta l4proto (tcp|udp|sctp) dnat ip addr \. port to ip daddr \. \1 dport /, 'dnat ip to ip daddr . $1 dport ')
      .replaceAll('dnat ip addr . port to ', 'dnat ip to ')
  );
}

/** "0x4000" (or "16384") → "0x00004000", the form in which `nft list` prints a mark. */
export function formatMark(mark: string): string {
  const n = Number(mark);
  if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw new BenchError(`nft render: invalid masquerade mark ${JSON.stringify(mark)}`);
  return `0x${n.toString(16).padStart(8, '0')}`;
}
