// Drives the Restore Desk JD Cloud simulator with the official JD Cloud JavaScript SDK
// (jdcloud-sdk-js 1.2.202), the way a JD Cloud customer's code would call the real API.
// interop_test.go runs it and checks the report it prints: one JSON object on stdout with one
// entry per step, {ok, value} for a resolved promise or {ok: false, error} for a rejection.
//
// Environment: SIM_HOST (host:port of the simulator), SIM_AK, SIM_SK, SIM_REGION.
'use strict'

// The SDK logs every request, access key included, through its global logger: silence it
// before any service is constructed (each copies the global config).
const JDCloud = require('jdcloud-sdk-js')
require('jdcloud-sdk-js/src/lib/core').config.logger = () => {}
const RDS = require('jdcloud-sdk-js/src/services/rds')
const VPC = require('jdcloud-sdk-js/src/services/vpc')
void JDCloud

const host = process.env.SIM_HOST
const region = process.env.SIM_REGION || 'cn-north-1'
const endpoint = { host, protocol: 'http' }
const credentials = (sk) => ({ accessKeyId: process.env.SIM_AK, secretAccessKey: sk })

const rds = new RDS({ credentials: credentials(process.env.SIM_SK), regionId: region, endpoint })
const vpc = new VPC({ credentials: credentials(process.env.SIM_SK), regionId: region, endpoint })
const rdsWrongSecret = new RDS({ credentials: credentials('not-the-secret'), regionId: region, endpoint })

const report = {}

// step records the outcome of one SDK call. The SDK resolves with the parsed body and rejects
// with the parsed error body, both carrying a node-fetch responseObj that is not JSON.
async function step (name, fn) {
  try {
    const res = await fn()
    const status = res && res.responseObj ? res.responseObj.status : undefined
    if (res) delete res.responseObj
    report[name] = { ok: true, status, value: res }
    return res
  } catch (err) {
    const status = err && err.responseObj ? err.responseObj.status : undefined
    if (err && err.responseObj) delete err.responseObj
    report[name] = {
      ok: false,
      status,
      error: err instanceof Error ? { message: err.message, name: err.name, code: err.code } : err
    }
    return undefined
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main () {
  await step('describeInstances', () => rds.describeInstances({ pageNumber: 1, pageSize: 10 }))
  await step('describeInstancesFiltered', () => rds.describeInstances({
    pageNumber: 1,
    pageSize: 10,
    filters: [
      { name: 'instanceName', values: ['payments*'], operator: 'like' },
      { name: 'engine', values: ['MySQL', 'PostgreSQL'] }
    ],
    tagFilters: [{ key: 'team', values: ['payments'] }]
  }))
  await step('describeInstanceAttributes', () => rds.describeInstanceAttributes({ instanceId: 'mysql-payorders1' }))
  const backups = await step('describeBackups', () => rds.describeBackups({ instanceId: 'mysql-payorders1', pageNumber: 1, pageSize: 10 }))
  await step('describeBackupsPage2', () => rds.describeBackups({ instanceId: 'mysql-payorders1', pageNumber: 2, pageSize: 3 }))
  await step('describeAzs', () => rds.describeAzs({ engine: 'SQL Server' }))
  await step('describeAzsOtherRegion', () => rds.describeAzs({ engine: 'MySQL' }, 'cn-east-2'))
  await step('describeVpcs', () => vpc.describeVpcs({ pageNumber: 1, pageSize: 20 }))
  await step('describeSubnets', () => vpc.describeSubnets({ filters: [{ name: 'vpcId', values: ['vpc-payrestore'] }] }))

  const list = (backups && backups.result && backups.result.backup) || []
  const full = list.find((b) => b.backupStatus === 'COMPLETED')
  if (!full) throw new Error('no COMPLETED backup listed')
  report.backupId = full.backupId

  const spec = (over) => Object.assign({
    instanceName: 'js-restore',
    instanceClass: 'db.mysql.s1.large',
    instanceStorageGB: 200,
    azId: ['cn-north-1a', 'cn-north-1b'],
    vpcId: 'vpc-payrestore',
    subnetId: 'subnet-payrestora',
    chargeSpec: { chargeMode: 'postpaid_by_duration' },
    instanceStorageType: 'LOCAL_SSD',
    instancePort: '3306',
    storageEncrypted: false,
    tagSpec: [{ key: 'restoredesk', value: 'interop/js-1' }]
  }, over)
  const created = await step('createInstanceFromBackup', () => rds.createInstanceFromBackup({
    backupId: full.backupId, engine: 'MySQL', instanceSpec: spec({})
  }))
  const instanceId = created && created.result && created.result.instanceId
  if (instanceId) {
    const statuses = []
    const deadline = Date.now() + 15000
    while (Date.now() < deadline) {
      const res = await step('describeCreated', () => rds.describeInstanceAttributes({ instanceId }))
      const st = res && res.result && res.result.dbInstanceAttributes.instanceStatus
      if (statuses[statuses.length - 1] !== st) statuses.push(st)
      if (st === 'RUNNING' || (st && st.endsWith('_ERROR'))) break
      await sleep(100)
    }
    report.statuses = statuses
    await step('describeByTag', () => rds.describeInstances({
      tagFilters: [{ key: 'restoredesk', values: ['interop/js-1'] }]
    }))
  }

  await step('invalidClass', () => rds.createInstanceFromBackup({
    backupId: full.backupId, engine: 'MySQL', instanceSpec: spec({ instanceClass: 'db.pg.s1.large' })
  }))
  await step('invalidPort', () => rds.createInstanceFromBackup({
    backupId: full.backupId, engine: 'MySQL', instanceSpec: spec({ instancePort: '6000' })
  }))
  await step('invalidSubnet', () => rds.createInstanceFromBackup({
    backupId: full.backupId, engine: 'MySQL', instanceSpec: spec({ subnetId: 'subnet-payprod00a' })
  }))
  await step('invalidEngine', () => rds.createInstanceFromBackup({
    backupId: full.backupId, engine: 'PostgreSQL', instanceSpec: spec({})
  }))
  await step('unknownBackup', () => rds.createInstanceFromBackup({
    backupId: '00000000-0000-4000-8000-000000000000', engine: 'MySQL', instanceSpec: spec({})
  }))
  await step('wrongSecret', () => rdsWrongSecret.describeInstances({ pageNumber: 1, pageSize: 10 }))

  // Point in time: three hours ago, written as the SDK's examples write it (Beijing time, no zone).
  const beijing = new Date(Date.now() - 3 * 3600 * 1000 + 8 * 3600 * 1000).toISOString()
  report.restoreTime = beijing.slice(0, 10) + ' ' + beijing.slice(11, 19)
  await step('describeBackupPolicy', () => rds.describeBackupPolicy({ instanceId: 'mysql-payorders1' }))
  await step('describeLatestRestoreTime', () => rds.describeLatestRestoreTime({ instanceId: 'sqlserver-payrecon01' }))
  await step('describeLatestRestoreTimeMySQL', () => rds.describeLatestRestoreTime({ instanceId: 'mysql-payorders1' }))
  await step('createInstanceByTime', () => rds.createInstanceByTime({
    instanceId: 'mysql-payorders1', restoreTime: report.restoreTime,
    instanceSpec: spec({ instanceStorageGB: 500, tagSpec: [{ key: 'restoredesk', value: 'interop/js-pit' }] })
  }))
  await step('createInstanceByTimeTooSmall', () => rds.createInstanceByTime({
    instanceId: 'mysql-payorders1', restoreTime: report.restoreTime, instanceSpec: spec({ instanceStorageGB: 200 })
  }))

  if (instanceId) {
    await step('deleteInstance', () => rds.deleteInstance({ instanceId }))
    await step('describeDeleted', () => rds.describeInstanceAttributes({ instanceId }))
  }
}

main().then(
  () => { process.stdout.write(JSON.stringify(report) + '\n') },
  (err) => {
    report.fatal = String(err && err.stack ? err.stack : err)
    process.stdout.write(JSON.stringify(report) + '\n')
    process.exitCode = 1
  }
)
