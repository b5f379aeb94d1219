// Issue 5: node 1's Cluster page shows node 3 leave once it is stopped. Stopping a node needs the cluster's
// owner: WebViewerTest passes ACTORIMAGES_CONTROL, an endpoint that stops a node of the cluster it started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { host, launch, openPage, screenshot, viewer } from './browser.mjs';

const control = process.env.ACTORIMAGES_CONTROL;

test('node 1\'s Cluster page shows node 3 leave after it is stopped', {
  timeout: 180_000,
  skip: control ? false : 'ACTORIMAGES_CONTROL is not set: nothing can stop node 3',
}, async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser, viewer(1, 'cluster'));
    const row = (i, status = '') =>
      page.locator(`#cluster-members tr[data-host="${host(i)}"]${status ? `[data-status="${status}"]` : ''}`);
    for (const i of [1, 2, 3]) await row(i, 'Up').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#cluster-up').textContent(), '3 of 3');
    assert.match(await page.locator('#cluster-tracker').textContent(), /^127\./);

    const stopped = await fetch(`${control}/stop/3`, { method: 'POST' });
    assert.equal(stopped.status, 204, await stopped.text());

    await row(3, 'Left').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.getElementById('cluster-up').textContent === '2 of 2');
    for (const i of [1, 2]) assert.equal(await row(i).getAttribute('data-status'), 'Up');
    await screenshot(page, 'cluster-node1-after-node3-left');
    assert.deepEqual(page.scriptErrors, []);
  } finally {
    await browser.close();
  }
});
