using System.Diagnostics;
using ActorImages.Testing;
using static ActorImages.Storage.Tests.Staging;

namespace ActorImages.Storage.Tests;

public sealed class ImageProbeTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Images() => RealImages.Names();

    [Theory]
    [MemberData(nameof(Images))]
    public void TheHeaderOfEveryRealImageIsRead(string name)
    {
        var image = RealImages.Get(name);
        var header = ImageProbe.Read(_dir.Write(name, image.Bytes));
        Assert.Equal(new ImageHeader(image.Format, image.Width, image.Height), header);
    }

    [Fact]
    public void AJpegBombIsRefusedFromItsHeaderInAFewHundredBytes()
    {
        var bomb = RealImages.JpegBomb();
        Assert.InRange(bomb.Length, 100, 1000);
        var file = _dir.Write("bomb.jpg", bomb);

        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidImageException>(() => ImageProbe.Read(file));
        Assert.Equal("image too large (16000x16000 pixels, limit 100000000)", e.Message);
        // A header parse, not a 1 GB decode.
        Assert.True(watch.ElapsedMilliseconds < 2000, $"{watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void APngBombIsRefusedFromItsHeader()
    {
        var e = Assert.Throws<InvalidImageException>(() => ImageProbe.Read(_dir.Write("bomb.png", RealImages.PngBomb())));
        Assert.Equal("image too large (16000x16000 pixels, limit 100000000)", e.Message);
    }

    [Fact]
    public void AnIPhoneGridHeicGetsTheSizeOfTheWholePictureNotOfATile()
    {
        // Phones write a grid of 512 × 512 tiles; the primary item is the grid, listed after its 48 tiles.
        var file = _dir.Write("IMG_0001.HEIC", RealImages.HeicGridHeader(4032, 3024));
        Assert.Equal(new ImageHeader(ImageFormat.Heic, 4032, 3024), ImageProbe.Read(file));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(5, true)]
    [InlineData(6, true)]
    [InlineData(7, true)]
    [InlineData(8, true)]
    public void AJpegIsListedAsItsExifOrientationShowsIt(int orientation, bool turnedAQuarter)
    {
        // A phone holds its sensor sideways: a portrait photo is stored 640 wide and 427 tall with orientation 6.
        var file = _dir.Write("rocket.jpg", TestImages.WithExifOrientation(TestImages.Bytes("rocket.jpg"), orientation));
        Assert.Equal(turnedAQuarter ? new ImageHeader(ImageFormat.Jpeg, 427, 640) : new ImageHeader(ImageFormat.Jpeg, 640, 427),
            ImageProbe.Read(file));
    }

    [Theory]
    [InlineData(0, 4032, 3024)]
    [InlineData(1, 3024, 4032)]
    [InlineData(2, 4032, 3024)]
    [InlineData(3, 3024, 4032)]
    public void AnIPhoneHeicIsListedAsItsRotationShowsIt(int quarterTurns, int width, int height)
    {
        // ispe is the size before irot turns the picture: an iPhone's portrait photo is a 4032 × 3024 grid turned by 3.
        var file = _dir.Write("IMG_0002.HEIC", RealImages.HeicGridHeader(4032, 3024, quarterTurns));
        Assert.Equal(new ImageHeader(ImageFormat.Heic, width, height), ImageProbe.Read(file));
    }

    [Theory]
    [InlineData(null, 300, 1)]
    [InlineData((ushort)3, 300, 1)]
    [InlineData((ushort)6, 1, 300)]
    [InlineData((ushort)8, 1, 300)]
    public void ATiffIsListedAsItsOrientationShowsIt(ushort? orientation, int width, int height)
    {
        var file = _dir.Write("row.tif", SyntheticTiff.OneRow(300, orientation: orientation));
        Assert.Equal(new ImageHeader(ImageFormat.Tiff, width, height), ImageProbe.Read(file));
    }

    [Theory]
    [InlineData(0u, 0u, null, 6048, 4024)] // the raw directory's size
    [InlineData(6000u, 4000u, null, 6000, 4000)] // cropped by its DefaultCropSize
    [InlineData(6000u, 4000u, (ushort)6, 4000, 6000)] // a portrait: IFD0's orientation turns the photo
    [InlineData(7000u, 4000u, null, 6048, 4024)] // a crop larger than the image is ignored
    public void ACameraRawFileIsListedAtThePhotosSizeNotItsPreviews(uint cropWidth, uint cropHeight, ushort? orientation,
        int width, int height)
    {
        // A DNG's or NEF's IFD0 is a small preview (NewSubfileType 1); the photo is in a SubIFD.
        var crop = cropWidth > 0 ? (cropWidth, cropHeight) : ((uint, uint)?)null;
        var file = _dir.Write("raw.tif", SyntheticTiff.RawWithPreview(256, 6048, 4024, crop, orientation));
        Assert.Equal(new ImageHeader(ImageFormat.Tiff, width, height), ImageProbe.Read(file));
    }

    [Fact]
    public void ACameraRawFileWhoseRawDirectoryIsCutIsListedAtItsPreviewsSize()
    {
        var bytes = SyntheticTiff.RawWithPreview(256, 6048, 4024, rawAt: 1 << 30); // past the end
        Assert.Equal(new ImageHeader(ImageFormat.Tiff, 256, 1), ImageProbe.Read(_dir.Write("cut.tif", bytes)));
        // and its thumbnail is the preview's, as for any TIFF
        using var thumbnail = Thumbnailer.Thumbnail(_dir.Write("raw.tif", SyntheticTiff.RawWithPreview(256, 6048, 4024)),
            ImageProbe.DefaultMaxPixels);
        Assert.Equal((256, 1), (thumbnail.Width, thumbnail.Height));
    }

    [Fact]
    public void AHeicBombIsRefusedFromItsHeader()
    {
        var e = Assert.Throws<InvalidImageException>(() => ImageProbe.Read(_dir.Write("bomb.heic", RealImages.HeicBomb())));
        Assert.Equal("image too large (16000x16000 pixels, limit 100000000)", e.Message);
    }

    [Theory]
    [InlineData("rocket.heic")]
    [InlineData("rocket.avif")]
    public void AHeifFileWithoutItsImagePropertiesIsUnreadable(string name)
    {
        // Cut after the ftyp box: the brand says HEIF, but no meta box says what image it holds.
        var bytes = TestImages.Bytes(name);
        var cut = bytes.AsSpan(0, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes) + 16).ToArray();
        var e = Assert.Throws<InvalidImageException>(() => ImageProbe.Read(_dir.Write(name, cut)));
        Assert.StartsWith("unreadable", e.Message);
    }

    [Fact]
    public void AHeifWhoseCountSaysAThousandMillionEntriesCostsNoMoreThanItsBytes()
    {
        // rocket.avif with ipma's entry count at 989 million: MetadataExtractor's HEIF reader allocated 7.5 GB for it.
        var avif = TestImages.Bytes("rocket.avif");
        var ipma = avif.AsSpan().IndexOf("ipma"u8);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(avif.AsSpan(ipma + 8), 0x3b000001);
        var file = _dir.Write("lying.avif", avif);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(new ImageHeader(ImageFormat.Avif, 640, 427), ImageProbe.Read(file)); // the primary's entry is first
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Fact]
    public void ATiffWhoseTagsClaimGigabytesOfValuesCostsItsDirectory()
    {
        // 400 tags of a million LONG values each, all pointing at the same 4 MB: MetadataExtractor's TIFF reader read
        // and kept every tag's values (GBs of arrays; 4,000 such tags took it 176 s), where the size is two values.
        var file = _dir.Write("tags.tif", SyntheticTiff.WithLongTags(64, tags: 400, values: 1 << 20));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(new ImageHeader(ImageFormat.Tiff, 64, 1), ImageProbe.Read(file));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Fact]
    public void AJpegOfExifDirectoriesClaimingGigabytesCostsItsStartOfFrame()
    {
        // SkiaSharp refuses it (no scan), so the probe reads the frame's size with MetadataExtractor. Its reader of every
        // kind of segment parsed the Exif directories: 20 such segments (1.2 MB) made it keep 6 GB for 30 s.
        var file = _dir.Write("exif.jpg", RealImages.ExifDirectoryBomb(segments: 3));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 16, 16), ImageProbe.Read(file));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Theory]
    [InlineData("rocket.heic")]
    [InlineData("rocket.avif")]
    [InlineData("gradient-thumbnail.heic")]
    [InlineData("rocket.jpg")]
    [InlineData("chelsea.tif")]
    public void AThousandDamagedCopiesOfAnImageAreEachReadOrUnreadableNeverAnotherErrorOrABigAllocation(string name)
    {
        // Seeded: cut short, bytes changed, runs of 0xFF written over sizes, counts and markers in the first 1,200
        // bytes (a HEIF's ftyp and meta, a JPEG's tables, a TIFF's first IFD). MetadataExtractor's HEIF reader threw
        // NullReferenceException or InvalidDataException on 107 of 6,000; its JPEG reader, which reads what SkiaSharp
        // refuses, MetadataException ("Marker 255 found inside DHT segment") on 95 of 6,000, which escaped the probe.
        var original = TestImages.Bytes(name);
        var random = new Random(20261206);
        for (var i = 0; i < 1000; i++)
        {
            var bytes = (byte[])original.Clone();
            if (i % 3 == 0) bytes = bytes[..random.Next(12, bytes.Length)];
            else
                for (var k = 0; k < 1 + random.Next(8); k++)
                {
                    var at = random.Next(12, Math.Min(bytes.Length, 1200) - 4);
                    if (i % 3 == 1) bytes[at] = (byte)random.Next(256);
                    else bytes.AsSpan(at, 4).Fill(0xFF);
                }
            var file = _dir.Write($"damaged-{i}-{name}", bytes);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                // A HEIF's thumbnail item (HeifThumbnailer's choice) is read from the same boxes: it too is a size or none.
                if (name.EndsWith(".heic", StringComparison.Ordinal))
                    Assert.True(HeifHeader.ReadThumbnailSide(file) is null or > 0);
                var header = ImageProbe.Read(file);
                Assert.True(header.Width > 0 && header.Height > 0);
            }
            catch (InvalidImageException)
            {
            }
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AnUploadOverThePixelLimitIsRefusedAndNothingIsStaged()
    {
        var store = new BlobStore(_dir.Combine("data"), 64L << 20, maxPixels: 640 * 427 - 1);
        var writer = store.NewWriter();
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => Stage(writer, TestImages.Bytes("rocket.jpg")));
        Assert.Equal($"image too large (640x427 pixels, limit {640 * 427 - 1})", e.Message);
        Assert.Empty(TempFolder.List(store.TempDir));

        var atTheLimit = new BlobStore(_dir.Combine("data"), 64L << 20, maxPixels: 640 * 427);
        await using var accepted = atTheLimit.NewWriter();
        Assert.Equal(427, (await Stage(accepted, TestImages.Bytes("rocket.jpg"))).Height);
    }

    [Fact]
    public async Task ABombUploadIsRefusedBeforeAnyDecode()
    {
        var store = new BlobStore(_dir.Combine("data"), 64L << 20);
        var bomb = RealImages.JpegBomb();
        var e = await Assert.ThrowsAsync<InvalidImageException>(
            () => Stage(store.NewWriter(), bomb, expectedSize: bomb.Length));
        Assert.StartsWith("image too large", e.Message);
    }

    [Fact]
    public void AFileThatIsNoImageIsRefusedByTheSniffer()
    {
        var e = Assert.Throws<InvalidImageException>(
            () => ImageProbe.Read(_dir.Write("x.txt", TestImages.Bytes("not-an-image.txt"))));
        Assert.Equal("not an image (unknown format)", e.Message);
    }
}
