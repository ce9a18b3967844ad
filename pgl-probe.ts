import { PGlite } from '@electric-sql/pglite'
let t0 = Date.now()
const a = new PGlite(); await a.waitReady
console.log('new', Date.now() - t0)
t0 = Date.now()
const b = new PGlite(); await b.waitReady
console.log('new2', Date.now() - t0)
await a.exec('create table x (id int); insert into x values (1)')
t0 = Date.now()
const dump = await a.dumpDataDir('none')
console.log('dump', Date.now() - t0, dump.size)
t0 = Date.now()
const c = new PGlite({ loadDataDir: dump }); await c.waitReady
console.log('load', Date.now() - t0, (await c.query('select * from x')).rows)
t0 = Date.now()
const d = await a.clone()
console.log('clone', Date.now() - t0, (await d.query('select * from x')).rows)
