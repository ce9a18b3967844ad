import t from 'tap'
import { fieldName, schemaErrorFormatter } from '../../../src/http/schema-errors.js'
import { build } from '../../helpers/build.js'

t.test('field names read like the JSON they point into', async (t) => {
  t.equal(fieldName('body', '/events/0'), 'body.events[0]')
  t.equal(fieldName('querystring', '/limit'), 'query.limit')
  t.equal(fieldName('params', ''), 'params')
  t.equal(fieldName('body', '/a~1b/c~0d'), 'body.a/b.c~d')
})

t.test('one sentence per error list', async (t) => {
  const union = [
    { instancePath: '/status', keyword: 'const', params: { allowedValue: 'pending' }, message: 'must be equal to constant' },
    { instancePath: '/status', keyword: 'const', params: { allowedValue: 'active' }, message: 'must be equal to constant' },
    { instancePath: '/status', keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' }
  ]
  t.equal(schemaErrorFormatter(union, 'querystring').message, 'query.status must be one of: pending, active')
  t.equal(schemaErrorFormatter([{ instancePath: '', keyword: 'required', params: { missingProperty: 'url' }, message: "must have required property 'url'" }], 'body').message,
    'body.url is required')
  t.equal(schemaErrorFormatter([{ instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'colour' }, message: 'must NOT have additional properties' }], 'body').message,
    'body.colour is not allowed')
  t.equal(schemaErrorFormatter([
    { instancePath: '/description', keyword: 'type', params: { type: 'string' }, message: 'must be string' },
    { instancePath: '/description', keyword: 'type', params: { type: 'null' }, message: 'must be null' },
    { instancePath: '/description', keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' }
  ], 'body').message, 'body.description must be string or null')
  t.equal(schemaErrorFormatter([{ instancePath: '/plan', message: 'Expected string' }], 'body').message, 'body.plan Expected string', 'TypeBox errors keep their text, named')
})

t.test('a bad event type in a webhook endpoint is one line listing the allowed types', async (t) => {
  const { app, auth } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: auth, payload: { url: 'https://vendor.test/h', events: ['account.provisioned', 'account.nope'] } })
  t.equal(res.statusCode, 400)
  const { code, message } = res.json().error
  t.equal(code, 'VALIDATION_FAILED')
  t.match(message, /^body\.events\[1\] must be one of: account\.provisioned, account\.plan_changed, account\.cancelled, /)
  t.notMatch(message, /\n|must be equal to constant|must be null/, 'one sentence, no ajv noise')
})
