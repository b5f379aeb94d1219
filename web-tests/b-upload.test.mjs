// Issue 5: images uploaded through node 2's Upload page (file picker and drag-and-drop) show up live in
// node 1's Gallery with their thumbnails, and open with their holders. Every node serves each thumbnail,
// the node without a replica making it from another node's bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { host, launch, md5, openPage, screenshot, testImage, viewer } from './browser.mjs';

test('an upload on node 2\'s Upload page shows in node 1\'s Gallery', { timeout: 180_000 }, async () => {
  const browser = await launch();
  try {
    const gallery = await openPage(browser, viewer(1, 'gallery'));
    const upload = await openPage(browser, viewer(2, 'upload'));
    const picked = testImage('chelsea.png');
    const dropped = testImage('coffee.png');

    await upload.fill('#upload-uploader', 'Playwright');
    await upload.locator('#upload-uploader').dispatchEvent('change');
    await upload.setInputFiles('#upload-input', picked.path);
    // A real drop event carrying a File, as a desktop drag would deliver it.
    const transfer = await upload.evaluateHandle(({ name, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], name, { type: 'image/png' }));
      return data;
    }, { name: dropped.name, base64: dropped.bytes.toString('base64') });
    await upload.dispatchEvent('#dropzone', 'drop', { dataTransfer: transfer });

    for (const image of [picked, dropped]) {
      const row = upload.locator(`.upload[data-filename="${image.name}"]`);
      await upload.locator(`.upload[data-filename="${image.name}"]:is([data-state="done"], [data-state="failed"])`)
        .waitFor({ timeout: 60_000 });
      assert.equal(await row.getAttribute('data-state'), 'done', await row.locator('.status').textContent());
      assert.equal(await row.getAttribute('data-md5'), md5(image.bytes));
      assert.equal(await row.locator('progress').evaluate((p) => p.value), 100);
    }
    await screenshot(upload, 'upload-node2');

    for (const image of [picked, dropped]) {
      const tile = gallery.locator(`.tile[data-md5="${md5(image.bytes)}"]`);
      await tile.waitFor({ timeout: 30_000 });
      await tile.locator('img').evaluate((img) => img.decode());
      const [width, height] = await tile.locator('img').evaluate((img) => [img.naturalWidth, img.naturalHeight]);
      assert.equal(Math.max(width, height), 256);
      assert.match(await tile.locator('.tile-meta').textContent(), /^Playwright · HTTP$/);
    }

    // Filtering by uploader keeps only these two; the P1 image of the first test is filtered out.
    await gallery.fill('#gallery-filters input[name="uploader"]', 'playwright');
    await gallery.waitForFunction(() => document.querySelectorAll('#gallery-grid .tile').length === 2);

    await gallery.locator(`.tile[data-md5="${md5(picked.bytes)}"]`).click();
    const dialog = gallery.locator('#detail');
    await dialog.locator('#detail-image').evaluate((img) => img.decode());
    assert.equal(await dialog.locator('#detail-filename').textContent(), picked.name);
    const heldBy = await dialog.locator('#detail-facts div', { hasText: 'Held by' }).locator('dd').textContent();
    const holders = heldBy.split(', ');
    assert.ok(holders.length >= 1 && holders.every((h) => [host(1), host(2), host(3)].includes(h)), heldBy);
    await screenshot(gallery, 'gallery-node1-detail');

    // With 2 replicas on 3 nodes one node holds no copy; it makes the thumbnail from a holder's bytes.
    for (const i of [1, 2, 3]) {
      const response = await fetch(`http://${host(i)}:8080/api/images/${md5(picked.bytes)}/thumbnail`);
      assert.equal(response.status, 200, `thumbnail on ${host(i)}`);
      assert.equal(response.headers.get('content-type'), 'image/jpeg');
      const jpeg = Buffer.from(await response.arrayBuffer());
      assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], `JPEG from ${host(i)}`);
    }
    await gallery.keyboard.press('Escape');
    await gallery.fill('#gallery-filters input[name="uploader"]', '');
    // Without a filter the grid shows every image of the catalog again (all of them while they fit the first page
    // of 60: these two, the P1 image of the first test and whatever the cluster held before).
    const { images } = await (await fetch(`http://${host(1)}:8080/api/stats`)).json();
    await gallery.waitForFunction((total) => {
      const tiles = document.querySelectorAll('#gallery-grid .tile').length;
      return total <= 60 ? tiles === total : tiles >= 60;
    }, images);
    await gallery.locator('#gallery-grid .tile img').last().evaluate((img) => img.decode());
    await gallery.locator('#gallery-filters input[name="uploader"]').blur();
    await gallery.mouse.move(1200, 760);
    await screenshot(gallery, 'gallery-node1');
    assert.deepEqual(gallery.scriptErrors, []);
    assert.deepEqual(upload.scriptErrors, []);
  } finally {
    await browser.close();
  }
});
