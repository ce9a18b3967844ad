import type { Marketplace } from '../core/index.js'
import type { Config } from './config.js'

/** A product as the vendor API shows it (CONTRACT §6): no secrets, only what identifies it. */
export interface ProductInfo {
  id: string
  name: string
  /** The marketplaces it is listed on, sorted. */
  marketplaces: Marketplace[]
}

export type ProductsConfig = Readonly<Pick<Config, 'productId' | 'heroku' | 'aws'>>

/**
 * The products this configuration serves: for now the one the environment configures
 * (MARKETGATE_PRODUCT_ID), named by the Heroku add-on's display name where there is one.
 */
export function configuredProducts (config: ProductsConfig): ProductInfo[] {
  const marketplaces: Marketplace[] = []
  if (config.aws !== undefined) marketplaces.push('aws')
  if (config.heroku !== undefined) marketplaces.push('heroku')
  return [{ id: config.productId, name: config.heroku?.addonName ?? config.productId, marketplaces }]
}
