import type { PATHS } from '../config/scenario.js';
export type Path = (typeof PATHS)[number];
