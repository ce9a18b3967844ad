/**
 * Heroku names regions two ways: the manifest lists short names (`us`, `eu`, Private Space
 * names), the provisioning body sends `amazon-web-services::<aws region>`. HEROKU_REGIONS may
 * hold either; this map joins them. `us` and `virginia` share us-east-1, so allowing one lets
 * the other's provisions through too: Heroku sends the same value for both.
 */
const awsRegionOf: Record<string, string> = {
  us: 'us-east-1',
  eu: 'eu-west-1',
  virginia: 'us-east-1',
  oregon: 'us-west-2',
  california: 'us-west-1',
  montreal: 'ca-central-1',
  dublin: 'eu-west-1',
  frankfurt: 'eu-central-1',
  london: 'eu-west-2',
  tokyo: 'ap-northeast-1',
  singapore: 'ap-southeast-1',
  sydney: 'ap-southeast-2',
  mumbai: 'ap-south-1'
}
const providerPrefix = 'amazon-web-services::'

/** The provisioning value of an allow-list entry (a short name, or already a full value). */
function provisioningValue (entry: string): string {
  const aws = awsRegionOf[entry]
  return aws === undefined ? entry : `${providerPrefix}${aws}`
}

/** True when `region` (as provisioning sends it) is allowed; no allow-list allows all. */
export function regionAllowed (allowList: string[] | undefined, region: string | undefined): boolean {
  if (allowList === undefined) return true
  if (region === undefined) return false
  return allowList.some((entry) => entry === region || provisioningValue(entry) === region)
}

/** The manifest's `api.regions`: short names for the allow-list, or `*` when any region goes. */
export function manifestRegions (allowList: string[] | undefined): string[] {
  if (allowList === undefined) return ['*']
  const names = allowList.flatMap((entry) => {
    if (entry in awsRegionOf) return [entry]
    const aws = entry.startsWith(providerPrefix) ? entry.slice(providerPrefix.length) : entry
    const matches = Object.keys(awsRegionOf).filter((name) => awsRegionOf[name] === aws)
    return matches.length > 0 ? matches : [entry]
  })
  return [...new Set(names)]
}
