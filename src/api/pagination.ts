import { Type, type TSchema } from '@sinclair/typebox'

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 }))
}

export const ErrorJson = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() })
}, { $id: 'Error' })

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) })
