// @loom/models/tasks: the functions trainMany, scoreMany and detectDrift run on workers, imported there by module
// reference ({ module: '@loom/models/tasks', export: 'trainBatch' }). It loads the families and the source
// readers, not the client library.
export { trainBatch } from './train-batch.js';
export { scoreBatch } from './score-batch.js';
export { driftBatch } from './drift-batch.js';
