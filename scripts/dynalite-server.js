// dynalite (an in-memory DynamoDB-compatible server) for tests and benchmarks.
// Usage: node scripts/dynalite-server.js PORT [DIR]
// With DIR the tables live on disk (LevelDB) and survive a restart, even a SIGKILL: the fault
// tests kill it mid-load and check that every acknowledged write is still there.
// dynalite throws on a client that aborts mid-request (as timeouts and killed load
// generators do); log and carry on rather than let one aborted request end the server.
'use strict'
const dynalite = require('dynalite')

process.on('uncaughtException', (err) => {
  console.error('dynalite: ignored uncaught exception:', err && err.message)
})

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node scripts/dynalite-server.js PORT [DIR]')
  process.exit(2)
}
const path = process.argv[3]
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) })
server.listen(port, '127.0.0.1', () => console.log(`dynalite listening on 127.0.0.1:${port}`))
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)))
}
// Exit with the process that started us, even if it was killed outright.
const parent = process.ppid
setInterval(() => { if (process.ppid !== parent) process.exit(0) }, 1000).unref()
