export * from './types.js';
export { CommandError } from './command-error.js';
export { RealExec } from './real.js';
export { FakeExec, type Responder } from './fake.js';
export { DryRunExec } from './dry-run.js';
export { PrintingExec } from './printing.js';
