/**
 * The typed authoring API. `defineFunction` infers the row type of `ctx.rows` from an `input` zod schema
 * (else `unknown`) and the type of `ctx.connector` from a `connector` type; `defineConnectorType` names a
 * connector implementation. Both return plain definitions for `FlowRegistry.register*`.
 */
import type { z } from 'zod';
import type {
  Connector,
  ConnectorFactory,
  ConnectorType,
  FunctionDefinition,
  FunctionHandler,
} from './engine/types.js';

interface DefinitionBase<Conn extends Connector> {
  readonly name: string;
  /** Set false to skip the `source.must` check of this function's config. Default true. */
  readonly checkSourceMust?: boolean;
  /** The connector type this function expects; types `ctx.connector`. */
  readonly connector?: ConnectorType<Conn>;
}

export interface TypedFunctionInit<
  S extends z.core.$ZodType,
  Conn extends Connector,
> extends DefinitionBase<Conn> {
  /** Every input row is parsed with it; the handler sees the parsed rows. */
  readonly input: S;
  readonly handler: FunctionHandler<z.output<S>, Conn>;
}

export interface UntypedFunctionInit<Conn extends Connector> extends DefinitionBase<Conn> {
  readonly input?: undefined;
  readonly handler: FunctionHandler<unknown, Conn>;
}

export function defineFunction<S extends z.core.$ZodType, Conn extends Connector = Connector>(
  init: TypedFunctionInit<S, Conn>,
): FunctionDefinition<z.output<S>, Conn>;
export function defineFunction<Conn extends Connector = Connector>(
  init: UntypedFunctionInit<Conn>,
): FunctionDefinition<unknown, Conn>;
export function defineFunction<Conn extends Connector>(
  init: TypedFunctionInit<z.core.$ZodType, Conn> | UntypedFunctionInit<Conn>,
): FunctionDefinition<unknown, Conn> {
  return Object.freeze({ ...init });
}

export function defineConnectorType<C extends Connector>(
  type: string,
  factory: ConnectorFactory<C>,
): ConnectorType<C> {
  return Object.freeze({ type, factory });
}
