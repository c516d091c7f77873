import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";

// The server under test: the debug build that `cargo test` already produced, on a fresh SQLite
// file with demo content, serving the bundle from target/site.
const port = Number(process.env.BACKYARD_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const dbFile = path.join(os.tmpdir(), `backyard-e2e-${process.pid}.db`);
const binary = process.env.BACKYARD_BIN ?? path.resolve(__dirname, "../target/debug/backyard");
// The test SMTP server (scripts/smtp_test_server.py, aiosmtpd in target/mail-venv): notification
// e-mails are read back from the JSON files it writes here (see tests/mail.ts).
const smtpPort = Number(process.env.BACKYARD_E2E_SMTP_PORT ?? 3125);
// Each worker loads this file again: the runner's choice, passed down, wins.
const mailDir =
  process.env.BACKYARD_E2E_MAIL_DIR ?? path.join(os.tmpdir(), `backyard-e2e-mail-${process.pid}`);
process.env.BACKYARD_E2E_MAIL_DIR = mailDir;

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
  // The look (screenshots against baselines, axe-core) goes first, while the demo site is as it
  // started: projects run in this order with one worker. It is not a dependency of the others,
  // so a changed screenshot fails only itself.
  projects: [
    { name: "look", testMatch: /look\.spec\.ts/, use: { javaScriptEnabled: true } },
    { name: "js", testIgnore: /look\.spec\.ts/, use: { javaScriptEnabled: true } },
    { name: "no-js", testIgnore: /look\.spec\.ts/, use: { javaScriptEnabled: false } },
  ],
  webServer: [
  {
    // It stops when its standard input closes: `tail` keeps it open for as long as it runs.
    command: `rm -rf ${mailDir} && tail -f /dev/null | target/mail-venv/bin/python scripts/smtp_test_server.py --port ${smtpPort} --dir ${mailDir}`,
    port: smtpPort,
    cwd: path.resolve(__dirname, ".."),
    timeout: 30_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
  {
    // Many tests post as the same demo members within minutes: the posting rate limits (tested
    // in the Rust rule tests) are turned off here. New members' first posts are held (off by
    // default), as on a site that turned holding on: the spammer flow starts from a held post.
    // Members signed up by a test vote at once, as on a site that counts new accounts' votes
    // (holding them for a day is tested in the Rust rule tests).
    command: `rm -f ${dbFile}* && ${binary} set vote_min_account_hours 0 && ${binary} set rate_posts_per_10_min 0 && ${binary} set rate_topics_per_hour 0 && ${binary} set new_member_hold_posts 1 && ${binary} serve --demo`,
    url: `${baseURL}/healthz`,
    cwd: path.resolve(__dirname, ".."),
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      BACKYARD_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${dbFile}?mode=rwc`,
      // scripts/lib.sh's site, or cargo-leptos's (scripts/leptos_end2end.sh).
      BACKYARD_SITE_ROOT: process.env.BACKYARD_E2E_SITE_ROOT ?? path.resolve(__dirname, "../target/site"),
      BACKYARD_LOG: "warn",
      // Every test posts from 127.0.0.1 within minutes; the per-address write limit is tested
      // in server/tests/security_http.rs and by bench/flood.sh.
      BACKYARD_IP_WRITES_PER_MINUTE: "0",
      BACKYARD_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST: "1",
    },
  },
  ],
});
