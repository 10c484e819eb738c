// Makes the Parquet fixtures of parquet_reader_test.cc and the ItemReader integration test
// with two independent writers from npm (not a dependency of the build or of the tests: the
// generated files are committed). Run once, in a scratch folder:
//   npm install hyparquet-writer@0.17.0 parquetjs-lite@0.8.7
//   node make_parquet_fixtures.mjs <this testdata folder>
import { createRequire } from 'module'
import { parquetWriteFile } from 'hyparquet-writer'

const require = createRequire(import.meta.url)
const parquet = require('parquetjs-lite')
const out = process.argv[2] ?? '.'

// parquetjs-lite: data pages v1, PLAIN values, RLE definition levels for the optional column.
async function lite(name, compression, { pageV2 = false, repeated = false } = {}) {
  const fields = {
    id: { type: 'INT32', compression },
    big: { type: 'INT64', compression },
    name: { type: 'UTF8', optional: true, compression },
    score: { type: 'DOUBLE', compression },
    ratio: { type: 'FLOAT', compression },
    ok: { type: 'BOOLEAN', compression },
  }
  if (repeated) fields.tags = { type: 'UTF8', repeated: true }
  const schema = new parquet.ParquetSchema(fields)
  const writer = await parquet.ParquetWriter.openFile(schema, `${out}/${name}`, { useDataPageV2: pageV2 })
  writer.setRowGroupSize(2)  // three rows: two row groups
  const rows = [
    { id: 1, big: 9007199254740993n, name: 'alpha', score: 1.5, ratio: 0.25, ok: true, tags: ['a', 'b'] },
    { id: -2, big: -5n, score: -0.125, ratio: 2, ok: false, tags: [] },
    { id: 3, big: 0n, name: 'gamma "q"', score: 1e100, ratio: -1.5, ok: true, tags: ['c'] },
  ]
  for (const r of rows) {
    if (!repeated) delete r.tags
    await writer.appendRow(r)
  }
  await writer.close()
}

await lite('lite_plain_uncompressed.parquet', 'UNCOMPRESSED')
await lite('lite_plain_gzip.parquet', 'GZIP')
await lite('lite_plain_snappy.parquet', 'SNAPPY')
await lite('lite_v2_snappy.parquet', 'SNAPPY', { pageV2: true })
await lite('lite_repeated.parquet', 'UNCOMPRESSED', { repeated: true })

// hyparquet-writer: data pages v2, RLE_DICTIONARY for repetitive columns, SNAPPY by default,
// and a FIXED_LEN_BYTE_ARRAY (UUID) column.
const n = 50
parquetWriteFile({
  filename: `${out}/hyparquet_dictionary.parquet`,
  columnData: [
    { name: 'city', data: Array.from({ length: n }, (_, i) => ['Oslo', 'Lima', null][i % 3]), type: 'STRING' },
    { name: 'n', data: Array.from({ length: n }, (_, i) => i), type: 'INT32' },
    { name: 'flag', data: Array.from({ length: n }, (_, i) => i % 2 === 0), type: 'BOOLEAN' },
    { name: 'uuid', data: Array.from({ length: n }, (_, i) => new Uint8Array(16).fill(i)), type: 'UUID', nullable: false },
  ],
  rowGroupSize: 20,
})
