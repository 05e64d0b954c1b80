// @loom/models/tasks: the functions trainMany runs on workers, imported there by module reference
// ({ module: '@loom/models/tasks', export: 'trainBatch' }). It loads the families and the source readers, not
// the client library.
export { trainBatch } from './train-batch.js';
