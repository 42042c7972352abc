import { describe, expect, it } from 'vitest';
import { localize } from './nodes.js';
import type { ClusterState } from './types.js';

describe('localize', () => {
  it('marks as local exactly the endpoints whose pods run on the node', () => {
    const state: ClusterState = {
      services: [],
      endpoints: {
        'a/web': [
          { ip: '10.244.0.2', local: true },
          { ip: '10.244.64.2', local: true },
        ],
        'a/db': [{ ip: '10.244.64.3', local: false }],
      },
    };
    expect(localize(state, new Set(['10.244.64.2', '10.244.64.3'])).endpoints).toEqual({
      'a/web': [
        { ip: '10.244.0.2', local: false },
        { ip: '10.244.64.2', local: true },
      ],
      'a/db': [{ ip: '10.244.64.3', local: true }],
    });
    // The input is left as it was.
    expect(state.endpoints['a/web']![1]!.local).toBe(true);
  });
});
