import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'

/**
 * Where a webhook may never go: link-local networks (cloud metadata lives there) and the
 * metadata services of the big clouds. The answer of such an address would be readable in
 * the delivery log (its first KiB), so a webhook URL is a way to read instance credentials.
 * Private networks (10/8, 172.16/12, 192.168/16, 127/8, ::1) stay allowed: the vendor's
 * internal services are what webhooks are for.
 */
const blocked = new BlockList()
blocked.addSubnet('169.254.0.0', 16, 'ipv4') // link-local; AWS, GCP, Azure, OpenStack metadata at .169.254
blocked.addAddress('100.100.100.200', 'ipv4') // Alibaba Cloud metadata
blocked.addSubnet('fe80::', 10, 'ipv6') // link-local
blocked.addAddress('fd00:ec2::254', 'ipv6') // AWS metadata over IPv6 (Nitro)
// The same IPv4 targets through NAT64 (64:ff9b::/96) and the old IPv4-compatible form (::a.b.c.d).
for (const prefix of ['64:ff9b::', '::']) {
  blocked.addSubnet(`${prefix}a9fe:0`, 112, 'ipv6')
  blocked.addAddress(`${prefix}6464:64c8`, 'ipv6')
}

/** Names that reach a metadata service without resolving to one of the addresses above everywhere. */
const blockedNames = new Set(['metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal'])

/** Why an IP address may not receive webhooks, or undefined when it may. */
export function blockedAddressReason (ip: string): string | undefined {
  const family = isIP(ip)
  if (family === 0) return undefined
  // BlockList matches IPv4-mapped IPv6 (::ffff:169.254.169.254, ::ffff:a9fe:a9fe) against the IPv4 rules.
  return blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6') ? `${ip} is a link-local or cloud metadata address` : undefined
}

/** Why a URL's host may not receive webhooks (an address literal or a metadata name), or undefined (also for a URL that does not parse: that is another error). */
export function blockedHostReason (url: string): string | undefined {
  let host: string
  try {
    // The WHATWG parser normalizes every IPv4 spelling (2852039166, 0xa9.254.0251.254) to dotted form.
    host = new URL(url).hostname
  } catch {
    return undefined
  }
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  const name = bare.toLowerCase().replace(/\.+$/, '')
  if (blockedNames.has(name)) return `${name} is a cloud metadata service`
  return blockedAddressReason(bare)
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void

/**
 * A `lookup` for net/tls connect (undici's Agent `connect` passes it through) that drops
 * blocked addresses from the answer, so the check applies to the very address connected to:
 * a name that resolves to a metadata address at delivery time (DNS changed, or rebinding) is
 * never fetched. With nothing left, the connect fails with a clear EADDRBLOCKED error.
 */
export function guardedLookup (base: Lookup = dnsLookup as unknown as Lookup): Lookup {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '')
      const all = (addresses as LookupAddress[])
      const allowed = all.filter((a) => blockedAddressReason(a.address) === undefined)
      if (allowed.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${all.map((a) => a.address).join(', ') || 'nothing'}: link-local or cloud metadata addresses never receive webhooks`)
        e.code = 'EADDRBLOCKED'
        return callback(e, options.all ? [] : '')
      }
      if (options.all) return callback(null, allowed)
      callback(null, allowed[0]!.address, allowed[0]!.family)
    })
  }
}
