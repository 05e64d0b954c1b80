// @loom/snowflake-emulator (test-only): a local server that speaks the REST protocol snowflake-sdk uses, so the
// real driver runs against generated tables with known contents. See server.ts for what it implements.
export { SnowflakeEmulator, type EmulatorOptions, type EmulatorStats } from './server.js';
export { planStatement, SqlError, type RowTypeColumn, type WireTable, type WireValue } from './tables.js';
