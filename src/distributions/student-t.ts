// The Student-t base's lgamma and smallest degrees of freedom, where callers found them before its
// definition moved to src/distributions/kinds/student-t.ts.
export { lgamma, MIN_DF } from './kinds/student-t.js';
