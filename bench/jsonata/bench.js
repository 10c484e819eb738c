// Reference side of compare.sh: evaluations per second of jsonata-js on bench cases.
// usage: node bench.js CASES_JSON DATASETS_DIR [SECONDS_PER_CASE]
'use strict';
const fs = require('fs');
const path = require('path');
const jsonata = require('jsonata');

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const datasets = process.argv[3];
  const seconds = Number(process.argv[4] || 1);
  const out = {};
  for (const c of cases) {
    const data = c.dataset ? JSON.parse(fs.readFileSync(path.join(datasets, c.dataset + '.json'), 'utf8')) : c.data;
    const bindings = c.states ? { states: { input: data, context: { Execution: { Id: 'exec-1' } } } } : {};
    const expr = jsonata(c.expr);
    // warm up the JIT
    for (let i = 0; i < 200; i++) await expr.evaluate(data, bindings);
    let n = 0;
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const budget = BigInt(Math.round(seconds * 1e9));
    let elapsed = 0n;
    while (elapsed < budget) {
      for (let i = 0; i < 50; i++) await expr.evaluate(data, bindings);
      n += 50;
      elapsed = process.hrtime.bigint() - start;
    }
    const cpu = process.cpuUsage(cpu0);  // every thread of the process (JIT, GC included)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // compile rate
    let m = 0;
    const cstart = process.hrtime.bigint();
    let celapsed = 0n;
    while (celapsed < budget / 4n) {
      for (let i = 0; i < 50; i++) jsonata(c.expr);
      m += 50;
      celapsed = process.hrtime.bigint() - cstart;
    }
    out[c.name] = {
      evals_per_sec: n / (Number(elapsed) / 1e9),
      cpu_evals_per_sec: cpuSeconds > 0 ? n / cpuSeconds : 0,
      compiles_per_sec: m / (Number(celapsed) / 1e9),
    };
  }
  console.log(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
