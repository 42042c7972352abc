export * from './types.js';
export { CommandError } from './command-error.js';
export { RealExec } from './real.js';
export { RecordingExec, PrintingExec, type Responder } from './recording.js';
