import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { rememberingOpener, signatureHeaders } from '../../../src/webhooks/webhook.signer.js'

t.test('the remembering opener opens each sealed value once, and forgets everything past its bound', async (t) => {
  const opened: string[] = []
  const box = { open: (sealed: string) => { opened.push(sealed); return `clear:${sealed}` } }
  const o = rememberingOpener(box, 2)
  t.equal(o.open('a'), 'clear:a')
  t.equal(o.open('a'), 'clear:a')
  t.equal(o.open('b'), 'clear:b')
  t.same(opened, ['a', 'b'], 'a second open of a is remembered')
  t.equal(o.open('c'), 'clear:c', 'past the bound: starts over')
  t.equal(o.open('a'), 'clear:a')
  t.same(opened, ['a', 'b', 'c', 'a'])
})

t.test('signatures made with kept signers verify, for each secret of a rotation', async (t) => {
  const secrets = ['whsec_' + Buffer.alloc(32, 1).toString('base64'), 'whsec_' + Buffer.alloc(32, 2).toString('base64')]
  const at = new Date()
  for (let i = 0; i < 3; i++) {
    const body = JSON.stringify({ n: i })
    const headers = signatureHeaders(`msg_${i}`, at, body, secrets)
    for (const s of secrets) t.ok(new Webhook(s).verify(body, headers), `secret ${s.slice(0, 9)}… verifies message ${i}`)
    t.equal(headers['webhook-signature']!.split(' ').length, 2)
  }
})
