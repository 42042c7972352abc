// Benchmark: how long `bench up --pods N` takes to build the topology and `bench down` to remove
// it, as the commands themselves report (their own clocks, without Node's start-up), plus wall
// time of the whole process. Usage: node dist/scripts/bench-sandbox.js [PODS] [ROUNDS] [NODES]
import { execa } from 'execa';
import { median } from '../src/stats/index.js';
import { BENCH } from '../test/built.js';

const pods = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 5);
const nodes = Number(process.argv[4] ?? 1);

const upTimes: number[] = [];
const downTimes: number[] = [];
const upWall: number[] = [];
const downWall: number[] = [];
for (let i = 0; i < rounds; i++) {
  let t = performance.now();
  const up = await execa(process.execPath, [BENCH, 'up', '--pods', String(pods), '--nodes', String(nodes), '--json']);
  upWall.push((performance.now() - t) / 1000);
  const { runId, buildSeconds } = JSON.parse(up.stdout) as { runId: string; buildSeconds: number };
  upTimes.push(buildSeconds);
  t = performance.now();
  const down = await execa(process.execPath, [BENCH, 'down', runId]);
  downWall.push((performance.now() - t) / 1000);
  downTimes.push(Number(/in (\d+\.\d+) s/.exec(down.stderr)![1]));
}
const fmt = (xs: number[]) => `median ${median(xs).toFixed(2)} s (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`;
console.log(`bench up --pods ${pods} --nodes ${nodes}, ${rounds} rounds: build ${fmt(upTimes)}; whole process ${fmt(upWall)}`);
console.log(`bench down: remove ${fmt(downTimes)}; whole process ${fmt(downWall)}`);
