// @loom/testing: helpers that Loom's test suites share and no runtime package needs (as Temporal keeps
// @temporalio/testing apart from its client). Not published.
export { Random, seededRandom } from './random.js';
export { parsePrometheusText, type PrometheusFamily, type PrometheusSample } from './prometheus-text.js';
export { freePort } from './free-port.js';
export { eventually } from './eventually.js';
