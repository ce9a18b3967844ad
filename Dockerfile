FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY core ./core
COPY providers ./providers
COPY src ./src
COPY migrations ./migrations
USER node
EXPOSE 3000
CMD ["node", "bin/marketgate.js", "start"]
