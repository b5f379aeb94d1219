// Phone photos the browser may not decode: a HEIC (an iPhone's format; Chromium shows none) and an AVIF (every current
// browser shows it), sent over P1 to node 1. The node stores both but makes no thumbnail of either; the viewer says so
// for the HEIC instead of a broken image or "not reachable", and shows the AVIF's original.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { host, launch, md5, openPage, screenshot, sendP1, testImage, viewer } from './browser.mjs';

test('a HEIC and an AVIF from a phone show as well as this browser can', { timeout: 120_000 }, async () => {
  const browser = await launch();
  try {
    const latest = await openPage(browser, viewer(1, 'latest'));
    const gallery = await openPage(browser, viewer(2, 'gallery'));
    const heic = testImage('rocket.heic');
    const avif = testImage('rocket.avif');

    await sendP1(host(1), heic.bytes);
    await latest.locator(`#latest[data-md5="${md5(heic.bytes)}"]`).waitFor({ timeout: 30_000 });
    assert.equal(await latest.locator('#latest-empty h2').textContent(), 'Format not shown here');
    assert.match(await latest.locator('#latest-empty p').textContent(), /cannot show image\/heic/);
    assert.ok(await latest.locator('#latest-image').isHidden());
    assert.match(await latest.locator('#latest-filename').textContent(), /^\d{6}(-\d+)?\.heic$/);

    await sendP1(host(1), avif.bytes);
    await latest.locator(`#latest[data-md5="${md5(avif.bytes)}"]`).waitFor({ timeout: 30_000 });
    const shown = await latest.locator('#latest-image').evaluate((img) => [img.complete, img.naturalWidth]);
    assert.deepEqual(shown, [true, 640], 'the AVIF itself is displayed');

    // The gallery: the HEIC's tile names its type, the AVIF's shows the original.
    const heicTile = gallery.locator(`.tile[data-md5="${md5(heic.bytes)}"]`);
    await heicTile.waitFor({ timeout: 30_000 });
    assert.equal(await heicTile.locator('.no-thumb').textContent(), 'image/heic');
    const avifTile = gallery.locator(`.tile[data-md5="${md5(avif.bytes)}"]`);
    await avifTile.waitFor({ timeout: 30_000 });
    await avifTile.locator('img').evaluate((img) => img.decode());
    assert.equal(await avifTile.locator('img').evaluate((img) => img.naturalWidth), 640);

    // Opened, the HEIC gets a note and the link to its original, not a broken image.
    await heicTile.click();
    const note = gallery.locator('#detail-note');
    await note.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await note.textContent(), /cannot show image\/heic/);
    assert.ok(await gallery.locator('#detail-image').isHidden());
    assert.equal(await gallery.locator('#detail-open').getAttribute('href'), `/api/images/${md5(heic.bytes)}/content`);
    await screenshot(gallery, 'gallery-node2-heic-detail');
    await gallery.keyboard.press('Escape');
    assert.deepEqual(latest.scriptErrors, []);
    assert.deepEqual(gallery.scriptErrors, []);
  } finally {
    await browser.close();
  }
});
