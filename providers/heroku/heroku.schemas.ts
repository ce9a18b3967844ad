import { Type, type Static } from '@sinclair/typebox'

// Heroku may add fields at any time and they must be accepted, so every object allows extra
// properties. Types are checked strictly (no coercion): a number where a string belongs is a 400.

export const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' })
const Slug = Type.String({ minLength: 1, maxLength: 200 })
const Text = Type.String({ maxLength: 2000 })

/** The v3 provisioning body, and the older one (`heroku_id`, no grant) that kensa sends. */
export const ProvisionBody = Type.Object({
  uuid: Uuid,
  plan: Slug,
  name: Type.Optional(Text),
  heroku_id: Type.Optional(Text),
  region: Type.Optional(Text),
  callback_url: Type.Optional(Text),
  oauth_grant: Type.Optional(Type.Union([Type.Null(), Type.Object({
    code: Type.String(), type: Type.Optional(Type.String()), expires_at: Type.Optional(Type.String())
  })])),
  options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  log_input_url: Type.Optional(Type.Union([Type.Null(), Text])),
  log_drain_token: Type.Optional(Type.Union([Type.Null(), Text]))
}, { additionalProperties: true })
export type ProvisionBody = Static<typeof ProvisionBody>

export const PlanChangeBody = Type.Object({ plan: Slug }, { additionalProperties: true })
export type PlanChangeBody = Static<typeof PlanChangeBody>

export const ResourceParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) })

export const Message = Type.Object({ message: Type.String() })

export const ProvisionReply = Type.Object({
  id: Type.String(),
  config: Type.Record(Type.String(), Type.String()),
  /** A logging add-on's drain, from the vendor's hook. */
  log_drain_url: Type.Optional(Type.String()),
  message: Type.String()
})

/** A plan change's answer: the vendor's new config vars, when its hook gave any (Heroku applies them). */
export const PlanChangeReply = Type.Object({ message: Type.String(), config: Type.Optional(Type.Record(Type.String(), Type.String())) })
export type ProvisionReply = Static<typeof ProvisionReply>

/** The 202 of an asynchronous provision: no config until the vendor completes it. */
export const AsyncProvisionReply = Type.Object({ id: Type.String(), message: Type.String() })
export type AsyncProvisionReply = Static<typeof AsyncProvisionReply>

// nav-data becomes a cookie value as is, so it may hold only cookie-octets (RFC 6265 §4.1.1);
// Heroku sends base64url.
const NavData = Type.String({ maxLength: 4096, pattern: '^[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]*$' })
const Field = Type.String({ maxLength: 500 })

/** The form Heroku POSTs to the manifest's sso_url (union of the v1 and v3 field sets). */
export const SsoForm = Type.Object({
  id: Type.Optional(Field),
  token: Type.Optional(Field),
  resource_id: Type.Optional(Field),
  resource_token: Type.Optional(Field),
  user_scoped_resource_token: Type.Optional(Field),
  timestamp: Field,
  email: Type.Optional(Field),
  user_id: Type.Optional(Field),
  app: Type.Optional(Field),
  context_app: Type.Optional(Field),
  'nav-data': Type.Optional(NavData)
}, { additionalProperties: true })
export type SsoForm = Static<typeof SsoForm>

/** The legacy GET sign-in: the resource id is in the path. */
export const SsoQuery = Type.Object({
  token: Field,
  timestamp: Field,
  email: Type.Optional(Field),
  user_id: Type.Optional(Field),
  app: Type.Optional(Field),
  'nav-data': Type.Optional(NavData)
}, { additionalProperties: true })
export type SsoQuery = Static<typeof SsoQuery>
