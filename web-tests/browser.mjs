// Shared by the browser tests: the cluster under test (from the environment WebViewerTest sets), Debian's
// Chromium driven by playwright-core, screenshots, and the legacy P1 frame sent with a plain socket.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const here = path.dirname(new URL(import.meta.url).pathname);

/** Host of node i (1-based): ACTORIMAGES_NODE_<i>, else bin/cluster's 127.0.0.i. */
export function host(i) {
  return process.env[`ACTORIMAGES_NODE_${i}`] ?? `127.0.0.${i}`;
}

/** The web viewer of node i. */
export function viewer(i, view = 'latest') {
  return `http://${host(i)}:8080/#/${view}`;
}

/** A test image of testdata/images. */
export function testImage(name) {
  const dir = process.env.ACTORIMAGES_TESTDATA ?? path.join(here, '..', 'testdata', 'images');
  return { name, path: path.join(dir, name), bytes: readFileSync(path.join(dir, name)) };
}

/** Lowercase hex MD5: the id the viewer marks images with. */
export function md5(bytes) {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * Starts headless Chromium (/usr/bin/chromium) with a fresh profile folder (Playwright takes it as the
 * persistent context's user-data-dir) and answers that context. The flags keep Chromium from reaching for
 * Google's services, which this machine's closed network refuses (and which would slow every start).
 */
export async function launch() {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'actorimages-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

/** A new page of `context` at `url`, live; its script errors collect in `page.scriptErrors`. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  page.scriptErrors = errors;
  await page.goto(url);
  // Live once the node's first `cluster` event arrived: from then on its topic subscription is in place.
  await page.waitForSelector('#live[data-live="on"]', { timeout: 20_000 });
  return page;
}

/** Saves a screenshot as <SCREENSHOT_DIR>/<name>.png (web-tests/screenshots by default; WebViewerTest passes its
 * output folder). */
export async function screenshot(page, name) {
  const dir = process.env.SCREENSHOT_DIR ?? path.join(here, 'screenshots');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Sends one image as seed 000's camera client does (PROTOCOLS.md P1): 4-byte big-endian length, the bytes,
 * close; resolves once the node closed its side too (which it does after storing the frame).
 */
export function sendP1(nodeHost, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: nodeHost, port: 5001 }, () => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      socket.end(Buffer.concat([length, bytes]));
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error(`P1 to ${nodeHost}: no close in 30 s`)));
    socket.on('data', () => {});
    socket.on('close', (hadError) => (hadError ? null : resolve()));
    socket.on('error', reject);
  });
}
