/** The small HTML pages a buyer's browser sees when registration cannot go on. */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function page (title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}</style>
</head><body><h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>
`
}

export const restart = 'Please return to AWS Marketplace, open your subscription and choose "Set up your account" again.'

/** Status and page for each way registration ends early; 4xx is the buyer's, 5xx ours or AWS's. */
export const registrationPages = {
  missingToken: { status: 400, title: 'Registration link incomplete', message: `This page expects a registration from AWS Marketplace. ${restart}` },
  invalidToken: { status: 400, title: 'Registration link not valid', message: `AWS Marketplace did not recognise this registration. ${restart}` },
  expiredToken: { status: 400, title: 'Registration link expired', message: `This registration link has expired. ${restart}` },
  foreignProduct: { status: 400, title: 'Registration for another product', message: 'This registration belongs to a different AWS Marketplace product than this service.' },
  throttled: { status: 503, title: 'Busy, please retry', message: 'AWS Marketplace is asking us to slow down. Please reload this page in a minute.' },
  unavailable: { status: 503, title: 'Temporarily unavailable', message: 'We could not reach AWS Marketplace to confirm your subscription. Please reload this page in a few minutes.' },
  ended: { status: 410, title: 'Subscription ended', message: 'This AWS Marketplace subscription has ended. Subscribe again from AWS Marketplace to continue.' },
  failed: { status: 409, title: 'Subscription not completed', message: 'AWS Marketplace reported that this subscription could not be completed. Please check your AWS Marketplace subscriptions.' },
  received: { status: 200, title: 'Registration received', message: 'Thank you: your AWS Marketplace subscription is registered. You will hear from us shortly.' }
} as const
export type RegistrationPage = keyof typeof registrationPages
