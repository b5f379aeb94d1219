using System.Diagnostics;
using ActorImages.Testing;
using SkiaSharp;

namespace ActorImages.Storage.Tests;

public sealed class ThumbnailerTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    // multipage_rgb.tif holds planes of 64-bit floating-point noise: stored like any TIFF, but no photo to show.
    // HEIC and AVIF are rendered by libheif's heif-thumbnailer (HeifThumbnailer), which .ci/run installs.
    public static TheoryData<string> Images() =>
        new(RealImages.All.Select(image => image.Name).Where(name => name != "multipage_rgb.tif"));

    [Theory]
    [MemberData(nameof(Images))]
    public void EveryRealImageGetsAJpegThumbnailAtMost256PixelsWithItsAspectKept(string name)
    {
        var image = RealImages.Get(name);
        var source = _dir.Write(name, image.Bytes);
        var target = _dir.Combine("thumbnails", "thumb.jpg");

        Thumbnailer.Write(source, target);

        var bytes = File.ReadAllBytes(target);
        Assert.Equal(ImageFormat.Jpeg, ImageFormats.Sniff(bytes));
        using var thumb = SKBitmap.Decode(bytes);
        int longest = Math.Max(image.Width, image.Height);
        Assert.Equal(Math.Min(longest, Thumbnailer.MaxSide), Math.Max(thumb.Width, thumb.Height));
        double expectedRatio = (double)image.Width / image.Height;
        double ratio = (double)thumb.Width / thumb.Height;
        // One pixel of rounding on the short side is all the aspect may move.
        Assert.InRange(ratio, expectedRatio - expectedRatio / Math.Min(thumb.Width, thumb.Height) - 1e-9,
            expectedRatio + expectedRatio / Math.Min(thumb.Width, thumb.Height) + 1e-9);
        Assert.Equal(["thumb.jpg"], TempFolder.List(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public void TheThumbnailShowsThePhotoNotABlankOrBlackFrame()
    {
        // The CMYK JPEG is the one a decoder most often gets wrong (inverted or black): compare with the RGB original.
        using var rgb = Thumb("rocket.jpg");
        using var cmyk = Thumb("rocket-cmyk.jpg");
        Assert.Equal((rgb.Width, rgb.Height), (cmyk.Width, cmyk.Height));
        var a = Mean(rgb, 0, 0, rgb.Width, rgb.Height);
        var b = Mean(cmyk, 0, 0, cmyk.Width, cmyk.Height);
        Assert.True(Close(a, b, 24), $"{string.Join(",", a)} vs {string.Join(",", b)}");
        Assert.False(Close(a, [0, 0, 0], 24), "not black");
    }

    [Fact]
    public void ExifOrientationSixTurnsTheThumbnailUpright()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        using var asStored = Thumbnailer.Thumbnail(_dir.Write("rocket.jpg", rocket), ImageProbe.DefaultMaxPixels);
        using var upright = Thumbnailer.Thumbnail(_dir.Write("rocket-exif6.jpg", TestImages.WithExifOrientation(rocket, 6)),
            ImageProbe.DefaultMaxPixels);

        Assert.Equal((256, 171), (asStored.Width, asStored.Height));
        Assert.Equal((171, 256), (upright.Width, upright.Height));
        // Orientation 6 means "turn 90° clockwise to view": the stored bottom-left corner becomes the top-left.
        var topLeftUpright = Mean(upright, 0, 0, 24, 24);
        Assert.True(Close(Mean(asStored, 0, asStored.Height - 24, 24, 24), topLeftUpright, 12));
        Assert.False(Close(Mean(asStored, 0, 0, 24, 24), topLeftUpright, 12), "the corners differ, so the check means something");
    }

    [Fact]
    public void ATiffsOrientationTurnsItsThumbnailUprightAsItsListing()
    {
        // One row of 300 grey pixels, dark to light from left to right, stored with "turn 90° clockwise to view".
        var tiff = SyntheticTiff.OneRow(300, orientation: 6);
        for (var x = 0; x < 300; x++) tiff[tiff.Length - 300 + x] = (byte)(x * 255 / 299);
        var file = _dir.Write("row6.tif", tiff);
        using var upright = Thumbnailer.Thumbnail(file, ImageProbe.DefaultMaxPixels);
        Assert.Equal(new ImageHeader(ImageFormat.Tiff, 1, 300), ImageProbe.Read(file));
        Assert.Equal((1, 256), (upright.Width, upright.Height));
        // Turned clockwise, the row's left end is at the top.
        Assert.True(upright.GetPixel(0, 0).Red + 100 < upright.GetPixel(0, 255).Red,
            $"dark at the top ({upright.GetPixel(0, 0)}), light at the bottom ({upright.GetPixel(0, 255)})");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACameraRawFilesThumbnailIsMadeFromItsLargestJpegPreviewTurnedByIfd0(bool interchangeFormat)
    {
        // IFD0's own preview is one row of 256 grey pixels; the first SubIFD holds rocket.jpg (640 × 427) as a DNG's
        // JPEG strip or a NEF's JPEGInterchangeFormat; IFD0 says "turn 90° clockwise to view".
        var raw = SyntheticTiff.RawWithPreview(256, 6048, 4024, orientation: 6, jpegPreview: TestImages.Bytes("rocket.jpg"),
            interchangeFormat: interchangeFormat);
        var file = _dir.Write("raw.tif", raw);
        using var thumbnail = Thumbnailer.Thumbnail(file, ImageProbe.DefaultMaxPixels);
        Assert.Equal((171, 256), (thumbnail.Width, thumbnail.Height));
        using var preview = Thumbnailer.Thumbnail(file, ImageProbe.DefaultMaxPixels, Thumbnailer.PreviewSide);
        Assert.Equal((427, 640), (preview.Width, preview.Height));
    }

    [Fact]
    public void ACameraRawFileWhoseJpegPreviewDoesNotDecodeGetsItsFirstPagesThumbnail()
    {
        var raw = SyntheticTiff.RawWithPreview(256, 6048, 4024, jpegPreview: new byte[4096]);
        using var thumbnail = Thumbnailer.Thumbnail(_dir.Write("raw.tif", raw), ImageProbe.DefaultMaxPixels);
        Assert.Equal((256, 1), (thumbnail.Width, thumbnail.Height));
    }

    [Theory]
    [InlineData(SKEncodedOrigin.TopLeft, 3, 2, 0, 0)]
    [InlineData(SKEncodedOrigin.TopRight, 3, 2, 2, 0)]
    [InlineData(SKEncodedOrigin.BottomRight, 3, 2, 2, 1)]
    [InlineData(SKEncodedOrigin.BottomLeft, 3, 2, 0, 1)]
    [InlineData(SKEncodedOrigin.LeftTop, 2, 3, 0, 0)]
    [InlineData(SKEncodedOrigin.RightTop, 2, 3, 1, 0)]
    [InlineData(SKEncodedOrigin.RightBottom, 2, 3, 1, 2)]
    [InlineData(SKEncodedOrigin.LeftBottom, 2, 3, 0, 2)]
    public void EveryOrientationKeepsOrSwapsTheSidesAndMovesTheMarkedCorner(SKEncodedOrigin origin, int width,
        int height, int redX, int redY)
    {
        // A 3x2 image whose stored top-left pixel alone is red; where it lands is fixed by TIFF 6.0 tag 274.
        using var image = new SKBitmap(new SKImageInfo(3, 2, SKColorType.Rgba8888, SKAlphaType.Premul));
        image.Erase(SKColors.Black);
        image.SetPixel(0, 0, SKColors.Red);
        using var upright = Thumbnailer.Orient(image, origin);
        Assert.Equal((width, height), (upright.Width, upright.Height));
        Assert.Equal(SKColors.Red, upright.GetPixel(redX, redY));
        Assert.Equal(1, Enumerable.Range(0, width * height).Count(i => upright.GetPixel(i % width, i / width) == SKColors.Red));
    }

    [Theory]
    [InlineData(640, 427, 256, 171)]
    [InlineData(427, 640, 171, 256)]
    [InlineData(256, 10, 256, 10)]
    [InlineData(100, 60, 100, 60)]
    [InlineData(5000, 1, 256, 1)]
    public void TheLongestSideBecomes256AndTheOtherFollows(int width, int height, int thumbWidth, int thumbHeight)
    {
        Assert.Equal((thumbWidth, thumbHeight), Thumbnailer.Fit(width, height));
    }

    [Theory]
    [InlineData("not-an-image.txt")]
    [InlineData("truncated.jpg")]
    public void AnUnreadableImageIsAClearErrorAndWritesNothing(string name)
    {
        var source = _dir.Write(name, TestImages.Bytes(name));
        var target = _dir.Combine("thumbnails", "x.jpg");
        var e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(source, target));
        Assert.StartsWith("unreadable image", e.Message);
        Assert.False(File.Exists(target));
    }

    [Theory]
    [InlineData("rocket.heic")]
    [InlineData("rocket.avif")]
    public void HeicAndAvifThumbnailsShowTheSamePhotoAsTheJpegTheyWereEncodedFrom(string name)
    {
        Assert.True(HeifThumbnailer.IsAvailable, $"{HeifThumbnailer.Program} and prlimit must be on PATH (Debian packages " +
            "heif-thumbnailer and util-linux; .ci/run installs them)");
        Assert.True(Thumbnailer.Decodes(RealImages.Get(name).Format));
        var target = _dir.Combine("thumbnails", "t.jpg");
        Thumbnailer.Write(_dir.Write(name, TestImages.Bytes(name)), target);

        using var heif = SKBitmap.Decode(target);
        using var jpeg = Thumb("rocket.jpg");
        Assert.Equal((jpeg.Width, jpeg.Height), (heif.Width, heif.Height));
        // Lossy codecs at quality 50 move colours a little; a wrong colour conversion, a turn or a blank frame moves a
        // quadrant's mean far more.
        int w = jpeg.Width / 2, h = jpeg.Height / 2;
        foreach (var (x, y) in new[] { (0, 0), (w, 0), (0, h), (w, h) })
        {
            var (a, b) = (Mean(jpeg, x, y, w, h), Mean(heif, x, y, w, h));
            Assert.True(Close(a, b, 12), $"quadrant at {x},{y}: {string.Join(",", a)} vs {string.Join(",", b)}");
        }
        Assert.Equal(["t.jpg"], TempFolder.List(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public void APhonesHeicIsThumbnailedFromItsThumbnailItemWhoseDecodeFitsTheBoundThePrimarysDoesNot()
    {
        // 4032 × 3024 with a 512 × 384 thumbnail item, as a phone writes. With the pixel limit at exactly its size the
        // decoder gets 32 MiB + 4 bytes a pixel (78 MiB): enough for the thumbnail item, not for the primary image
        // (about 8 bytes a pixel), which the same file without its thumbnail reference must decode.
        const long limit = 4032L * 3024;
        var withItem = _dir.Write("with.heic", TestImages.Bytes("gradient-thumbnail.heic"));
        var without = _dir.Write("without.heic", RealImages.HeicWithoutThumbnail());
        Assert.Equal(512, HeifHeader.ReadThumbnailSide(withItem));
        Assert.Null(HeifHeader.ReadThumbnailSide(without));
        Assert.Null(HeifHeader.ReadThumbnailSide(_dir.Write("rocket.heic", TestImages.Bytes("rocket.heic"))));

        Thumbnailer.Write(withItem, _dir.Combine("out", "with.jpg"), limit);
        var e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(without, _dir.Combine("out", "without.jpg"), limit));
        Assert.StartsWith($"unreadable image: {HeifThumbnailer.Program} exited 1 within 78 MiB", e.Message);
        Assert.Equal(["with.jpg"], TempFolder.List(_dir.Combine("out")));

        // Under the default limit the primary image decodes, and shows the same picture as the thumbnail item.
        Thumbnailer.Write(without, _dir.Combine("out", "without.jpg"));
        using var fromItem = SKBitmap.Decode(_dir.Combine("out", "with.jpg"));
        using var fromPrimary = SKBitmap.Decode(_dir.Combine("out", "without.jpg"));
        Assert.Equal((256, 192), (fromItem.Width, fromItem.Height));
        Assert.Equal((256, 192), (fromPrimary.Width, fromPrimary.Height));
        foreach (var (x, y) in new[] { (0, 0), (128, 0), (0, 96), (128, 96) })
        {
            var (a, b) = (Mean(fromItem, x, y, 128, 96), Mean(fromPrimary, x, y, 128, 96));
            Assert.True(Close(a, b, 12), $"quadrant at {x},{y}: {string.Join(",", a)} vs {string.Join(",", b)}");
        }
    }

    [Fact]
    public void APreviewIsAtMost2048PixelsAndComesFromAHeicsPrimaryImageNotItsSmallerThumbnailItem()
    {
        // The phone's 4032 × 3024 HEIC: its 512-pixel thumbnail item would not do for 2048, so the primary is decoded.
        var heic = _dir.Write("phone.heic", TestImages.Bytes("gradient-thumbnail.heic"));
        Thumbnailer.Write(heic, _dir.Combine("previews", "phone.jpg"), maxSide: Thumbnailer.PreviewSide);
        Assert.Equal((2048, 1536), TestImages.JpegSize(File.ReadAllBytes(_dir.Combine("previews", "phone.jpg"))));

        // A large JPEG is scaled down to 2048 on its longest side; a smaller TIFF keeps its size.
        using (var large = new SKBitmap(new SKImageInfo(3000, 2000, SKColorType.Rgba8888, SKAlphaType.Premul)))
        {
            large.Erase(SKColors.SteelBlue);
            using var file = File.Create(_dir.Combine("large.jpg"));
            Assert.True(large.Encode(file, SKEncodedImageFormat.Jpeg, 80));
        }
        Thumbnailer.Write(_dir.Combine("large.jpg"), _dir.Combine("previews", "large.jpg"), maxSide: Thumbnailer.PreviewSide);
        Assert.Equal((2048, 1365), TestImages.JpegSize(File.ReadAllBytes(_dir.Combine("previews", "large.jpg"))));
        var tiff = _dir.Write("chelsea.tif", TestImages.Bytes("chelsea.tif"));
        Thumbnailer.Write(tiff, _dir.Combine("previews", "chelsea.jpg"), maxSide: Thumbnailer.PreviewSide);
        Assert.Equal((96, 64), TestImages.JpegSize(File.ReadAllBytes(_dir.Combine("previews", "chelsea.jpg"))));
        Assert.Equal(["chelsea.jpg", "large.jpg", "phone.jpg"], TempFolder.List(_dir.Combine("previews")));
    }

    [Fact]
    public void TheRenderersChildGetsNoneOfTheNodesSecrets()
    {
        // A child's environment starts as a copy of this process's: the node's holds the admin token, the database URL
        // and the cluster certificate's password.
        var start = new System.Diagnostics.ProcessStartInfo("prlimit");
        start.Environment["ACTORIMAGES_ADMIN_TOKEN"] = "secret";
        start.Environment["ACTORIMAGES_DB_URL"] = "postgresql://actorimages:secret@db/actorimages";
        start.Environment["ACTORIMAGES_CLUSTER_CERT_PASSWORD"] = "secret";
        start.Environment["LIBHEIF_PLUGIN_PATH"] = "/usr/lib/libheif/plugins";
        start.Environment["PATH"] = "/usr/bin:/bin";
        HeifThumbnailer.ScrubEnvironment(start.Environment);
        Assert.Equal("/usr/bin:/bin", start.Environment["PATH"]);
        Assert.Equal("/usr/lib/libheif/plugins", start.Environment["LIBHEIF_PLUGIN_PATH"]);
        Assert.DoesNotContain(start.Environment.Keys, k => k.StartsWith("ACTORIMAGES_", StringComparison.Ordinal));
        // Nothing else of this process's environment either (HOME, USER, the test runner's own variables …).
        Assert.All(start.Environment.Keys, k => Assert.True(HeifThumbnailer.KeptVariables.Contains(k) || k is "LIBHEIF_PLUGIN_PATH" or "LC_ALL", k));
        // Its messages in the C locale's words, which tell a refused thread from a bad image.
        Assert.Equal("C.UTF-8", start.Environment["LC_ALL"]);
    }

    [Fact]
    public void ARendererRefusedAThreadOrKilledIsTheMachinesFailureNotTheImages()
    {
        // As heif-thumbnailer said it in a node whose pids limit was full (exit code 134, SIGABRT from terminate).
        Assert.True(HeifThumbnailer.RefusedByTheMachine(134, "terminate called after throwing an instance of " +
            "'std::system_error'   what():  Resource temporarily unavailable"));
        // Killed by SIGKILL: the kernel's or a container's out-of-memory killer.
        Assert.True(HeifThumbnailer.RefusedByTheMachine(137, ""));
        // The image's own failures: a cut file (exit code 1), an allocation over the data bound (abort, bad_alloc).
        Assert.False(HeifThumbnailer.RefusedByTheMachine(1, "Could not read HEIF file: Invalid input: Unexpected end of file: Extent in iloc box references data outside of file bounds (points to file position 1035)"));
        Assert.False(HeifThumbnailer.RefusedByTheMachine(134, "terminate called after throwing an instance of 'std::bad_alloc'   what():  std::bad_alloc"));
    }

    [Fact]
    public void ABrokenOrOversizedHeicIsAClearErrorAndLeavesNoFile()
    {
        var cut = _dir.Write("cut.heic", TestImages.Bytes("rocket.heic")[..20_000]);
        var e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(cut, _dir.Combine("out", "cut.jpg")));
        Assert.StartsWith($"unreadable image: {HeifThumbnailer.Program} exited 1 within", e.Message);

        // The header's 16000 × 16000 is refused before any decoder runs.
        var bomb = _dir.Write("bomb.heic", RealImages.HeicBomb());
        e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(bomb, _dir.Combine("out", "bomb.jpg")));
        Assert.StartsWith("image too large (16000x16000 pixels", e.Message);
        Assert.Empty(TempFolder.List(_dir.Combine("out")));
    }

    [Fact]
    public void ATiffOfFloatingPointPlanesGetsNoThumbnailAndAClearReason()
    {
        var source = _dir.Write("multipage_rgb.tif", TestImages.Bytes("multipage_rgb.tif"));
        var e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(source, _dir.Combine("t.jpg")));
        Assert.Equal("unreadable image: planar tiff not read here", e.Message);
        Assert.False(File.Exists(_dir.Combine("t.jpg")));
    }

    [Fact]
    public void ATiffClaimingARowLongerThanTheFileIsRefusedBeforeTheRowIsAllocated()
    {
        // 90,000,000 pixels of one row (under the pixel limit) claimed by a file of a few hundred bytes.
        var source = _dir.Write("wide.tif", SyntheticTiff.OneRow(90_000_000, pixelBytes: 64));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(source, _dir.Combine("wide.jpg")));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("unreadable image: tiff cut short", e.Message);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
        Assert.False(File.Exists(_dir.Combine("wide.jpg")));
    }

    [Fact]
    public void ATiffRepeatingAStripTagIsDecodedFromItsFirstAtTheCostOfOne()
    {
        // StripOffsets again 400 times, each entry claiming a million LONG values (the same 4 MB of zeros): the decoder
        // read and kept every entry's values (4.8 GB of arrays), the last one winning. Now the first entry counts.
        var source = _dir.Write("strips.tif", SyntheticTiff.WithLongTags(64, tags: 400, values: 1 << 20, tag: 273));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Thumbnailer.Write(source, _dir.Combine("strips.jpg"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
        using var thumbnail = SKBitmap.Decode(_dir.Combine("strips.jpg"));
        Assert.Equal((64, 1), (thumbnail.Width, thumbnail.Height));
    }

    [Fact]
    public void ADecodeBombIsRefusedFromItsHeaderBeforeAnyDecode()
    {
        var source = _dir.Write("bomb.jpg", RealImages.JpegBomb());
        var target = _dir.Combine("thumbnails", "bomb.jpg");
        var e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(source, target));
        Assert.Equal("image too large (16000x16000 pixels, limit 100000000)", e.Message);
        Assert.False(File.Exists(target));
        Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(_dir.Write("bomb.png", RealImages.PngBomb()), target));
    }

    [Fact]
    public void AProgressiveJpegWhoseCoefficientsWouldTakeMoreThanAPngAtTheLimitGetsNoThumbnail()
    {
        // 10,000 × 10,000 (the pixel limit) of three full-resolution components: 600 MB of coefficients whatever the
        // scale (it took 630 MB and 2.3 s), over the 400 MB a PNG at the limit takes decoded whole.
        var bomb = _dir.Write("bomb.jpg", RealImages.ProgressiveJpegBomb(10_000, 10_000));
        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 10_000, 10_000), ImageProbe.Read(bomb)); // stored as any image
        var e = Assert.Throws<InvalidImageException>(() => Thumbnailer.Write(bomb, _dir.Combine("bomb-thumb.jpg")));
        Assert.Equal("image too large to decode (a progressive JPEG: 572 MiB of coefficients, limit 381 MiB)", e.Message);
        Assert.False(File.Exists(_dir.Combine("bomb-thumb.jpg")));

        // At 5,000 × 5,000 it needs 143 MiB: made, as is the real progressive JPEG (a few hundred KB of coefficients).
        Thumbnailer.Write(_dir.Write("smaller.jpg", RealImages.ProgressiveJpegBomb(5_000, 5_000)), _dir.Combine("smaller-thumb.jpg"));
        using var thumb = SKBitmap.Decode(_dir.Combine("smaller-thumb.jpg"));
        Assert.Equal((256, 256), (thumb.Width, thumb.Height));
        Assert.Equal(640 * 427 * 6, (int)Thumbnailer.CoefficientBytes(ImageProbe.ReadJpegFrame(TestImages.PathOf("rocket-progressive.jpg"))!), 20_000d);
    }

    [Fact]
    public void UnderARaisedLimitABigJpegIsDecodedAtAnEighthNeverAtFullSize()
    {
        // 16000x16000 RGBA would be 1 GB; at 1/8 scale it is 16 MB.
        var source = _dir.Write("bomb.jpg", RealImages.JpegBomb());
        long peakBefore = PeakMemory();
        var watch = Stopwatch.StartNew();

        Thumbnailer.Write(source, _dir.Combine("big.jpg"), maxPixels: 300_000_000);

        using var thumb = SKBitmap.Decode(_dir.Combine("big.jpg"));
        Assert.Equal((256, 256), (thumb.Width, thumb.Height));
        Assert.True(PeakMemory() - peakBefore < 512L << 20, $"peak grew by {(PeakMemory() - peakBefore) >> 20} MiB");
        Assert.True(watch.ElapsedMilliseconds < 10_000, $"{watch.ElapsedMilliseconds} ms");
    }

    private SKBitmap Thumb(string name) =>
        Thumbnailer.Thumbnail(_dir.Write(name, RealImages.Get(name).Bytes), ImageProbe.DefaultMaxPixels);

    private static long PeakMemory()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    private static int[] Mean(SKBitmap image, int x0, int y0, int w, int h)
    {
        long r = 0, g = 0, b = 0;
        for (int y = y0; y < y0 + h; y++)
        {
            for (int x = x0; x < x0 + w; x++)
            {
                var c = image.GetPixel(x, y);
                r += c.Red;
                g += c.Green;
                b += c.Blue;
            }
        }
        int n = w * h;
        return [(int)(r / n), (int)(g / n), (int)(b / n)];
    }

    private static bool Close(int[] a, int[] b, int tolerance) =>
        Enumerable.Range(0, 3).All(i => Math.Abs(a[i] - b[i]) <= tolerance);
}
