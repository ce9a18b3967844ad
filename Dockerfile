# Build: compile the TypeScript once, ahead of time.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY core ./core
COPY providers ./providers
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# Run: production dependencies and the compiled code only (no TypeScript sources, so the bin
# runs dist/), as the unprivileged `node` user, with the embedded database's default data dir
# in a volume that user owns.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    MARKETGATE_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME /data
EXPOSE 3000 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/marketgate.js", "start"]
