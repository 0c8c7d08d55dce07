# Pictor container image, two stages: build (TypeScript → dist/, native modules for this libc) and a
# slim runtime with only production dependencies, running as an unprivileged user.
# Not built in CI: these machines have the Docker client but no engine (see docs/deploy.md).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787 PICTOR_DATA_DIR=/data
WORKDIR /app
RUN groupadd --system pictor && useradd --system --gid pictor --home-dir /data pictor \
  && mkdir -p /data && chown pictor:pictor /data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json README.md ./
COPY docs ./docs
USER pictor
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The heap flags of src/server/node-flags.ts (V8 reads them only at start).
ENTRYPOINT ["node", "--min-semi-space-size=16", "--max-semi-space-size=32", "dist/cli/main.js"]
CMD ["serve"]
