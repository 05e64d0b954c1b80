// Every graph op in one namespace (`ops.conv1d(g, ...)`), re-exported from the per-family modules.
export * from './ops-elementwise.js';
export * from './ops-nn.js';
export * from './ops-shape.js';
export * from './ops-reduce.js';
export * from './table-conv.js';
