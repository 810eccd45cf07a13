/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build lands inside the Python package, which `accord serve` serves at `/`.
// In development, `npm run dev` proxies the API to a running `accord serve` (ACCORD_URL).
const apiTarget = process.env.ACCORD_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../src/accord/server/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: {
      "/api": { target: apiTarget, changeOrigin: true },
      "/login": { target: apiTarget, changeOrigin: true },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.tsx", "src/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
