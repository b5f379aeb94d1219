// Phone photos the browser may not decode: a HEIC (an iPhone's format; Chromium shows none) and an AVIF (every current
// browser shows it), sent over P1 to node 1. The nodes make JPEG thumbnails and previews of each (libheif's
// heif-thumbnailer): the viewer shows the HEIC's preview where Chromium cannot show the original, instead of a broken
// image or "not reachable", and the AVIF's original.
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
    // Its thumbnail at once, then its preview in its place.
    await latest.waitForFunction(() => document.getElementById('latest-image').src.endsWith('/preview'), null,
      { timeout: 30_000 });
    const preview = await latest.locator('#latest-image').evaluate(async (img) => {
      await img.decode();
      return [img.hidden, img.naturalWidth, img.src];
    });
    assert.deepEqual(preview, [false, 640, new URL(`/api/images/${md5(heic.bytes)}/preview`, viewer(1, '')).href],
      'the HEIC\'s preview is displayed, at the photo\'s own 640 px');
    assert.match(await latest.locator('#latest-filename').textContent(), /^\d{6}(-\d+)?\.heic$/);

    await sendP1(host(1), avif.bytes);
    await latest.locator(`#latest[data-md5="${md5(avif.bytes)}"]`).waitFor({ timeout: 30_000 });
    const shown = await latest.locator('#latest-image').evaluate((img) => [img.complete, img.naturalWidth]);
    assert.deepEqual(shown, [true, 640], 'the AVIF itself is displayed');

    // The gallery: both tiles show their thumbnails (256 px wide).
    for (const bytes of [heic.bytes, avif.bytes]) {
      const tile = gallery.locator(`.tile[data-md5="${md5(bytes)}"]`);
      await tile.waitFor({ timeout: 30_000 });
      await tile.locator('img').evaluate((img) => img.decode());
      assert.equal(await tile.locator('img').evaluate((img) => img.naturalWidth), 256);
    }

    // Opened, the HEIC shows its preview with a note and the link to its original, not a broken image.
    await gallery.locator(`.tile[data-md5="${md5(heic.bytes)}"]`).click();
    const note = gallery.locator('#detail-note');
    await note.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await note.textContent(), /this is a JPEG preview of it/);
    await gallery.locator('#detail-image.fallback').waitFor({ state: 'visible', timeout: 10_000 });
    await gallery.waitForFunction(() => document.getElementById('detail-image').src.endsWith('/preview'), null,
      { timeout: 30_000 });
    assert.equal(await gallery.locator('#detail-image').evaluate(async (img) => {
      await img.decode();
      return img.naturalWidth;
    }), 640);
    assert.equal(await gallery.locator('#detail-open').getAttribute('href'), `/api/images/${md5(heic.bytes)}/content`);
    await screenshot(gallery, 'gallery-node2-heic-detail');
    await gallery.keyboard.press('Escape');
    assert.deepEqual(latest.scriptErrors, []);
    assert.deepEqual(gallery.scriptErrors, []);
  } finally {
    await browser.close();
  }
});
