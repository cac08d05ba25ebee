/** `/api/tokens`: one's own API tokens. The secret is returned once, at creation. */
import { z } from 'zod';
import { ApiToken, ApiTokenInput, CreatedApiToken, TokenId } from '@kisjobs/protocol';
import { apiTokenDto } from '../../auth/dto.js';
import {
  createApiToken,
  listOwnApiTokens,
  revokeOwnApiToken,
  type TokenDeps,
} from '../../auth/api-tokens.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';

export function tokenRoutes(deps: RouteDeps): Route[] {
  const tokenDeps: TokenDeps = {
    prisma: deps.prisma,
    clock: deps.clock,
    settings: deps.auth.settings,
    credentials: deps.auth.credentials,
  };
  return [
    defineRoute({
      id: 'tokens.list',
      method: 'GET',
      path: '/api/tokens',
      tags: ['tokens'],
      summary: "List one's own API tokens (never their secrets)",
      access: { action: 'read' },
      responses: {
        200: { description: 'Tokens, newest first', schema: z.object({ items: z.array(ApiToken) }) },
      },
      handler: async (req) => ({
        status: 200,
        body: { items: (await listOwnApiTokens(tokenDeps, req.principal)).map(apiTokenDto) },
      }),
    }),
    defineRoute({
      id: 'tokens.create',
      method: 'POST',
      path: '/api/tokens',
      tags: ['tokens'],
      summary: 'Create an API token acting with your role and grants; the secret is shown once',
      access: { action: 'read' },
      body: ApiTokenInput,
      responses: { 201: { description: 'Created', schema: CreatedApiToken } },
      errors: [409],
      audit: { targetType: 'token', details: (req) => ({ name: req.body.name }) },
      handler: async (req) => {
        const created = await createApiToken(tokenDeps, req.principal, req.body);
        return {
          status: 201,
          body: { token: apiTokenDto(created.token), secret: created.secret },
          audit: { targetId: created.token.id },
        };
      },
    }),
    defineRoute({
      id: 'tokens.revoke',
      method: 'DELETE',
      path: '/api/tokens/:id',
      tags: ['tokens'],
      summary: 'Revoke an API token of yours (admins: anyone’s)',
      access: { action: 'read' },
      params: z.strictObject({ id: TokenId }),
      responses: { 204: { description: 'Revoked (also when it was already)' } },
      audit: { targetType: 'token', targetId: (req) => req.params.id },
      handler: async (req) => {
        await revokeOwnApiToken(tokenDeps, req.principal, req.params.id);
        return { status: 204 };
      },
    }),
  ];
}
