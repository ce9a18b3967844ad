import t from 'tap'
import { findBadInput, maxDepth } from '../../../src/http/input-guard.js'

const nest = (levels: number, leaf: unknown = 1): unknown => {
  let v = leaf
  for (let i = 0; i < levels; i++) v = { a: v }
  return v
}

t.test('a NUL or a lone surrogate is found and named by its path', async (t) => {
  t.equal(findBadInput({ name: 'a\u0000b' }, 'body'), 'body.name must not contain NUL (\\u0000)')
  t.equal(findBadInput({ options: { list: ['ok', '\ud800'] } }, 'body'), 'body.options.list[1] must not contain a lone UTF-16 surrogate')
  t.equal(findBadInput({ options: { 'k\u0000': 1 } }, 'body'), 'body.options has a key that must not contain NUL (\\u0000)')
  t.equal(findBadInput({ external_id: '\u0000' }, 'query'), 'query.external_id must not contain NUL (\\u0000)')
  t.equal(findBadInput('a\udfffb', 'body'), 'body must not contain a lone UTF-16 surrogate', 'a text body is a string')
  t.equal(findBadInput([{ x: '\ud83d' }], 'body'), 'body[0].x must not contain a lone UTF-16 surrogate', 'a high surrogate without its pair')
})

t.test('well-formed text passes, surrogate pairs included', async (t) => {
  t.equal(findBadInput({ name: 'ok 😀 é 中', n: 1, b: true, z: null, list: [1, 'two', { three: 3 }] }, 'body'), undefined)
  t.equal(findBadInput(undefined, 'body'), undefined)
  t.equal(findBadInput(Buffer.from([0]), 'body'), undefined, 'binary bodies are not text')
})

t.test('nesting is bounded, iteratively', async (t) => {
  t.equal(findBadInput(nest(maxDepth - 1), 'body'), undefined, `${maxDepth} levels including the body itself pass`)
  t.match(findBadInput({ options: nest(3000) }, 'body'), /^body\.options(\.a)+ nests deeper than 64 levels$/)
  // Far deeper than any recursion would survive: the walk uses its own stack.
  const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000))
  t.match(findBadInput(deep, 'body'), /nests deeper than 64 levels$/)
})

t.test('the check is cheap on a provisioning-sized body', async (t) => {
  const body = { uuid: '01234567-89ab-cdef-0123-456789abcdef', name: 'acme-inc-primary-database', plan: 'basic', region: 'amazon-web-services::us-east-1', callback_url: 'https://api.heroku.com/addons/x', oauth_grant: { code: 'c', expires_at: 'e', type: 't' }, options: { foo: 'bar' } }
  const started = process.hrtime.bigint()
  for (let i = 0; i < 20_000; i++) findBadInput(body, 'body')
  const perCallUs = Number(process.hrtime.bigint() - started) / 20_000 / 1000
  t.ok(perCallUs < 100, `about ${perCallUs.toFixed(2)} µs per body`)
})
