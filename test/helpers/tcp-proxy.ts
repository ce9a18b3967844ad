import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string
  /** The database goes away: every connection is destroyed and new ones are refused (the port closes). */
  cut(): Promise<void>
  /** The database is back: the proxy listens again on the same port. */
  restore(): Promise<void>
  /** The database freezes (SIGSTOP): nothing is forwarded either way; new connections hang. */
  pause(): void
  /** The frozen database thaws: everything held is forwarded. */
  resume(): void
  /** Connections accepted so far (to check that the app really went through the proxy). */
  readonly accepted: number
  close(): Promise<void>
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Postgres), which a test cuts,
 * freezes and restores: the database going away, hanging and coming back, without touching
 * the database server itself (other tests share it).
 */
export async function startTcpProxy (target: { host: string, port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket, upstream: Socket }>()
  let paused = false
  let accepted = 0
  let server: Server | undefined
  let port = 0

  const onConnection = (client: Socket) => {
    accepted++
    const upstream = createConnection(target)
    const pair = { client, upstream }
    pairs.add(pair)
    const end = () => { client.destroy(); upstream.destroy(); pairs.delete(pair) }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    // By hand rather than pipe(): pipe() resumes a paused source on the next 'drain'.
    client.on('data', (chunk: Buffer) => forward(upstream, chunk))
    upstream.on('data', (chunk: Buffer) => forward(client, chunk))
  }
  const held: Array<{ to: Socket, chunk: Buffer }> = []
  const forward = (to: Socket, chunk: Buffer) => {
    if (paused) held.push({ to, chunk })
    else if (!to.destroyed) to.write(chunk)
  }

  const listen = async () => {
    if (server !== undefined) return
    const s = createServer(onConnection)
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, '127.0.0.1', () => resolve()) })
    port = (s.address() as AddressInfo).port
    server = s
  }
  const stopListening = async () => {
    const s = server
    server = undefined
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  const destroyAll = () => {
    held.length = 0
    for (const p of [...pairs]) { p.client.destroy(); p.upstream.destroy(); pairs.delete(p) }
  }

  await listen()
  return {
    get port () { return port },
    get accepted () { return accepted },
    urlFor (url) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    async cut () {
      const closing = stopListening()
      destroyAll()
      await closing
    },
    restore: listen,
    pause () { paused = true },
    resume () {
      paused = false
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk)
    },
    async close () {
      const closing = stopListening()
      destroyAll()
      await closing
    }
  }
}
