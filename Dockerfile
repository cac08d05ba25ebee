# One image for every KisJobs role. The command picks the role:
#   kisjobs migrate                      apply the database migrations (DATABASE_URL)
#   kisjobs groups ensure <name> ...     create an executor group and write its registration token
#   kisjobs scheduler start              scheduler + HTTP API (see docs/configuration.md)
#   kisjobs executor start               an executor (KISJOBS_GROUP, KISJOBS_FUNCTIONS, KISJOBS_TOKEN_FILE...)
#
# The workspaces ship TypeScript sources that run through tsx, so there is no compile step. The build
# stage installs every dependency, generates the Prisma client, then drops the dev dependencies.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
# --ignore-scripts: no dependency install script runs (the stack needs none). The root postinstall,
# scripts/db-generate.mjs, is run explicitly instead: it generates the Prisma client into
# packages/db/src/generated without downloading engines, and it needs the prisma CLI (a dev dependency),
# so it must run before the prune.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && node scripts/db-generate.mjs \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
  PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
# The application files stay owned by root: the runtime user can read them, not change them.
COPY --from=build /app /app
# Mount point for the executor-token volume. A named volume mounted here for the first time takes this
# directory's owner, so `kisjobs groups ensure` (running as `node`) can write the token file into it.
RUN mkdir -p /run/kisjobs && chown node:node /run/kisjobs
# `node` (uid 1000) comes with the base image.
USER node
EXPOSE 8080
CMD ["kisjobs", "--help"]
