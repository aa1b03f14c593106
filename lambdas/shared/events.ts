import { z } from 'zod';
import { COUNTRY_CENTROIDS, countryCentroid } from './countries';
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

/**
 * Characters no text field may hold, because the lake would store something other than what was meant:
 * control characters (C0, DEL, C1: NUL truncates C strings, CR/LF/tab break line-based tools), unpaired
 * surrogates (not Unicode: every writer turns them into U+FFFD, silently changing the value), and the
 * bidirectional embedding, override and isolate controls and U+FEFF, which make a value display as
 * something it is not. Leading and trailing whitespace is trimmed first, so a stray tab or newline at the
 * ends is cleaned rather than rejected. Right-to-left letters, emoji and joiners are ordinary text.
 */
export const FORBIDDEN_CHARACTERS = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069\uFEFF]/u;
const FORBIDDEN_CHARACTERS_MESSAGE =
  'contains a control character, an unpaired surrogate, a bidirectional control or U+FEFF';

/** Trimmed text of at most `max` characters with no {@link FORBIDDEN_CHARACTERS}. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((value) => !FORBIDDEN_CHARACTERS.test(value), FORBIDDEN_CHARACTERS_MESSAGE);

// -0 is a valid JSON number; written as "-0" it would surprise every reader of a money column.
const amount = z
  .number()
  .finite()
  .nonnegative()
  .max(1e12)
  .transform((value) => (value === 0 ? 0 : value));
const id = text(128).pipe(z.string().min(1));

/**
 * Where an event happened: coordinates in degrees, or a country of the built-in table
 * (lambdas/shared/countries.ts), resolved to its centroid. Either way it is stored as
 * `{ latitude, longitude, precision }`, plus `country` when one was given, so that every reader (the
 * impossible-travel rule, a query) finds coordinates and knows how coarse they are.
 */
export const Location = z
  .union([
    z.object({
      latitude: z.number().finite().min(-90).max(90),
      longitude: z.number().finite().min(-180).max(180),
    }),
    z.object({
      country: z
        .string()
        .trim()
        .transform((c) => c.toUpperCase())
        .pipe(
          z
            .string()
            .refine(
              (c) => countryCentroid(c) !== null,
              `expected a country of the built-in table (${Object.keys(COUNTRY_CENTROIDS).join(', ')}), or latitude and longitude`,
            ),
        ),
    }),
  ])
  .transform((place) => {
    if ('latitude' in place)
      return { latitude: place.latitude, longitude: place.longitude, precision: 'point' as const };
    const [latitude, longitude] = countryCentroid(place.country) as readonly [number, number];
    return { latitude, longitude, precision: 'country' as const, country: place.country };
  });
export type EventLocation = z.output<typeof Location>;

/** The merchant an order or a payment went to (the merchant-diversity rule counts them per user). */
const merchantId = id.optional();

export const PageViewPayload = z.object({
  url: text(2048).pipe(z.string().min(1)),
  referrer: text(2048).optional(),
  duration_ms: z.number().int().nonnegative().max(86_400_000).optional(),
  location: Location.optional(),
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
  merchant_id: merchantId,
  location: Location.optional(),
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
  merchant_id: merchantId,
  location: Location.optional(),
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
  location: Location.optional(),
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
  metric: text(64).pipe(z.string().min(1)),
  value: z.number().finite(),
});

const device = z
  .string()
  .trim()
  .transform((d) => d.toLowerCase())
  .pipe(z.enum(['desktop', 'mobile', 'tablet', 'tv']));

/** One viewing of a piece of content (media engagement): how long was watched of how long it is. */
export const ContentWatchedPayload = z.object({
  content_id: id,
  title: text(512).optional(),
  watch_duration_ms: z.number().int().nonnegative().max(86_400_000),
  content_length_ms: z.number().int().positive().max(86_400_000),
  device,
  location: Location.optional(),
});

export const PAYLOADS = {
  page_view: PageViewPayload,
  add_to_cart: AddToCartPayload,
  order_created: OrderCreatedPayload,
  payment_processed: PaymentProcessedPayload,
  session_start: SessionStartPayload,
  session_end: SessionEndPayload,
  sensor_reading: SensorReadingPayload,
  content_watched: ContentWatchedPayload,
} as const;

export type EventType = keyof typeof PAYLOADS;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];

/**
 * Event times the lake accepts, in UTC: from 2000-01-01 up to, not including, 2100-01-01. Outside it an
 * event time is a producer bug (an epoch-zero default, a year typed wrong), and the far ends do not fit
 * the lake at all: an offset can push 9999-12-31 into year 10000, which no `dt=YYYY-MM-DD` partition and
 * no TIMESTAMP column holds. A fixed window keeps the verdict the same on every replay.
 */
export const OCCURRED_AT_RANGE = {
  fromMs: Date.UTC(2000, 0, 1),
  toMs: Date.UTC(2100, 0, 1),
} as const;

/** Timestamps must carry a zone (Z or ±hh:mm); they are normalised to UTC epoch milliseconds. */
const isoTimestamp = z.iso
  .datetime({ offset: true })
  .transform((value) => Date.parse(value))
  .refine(
    (ms) => ms >= OCCURRED_AT_RANGE.fromMs && ms < OCCURRED_AT_RANGE.toMs,
    'must be from 2000-01-01T00:00:00Z up to, not including, 2100-01-01T00:00:00Z',
  );

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

/**
 * The envelope of one event type around its payload schema: what each member of {@link Envelope} is, and
 * how a new event type is declared (docs/OWN_EVENTS.md).
 *
 * @example
 * ```ts
 * const SupportTicket = eventEnvelope('support_ticket', z.object({ ticket_id: z.string() }));
 * ```
 */
export function eventEnvelope<T extends string, P extends z.ZodType>(eventType: T, payload: P) {
  return z.object({ ...envelopeFields, event_type: z.literal(eventType), payload });
}

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
  envelopeOf('content_watched'),
]);

/** A validated, normalised event: `occurred_at` is epoch milliseconds (UTC). */
export type Event = z.output<typeof Envelope>;
/** What a producer sends on the wire: `occurred_at` is an ISO-8601 string. */
export type EventInput = z.input<typeof Envelope>;

/**
 * Parses untyped JSON into an {@link Event}, normalising case and whitespace of the event type first so
 * that `" Page_View "` is accepted as `page_view`. `envelope` replaces the built-in union, for a fixture
 * that adds an event type (docs/OWN_EVENTS.md).
 *
 * @example
 * ```ts
 * const result = parseEvent(JSON.parse(text));
 * if (!result.success) console.log(result.error.issues);
 * ```
 */
export function parseEvent(value: unknown): ReturnType<typeof Envelope.safeParse>;
export function parseEvent<S extends z.ZodType>(value: unknown, envelope: S): ReturnType<S['safeParse']>;
export function parseEvent(value: unknown, envelope: z.ZodType = Envelope) {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const eventType = (value as { event_type?: unknown }).event_type;
    if (typeof eventType === 'string') {
      const normalised = eventType.trim().toLowerCase();
      if (normalised !== eventType) value = { ...value, event_type: normalised };
    }
  }
  return envelope.safeParse(value);
}
