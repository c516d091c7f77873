import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";

// The server under test: the debug build that `cargo test` already produced, on a fresh SQLite
// file with demo content, serving the bundle from target/site.
const port = Number(process.env.BACKYARD_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const dbFile = path.join(os.tmpdir(), `backyard-e2e-${process.pid}.db`);
const binary = process.env.BACKYARD_BIN ?? path.resolve(__dirname, "../target/debug/backyard");

const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: { baseURL, launchOptions: chromium, trace: "off" },
  projects: [
    { name: "js", use: { javaScriptEnabled: true } },
    { name: "no-js", use: { javaScriptEnabled: false } },
  ],
  webServer: {
    // Many tests post as the same demo members within minutes: the posting rate limits (tested
    // in the Rust rule tests) are turned off here. New members' first posts are held (off by
    // default), as on a site that turned holding on: the spammer flow starts from a held post.
    command: `rm -f ${dbFile}* && ${binary} set rate_posts_per_10_min 0 && ${binary} set rate_topics_per_hour 0 && ${binary} set new_member_hold_posts 1 && ${binary} serve --demo`,
    url: `${baseURL}/healthz`,
    cwd: path.resolve(__dirname, ".."),
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      BACKYARD_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${dbFile}?mode=rwc`,
      BACKYARD_SITE_ROOT: path.resolve(__dirname, "../target/site"),
      BACKYARD_LOG: "warn",
      // Every test posts from 127.0.0.1 within minutes; the per-address write limit is tested
      // in server/tests/security_http.rs and by bench/flood.sh.
      BACKYARD_IP_WRITES_PER_MINUTE: "0",
    },
  },
});
