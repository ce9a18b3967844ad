import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { configuredProducts, type ProductsConfig } from '../products.js'
import { pageOf } from './pagination.js'

export const ProductJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  marketplaces: Type.Array(Type.String())
})

/** GET /v1/products: the products this deployment serves (one page: they are few, and configured). */
export const productsRoutes: FastifyPluginAsyncTypebox<{ config: ProductsConfig }> = async (app, { config }) => {
  const data = configuredProducts(config).map((p) => ({ id: p.id, name: p.name, marketplaces: [...p.marketplaces] }))
  app.get('/products', {
    schema: {
      tags: ['products'],
      summary: 'The products this deployment serves and the marketplaces each is listed on (no secrets)',
      response: { 200: pageOf(ProductJson) }
    }
  }, async () => ({ data, next_cursor: null }))
}
