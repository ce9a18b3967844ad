import type { FastifyInstance } from 'fastify'
import type { Account } from '../../core/index.js'
import type { Services } from '../services.js'
import { sessionCookieName, type LoginService, type Session } from './login.handoff.js'

export const boomerangScript = 'https://s3.amazonaws.com/assets.heroku.com/boomerang/boomerang.js'

export function escapeHtml (value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** A small self-contained HTML page (no external CSS; scripts only where a marketplace needs them). */
export function htmlPage (title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}</style>${head}
</head><body>${body}</body></html>`
}

function signedInPage (account: Account, session: Session, herokuAddon: string | undefined): string {
  const heroku = account.marketplace === 'heroku'
  // Heroku asks add-on pages reached through SSO to show its navigation (Boomerang).
  const head = heroku && herokuAddon !== undefined
    ? `<script src="${boomerangScript}"></script>
<script>document.addEventListener('DOMContentLoaded', function () { Boomerang.init(${JSON.stringify({ app: session.app ?? '', addon: herokuAddon }).replace(/</g, '\\u003c')}) })</script>`
    : ''
  return htmlPage('Signed in', `<h1>You are signed in</h1>
<p id="welcome">Signed in${session.email ? ` as <strong>${escapeHtml(session.email)}</strong>` : ''} to account <code>${escapeHtml(account.externalId)}</code>.</p>
<dl>
<dt>Marketplace</dt><dd id="marketplace">${escapeHtml(account.marketplace)}</dd>
<dt>Account</dt><dd id="account">${escapeHtml(account.externalId)}</dd>
<dt>App</dt><dd id="app">${escapeHtml(session.app ?? '—')}</dd>
<dt>Plan</dt><dd id="plan">${escapeHtml(account.plan ?? '—')}</dd>
<dt>Status</dt><dd id="status">${escapeHtml(account.status)}</dd>
</dl>`, head)
}

/**
 * GET /session: the gateway's own signed-in page, used when MARKETGATE_LOGIN_URL is unset.
 * It reads the signed session cookie set at sign-in; without one it says so (401).
 */
export async function sessionPage (app: FastifyInstance, opts: { services: Services, login: LoginService }): Promise<void> {
  app.get('/session', { schema: { tags: ['login'], summary: "The gateway's own signed-in page (HTML)" } }, async (request, reply) => {
    const session = opts.login.readSession(parseCookie(request.headers.cookie, sessionCookieName))
    const account = session && await opts.services.accounts.getAccount(session.accountId)
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8')
    if (session === undefined || account === undefined) {
      return reply.status(401).send(htmlPage('Not signed in', '<h1>Not signed in</h1><p>Open this service from your marketplace console to sign in.</p>'))
    }
    return signedInPage(account, session, opts.services.config.heroku?.addonId)
  })
}

function parseCookie (header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim())
      } catch {
        return undefined // malformed escapes: no session, not a 500
      }
    }
  }
  return undefined
}
