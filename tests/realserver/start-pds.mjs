// Starts the atproto reference PDS (@atproto/pds) from its environment configuration, as the
// official distribution's service/index.js does; copied next to node_modules in the cache folder.
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'

const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.start()
console.log(`PDS ${pds.ctx.cfg.service.version ?? ''} listening on ${pds.ctx.cfg.service.publicUrl}`)

const stop = async () => {
  await pds.destroy()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
