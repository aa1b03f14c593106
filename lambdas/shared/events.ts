import { z } from 'zod';
import { CURRENCIES, type Currency } from './currency';

/**
 * The event model: one envelope, a payload per event type. These zod schemas are the single source of
 * truth for the event types; the TypeScript types below are inferred from them.
 */

export const SCHEMA_VERSION = 1;

/** An ISO-4217 code that the USD rate table knows, normalised to upper case. */
const currency = z
  .string()
  .trim()
  .transform((code) => code.toUpperCase())
  .pipe(z.enum(CURRENCIES as [Currency, ...Currency[]]));

const amount = z.number().finite().nonnegative().max(1e12);
const id = z.string().trim().min(1).max(128);

export const PageViewPayload = z.object({
  url: z.string().trim().min(1).max(2048),
  referrer: z.string().trim().max(2048).optional(),
  duration_ms: z.number().int().nonnegative().max(86_400_000).optional(),
});

export const AddToCartPayload = z.object({
  product_id: id,
  quantity: z.number().int().positive().max(10_000),
  unit_price: amount,
  currency,
});

export const OrderCreatedPayload = z.object({
  order_id: id,
  items: z
    .array(
      z.object({ product_id: id, quantity: z.number().int().positive().max(10_000), unit_price: amount }),
    )
    .min(1)
    .max(500),
  total_amount: amount,
  currency,
});

export const PaymentProcessedPayload = z.object({
  payment_id: id,
  order_id: id,
  amount,
  currency,
  method: z
    .string()
    .trim()
    .transform((m) => m.toLowerCase())
    .pipe(z.enum(['card', 'paypal', 'bank_transfer', 'wallet'])),
  status: z
    .string()
    .trim()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['succeeded', 'failed', 'pending'])),
});

export const SessionStartPayload = z.object({
  device: z
    .string()
    .trim()
    .transform((d) => d.toLowerCase())
    .pipe(z.enum(['desktop', 'mobile', 'tablet'])),
  country: z
    .string()
    .trim()
    .transform((c) => c.toUpperCase())
    .pipe(z.string().regex(/^[A-Z]{2}$/, 'expected a two-letter country code')),
});

export const SessionEndPayload = z.object({
  duration_ms: z
    .number()
    .int()
    .nonnegative()
    .max(7 * 86_400_000),
});

export const SensorReadingPayload = z.object({
  device_id: id,
  metric: z.string().trim().min(1).max(64),
  value: z.number().finite(),
});

export const PAYLOADS = {
  page_view: PageViewPayload,
  add_to_cart: AddToCartPayload,
  order_created: OrderCreatedPayload,
  payment_processed: PaymentProcessedPayload,
  session_start: SessionStartPayload,
  session_end: SessionEndPayload,
  sensor_reading: SensorReadingPayload,
} as const;

export type EventType = keyof typeof PAYLOADS;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];

/** Timestamps must carry a zone (Z or ±hh:mm); they are normalised to UTC epoch milliseconds. */
const isoTimestamp = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text));

const envelopeFields = {
  event_id: z.uuid(),
  schema_version: z.literal(SCHEMA_VERSION),
  tenant_id: z
    .string()
    .trim()
    .transform((t) => t.toLowerCase())
    .pipe(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a tenant slug')),
  occurred_at: isoTimestamp,
  user_id: id,
  session_id: id.optional(),
};

function envelopeOf<T extends EventType>(eventType: T) {
  return z.object({ ...envelopeFields, event_type: z.literal(eventType), payload: PAYLOADS[eventType] });
}

export const Envelope = z.discriminatedUnion('event_type', [
  envelopeOf('page_view'),
  envelopeOf('add_to_cart'),
  envelopeOf('order_created'),
  envelopeOf('payment_processed'),
  envelopeOf('session_start'),
  envelopeOf('session_end'),
  envelopeOf('sensor_reading'),
]);

/** A validated, normalised event: `occurred_at` is epoch milliseconds (UTC). */
export type Event = z.output<typeof Envelope>;
/** What a producer sends on the wire: `occurred_at` is an ISO-8601 string. */
export type EventInput = z.input<typeof Envelope>;

/**
 * Parses untyped JSON into an {@link Event}, normalising case and whitespace of the event type first so
 * that `" Page_View "` is accepted as `page_view`.
 *
 * @example
 * ```ts
 * const result = parseEvent(JSON.parse(text));
 * if (!result.success) console.log(result.error.issues);
 * ```
 */
export function parseEvent(value: unknown) {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const eventType = (value as { event_type?: unknown }).event_type;
    if (typeof eventType === 'string') {
      const normalised = eventType.trim().toLowerCase();
      if (normalised !== eventType) value = { ...value, event_type: normalised };
    }
  }
  return Envelope.safeParse(value);
}
