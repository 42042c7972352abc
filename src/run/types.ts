export type { Path } from '../model/paths.js';
