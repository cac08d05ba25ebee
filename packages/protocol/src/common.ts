/**
 * Small building blocks shared by payloads and DTOs: instants, params, trace context, bounded texts.
 *
 * Instants travel as ISO-8601 strings, never as `Date`: JSON has no date type, so a string keeps
 * `decode(encode(x))` equal to `x` and lets one schema serve Redis, HTTP and the OpenAPI document.
 */
import { z } from 'zod';

/** An instant written by our own code: ISO-8601 in UTC with `Z`, e.g. `2026-03-01T02:00:00.000Z`. */
export const IsoDateTime = z.iso.datetime();
export type IsoDateTime = z.infer<typeof IsoDateTime>;

/** An instant typed by a person: ISO-8601 with `Z` or an offset, e.g. `2026-03-01T10:00:00+08:00`. */
export const IsoDateTimeInput = z.iso.datetime({ offset: true });
export type IsoDateTimeInput = z.infer<typeof IsoDateTimeInput>;

/** The canonical wire form of an instant. Throws on an invalid `Date` (a programming error). */
export function toIsoDateTime(date: Date): IsoDateTime {
  return date.toISOString();
}

export const PARAM_KEY_MAX = 256;
export const PARAM_VALUE_MAX = 65_536;

/** Params are strings, like KisFlow's YAML params; job params are merged over the flow's. */
export const Params = z.record(z.string().min(1).max(PARAM_KEY_MAX), z.string().max(PARAM_VALUE_MAX));
export type Params = z.infer<typeof Params>;

/** W3C trace context `traceparent` header value, e.g. `00-<32 hex>-<16 hex>-01`. */
export const Traceparent = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, {
  message: 'Invalid traceparent: expected "vv-<32 hex>-<16 hex>-ff"',
});
export type Traceparent = z.infer<typeof Traceparent>;

/** A short human label: a name, a reason, an actor. */
export const ShortText = z.string().min(1).max(200);
export type ShortText = z.infer<typeof ShortText>;

/** Durations in milliseconds are non-negative integers. */
export const DurationMs = z.number().int().min(0);
export type DurationMs = z.infer<typeof DurationMs>;

/** A count of rows, attempts or runs. */
export const Count = z.number().int().min(0);
export type Count = z.infer<typeof Count>;
