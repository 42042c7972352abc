import { describe, expect, it } from 'vitest';
import { sameService } from './change.js';
import { service, tcp } from './test-support/states.js';

describe('sameService', () => {
  it('a traffic policy change is a change (kube-proxy re-renders the service)', () => {
    const a = service('ns1', 'svc1', '172.30.0.41', [tcp('p80', 80, 80, 30001)]);
    expect(sameService(a, { ...a })).toBe(true);
    expect(sameService(a, { ...a, internalTrafficPolicy: 'Local' })).toBe(false);
    expect(sameService(a, { ...a, externalTrafficPolicy: 'Local' })).toBe(false);
  });
});
