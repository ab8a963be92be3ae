// duckdb_query.js EVENTS.csv OUT — tools/bench.sh's DuckDB side: the time of
// each account's 3rd login (msl's `three_logins` achieved_at), written as
// "account,time" lines. Cells are read as text so times compare as msl
// writes them. Needs @duckdb/node-api (npm install @duckdb/node-api).
'use strict';
const fs = require('fs');
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [events, out] = process.argv.slice(2);
  if (!events || !out) {
    console.error('usage: node duckdb_query.js EVENTS.csv OUT');
    process.exit(2);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const path = events.replace(/'/g, "''");
  const reader = await connection.runAndReadAll(
    `SELECT account, time FROM (
       SELECT account, time,
              row_number() OVER (PARTITION BY account ORDER BY time) AS rn
       FROM read_csv('${path}', header = true, all_varchar = true)
       WHERE event = 'login')
     WHERE rn = 3 ORDER BY account`);
  const lines = reader.getRows().map((r) => `${r[0]},${r[1]}\n`);
  fs.writeFileSync(out, lines.join(''));
}

main().catch((err) => {
  console.error(`duckdb: ${err.message}`);
  process.exit(1);
});
