// The workflow bundle's entry: every workflow type the worker registers.
export { scaleIn } from './scale-in';
export type { ScaleInCarry } from './scale-in';
export { scaleInWindow } from './window';
export { repairDrained } from './repair';
