// Table operations on partitions: filter, select, assign, head, count, sum, concat, slice, and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Int32, Schema, Table, Utf8, vectorFromArray, Field, Float64 } from 'apache-arrow';
import { decodeValue, encodeValue } from '@loom/protocol';
import {
  assignColumns, concatTables, countRows, filterRows, headRows, PartitionError, selectColumns, sliceRows, sumNumbers,
} from '../src/index.js';
import { rowsOf } from './helpers.js';
import { withMetadata } from '../src/table-meta.js';

function sample(): Table {
  const a = new Table({ id: vectorFromArray([1, 2, 3], new Int32()), body: vectorFromArray(['spam!', 'ham', null], new Utf8()) });
  const b = new Table({ id: vectorFromArray([4, 5], new Int32()), body: vectorFromArray(['SPAM', 'eggs'], new Utf8()) });
  return a.concat(b); // two record batches
}

test('filterRows keeps the rows the predicate accepts, across batches, with types and metadata kept', () => {
  const table = withMetadata(sample(), new Map([['loom.skipped_rows', '2']]));
  const out = filterRows(table, '(row) => row.body !== null && row.body.toLowerCase().includes("spam")');
  assert.deepEqual(rowsOf(out), [[1, 'spam!'], [4, 'SPAM']]);
  assert.equal(String(out.schema.fields[0]?.type), 'Int32');
  assert.equal(out.schema.metadata.get('loom.skipped_rows'), '2');
  assert.equal(filterRows(table, '(row) => false').numRows, 0);
  assert.throws(() => filterRows(table, '(row) => row.nope.x'), (error: unknown) =>
    error instanceof PartitionError && error.code === 'USER_FUNCTION_FAILED' && /row 0/.test(error.message));
  assert.throws(() => filterRows(table, 'not a function('), /cannot compile row function/);
});

test('assignColumns adds and replaces columns with types inferred from the values', () => {
  const out = assignColumns(sample(), {
    double: '(row) => row.id * 2',
    id: '(row) => String(row.id)',
    long: '(row) => row.body === null ? null : row.body.length > 3',
    chars: '(row) => Int8Array.from([row.id, -row.id])',
    when: '(row) => new Date(row.id * 1000)',
  });
  assert.deepEqual(out.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    ['id:Utf8', 'body:Utf8', 'double:Float64', 'long:Bool', 'chars:FixedSizeList[2]<Int8>', 'when:Timestamp<MILLISECOND>']);
  assert.deepEqual(rowsOf(out)[2], ['3', null, 6, null, [3, -3], 3000]);
  assert.equal(out.numRows, 5);
  assert.throws(() => assignColumns(sample(), { mixed: '(row) => row.id > 2 ? "x" : 1' }), /mixes number and string/);
  const roundTripped = decodeValue(encodeValue(out)) as Table;
  assert.deepEqual(rowsOf(roundTripped), rowsOf(out));
});

test('selectColumns keeps order and names unknown columns with the real ones', () => {
  assert.deepEqual(rowsOf(selectColumns(sample(), ['body'])), [['spam!'], ['ham'], [null], ['SPAM'], ['eggs']]);
  assert.throws(() => selectColumns(sample(), ['body', 'nope', 'nada']), (error: unknown) =>
    error instanceof PartitionError && error.code === 'UNKNOWN_COLUMN' && error.message === 'unknown columns "nope", "nada"; the table has: id, body');
});

test('head, slice, count and sum; slices survive the Arrow codec', () => {
  const table = sample();
  assert.deepEqual(rowsOf(headRows(table, 2)), [[1, 'spam!'], [2, 'ham']]);
  assert.equal(headRows(table, 10).numRows, 5);
  const middle = sliceRows(table, 2, 4);
  assert.deepEqual(rowsOf(middle), [[3, null], [4, 'SPAM']]);
  assert.deepEqual(rowsOf(decodeValue(encodeValue(middle)) as Table), [[3, null], [4, 'SPAM']]);
  assert.equal(countRows(table), 5);
  assert.equal(sumNumbers([1, 2, 3.5]), 6.5);
  assert.equal(sumNumbers([]), 0);
});

test('concatTables sums skipped rows and refuses different schemas naming both', () => {
  const a = withMetadata(sample(), new Map([['loom.skipped_rows', '2']]));
  const b = withMetadata(sample(), new Map([['loom.skipped_rows', '3']]));
  const joined = concatTables([a, b]);
  assert.equal(joined.numRows, 10);
  assert.equal(joined.schema.metadata.get('loom.skipped_rows'), '5');
  const other = new Table(new Schema([new Field('id', new Float64(), true), new Field('body', new Utf8(), true)]));
  assert.throws(() => concatTables([a, other]), (error: unknown) =>
    error instanceof PartitionError && error.code === 'SCHEMA_MISMATCH' &&
    error.message.includes('table 0 has { id: Int32, body: Utf8 }') && error.message.includes('table 1 has { id: Float64, body: Utf8 }'));
  assert.throws(() => concatTables([]), /at least one table/);
});
