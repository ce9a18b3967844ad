import pino, { type Logger } from 'pino'

/**
 * Paths redacted from every log line. Tokens arrive in headers, form bodies and query
 * strings; Fastify's default request serializer logs only method, url, host and ip, and
 * `redactUrl` below strips query strings that carry SSO tokens.
 */
export const redactPaths = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-amzn-marketplace-token"]',
  'req.headers["x-marketgate-events-secret"]', 'res.headers["set-cookie"]',
  '*.password', '*.secret', '*.token', '*.apiKey', '*.api_key', '*.accessToken', '*.refreshToken',
  '*.access_token', '*.refresh_token', '*.client_secret', '*.ticket', '*.resource_token',
  '*.user_scoped_resource_token', '*["x-amzn-marketplace-token"]', 'secretKey', 'adminToken'
]

export function createLogger (level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: {
      req (req: { method: string, url: string, hostname?: string, ip?: string }) {
        return { method: req.method, url: redactUrl(req.url), host: req.hostname, remoteAddress: req.ip }
      }
    }
  }, destination)
}

/** Drops query values that may be credentials (SSO token, marketplace token, tickets). */
export function redactUrl (url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const params = new URLSearchParams(url.slice(q + 1))
  for (const key of [...params.keys()]) {
    if (/token|ticket|code|secret|signature|password/i.test(key)) params.set(key, '[redacted]')
  }
  return `${url.slice(0, q)}?${params.toString()}`
}
