import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Relative asset paths: eprof-web serves dist/ at its root. Everything is bundled (no CDN), so
// the page works offline.
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
