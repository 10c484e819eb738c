// Cross-check: every corpus case decided by @cloud-copilot/iam-simulate and by stratus's engine
// (the iam_policy_eval tool, its path the first argument) must agree.
//   node crosscheck.mjs path/to/iam_policy_eval
// Prints one line per disagreement and "N passed, M failed"; exits 1 on any disagreement or when
// iam-simulate refuses a case (a corpus error, not a pass).
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cases } from './corpus.mjs'

const engine = process.argv[2]
if (!engine) {
  console.error('usage: node crosscheck.mjs <iam_policy_eval>')
  process.exit(2)
}

const all = cases()
const expected = []
for (const c of all) {
  const sim = {
    request: {
      principal: c.principal, action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: c.context,
    },
    identityPolicies: c.identity.map((policy, i) => ({ name: `p${i}`, policy })),
    serviceControlPolicies: [], resourceControlPolicies: [],
  }
  if (c.resourcePolicy) sim.resourcePolicy = c.resourcePolicy
  if (c.boundary) sim.permissionBoundaryPolicies = [{ name: 'boundary', policy: c.boundary }]
  if (c.session) sim.sessionPolicy = c.session
  const r = await runSimulation(sim, {})
  if (r.resultType === 'error') {
    console.error(`iam-simulate refused "${c.name}": ${JSON.stringify(r.errors)}`)
    expected.push('error')
  } else {
    expected.push(r.overallResult)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'iam-crosscheck-'))
const file = join(dir, 'corpus.json')
writeFileSync(file, JSON.stringify(all))
const ours = JSON.parse(execFileSync(engine, [file], { encoding: 'utf8' }))

const name = { Allowed: 'Allowed', ExplicitlyDenied: 'ExplicitlyDenied', ImplicitlyDenied: 'ImplicitlyDenied' }
let passed = 0
let failed = 0
all.forEach((c, i) => {
  if (expected[i] !== 'error' && name[expected[i]] === ours[i]) {
    passed++
  } else {
    failed++
    console.log(`DIFF "${c.name}": iam-simulate ${expected[i]}, stratus ${ours[i]}`)
  }
})
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
