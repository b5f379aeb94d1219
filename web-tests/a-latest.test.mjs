// Issue 5: a P1 image sent to node 1 appears on node 3's Latest page without a reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { host, launch, md5, openPage, screenshot, sendP1, testImage, viewer } from './browser.mjs';

test('a P1 image sent to node 1 appears on node 3\'s Latest page without reload', { timeout: 120_000 }, async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser, viewer(3, 'latest'));
    let loads = 0;
    page.on('load', () => loads++);
    const image = testImage('rocket.jpg');

    await sendP1(host(1), image.bytes);

    const latest = page.locator(`#latest[data-md5="${md5(image.bytes)}"]`);
    await latest.waitFor({ timeout: 30_000 });
    assert.equal(loads, 0, 'the page was not reloaded');
    const shown = await page.locator('#latest-image').evaluate((img) => [img.complete, img.naturalWidth]);
    assert.deepEqual(shown, [true, 640], 'the full image is displayed');
    assert.equal(await page.locator('#latest-protocol').textContent(), 'P1 · TCP');
    assert.match(await page.locator('#latest-uploader').textContent(), /^tcp:127\./);
    assert.match(await page.locator('#latest-filename').textContent(), /^\d{6}(-\d+)?\.jpg$/);
    // Held where placement put its replicas (replication-factor 2 of 3 nodes), not necessarily on node 1.
    const holders = (await page.locator('#latest-nodes').textContent()).split(', ');
    assert.ok(holders.length >= 1 && holders.every((h) => [host(1), host(2), host(3)].includes(h)), holders.join());
    await page.locator('#latest-image').evaluate((img) => Promise.all(img.getAnimations().map((a) => a.finished)));
    await screenshot(page, 'latest-node3-after-p1-on-node1');
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await browser.close();
  }
});
