using ActorImages.Testing;
using static ActorImages.Storage.Tests.Staging;

namespace ActorImages.Storage.Tests;

public sealed class BlobWriterTests : IDisposable
{
    private const long Limit = 64L << 20;
    private readonly TempFolder _dir = new();
    private readonly BlobStore _store;

    public BlobWriterTests() => _store = new BlobStore(_dir.Path, Limit);

    private string TempDir => _store.TempDir;

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, int> EveryImageInEveryChunkSize()
    {
        var data = new TheoryData<string, int>();
        foreach (var image in RealImages.All)
        {
            // One-byte chunks for the small files only: the point is the chunk edges, not the run time.
            foreach (var chunk in image.Bytes.Length <= 300_000 ? new[] { 1, 7, 65536 } : [7, 65536])
            {
                data.Add(image.Name, chunk);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryImageInEveryChunkSize))]
    public async Task EveryRealImageIsStagedExactlyAsSentWhateverTheChunkSize(string name, int chunk)
    {
        var image = RealImages.Get(name);
        await using var writer = _store.NewWriter();

        var staged = await Stage(writer, image.Bytes, chunk, expectedSize: image.Bytes.Length);

        Assert.Equal(image.Bytes.Length, staged.Size);
        Assert.Equal(RealImages.Md5(image.Bytes), staged.Md5);
        Assert.Equal(RealImages.Sha256(image.Bytes), staged.Sha256);
        Assert.Equal((image.Format, image.Width, image.Height), (staged.Format, staged.Width, staged.Height));
        Assert.Equal(image.Bytes, File.ReadAllBytes(staged.TempFile));
        Assert.Equal(TempDir, Path.GetDirectoryName(staged.TempFile));
    }

    [Fact]
    public async Task ACopyWriterStagesTheSameBytesAndSha256WithoutMd5OrHeaderAndKeepsTheOtherChecks()
    {
        var image = RealImages.All.First(i => i.Format == ImageFormat.Jpeg);
        await using (var writer = _store.NewCopyWriter())
        {
            var staged = await Stage(writer, image.Bytes, 7, expectedSize: image.Bytes.Length);
            Assert.Equal(RealImages.Sha256(image.Bytes), staged.Sha256);
            Assert.Equal(("", ImageFormat.Jpeg, 0, 0), (staged.Md5, staged.Format, staged.Width, staged.Height));
            Assert.Equal(image.Bytes, File.ReadAllBytes(staged.TempFile));
        }
        // A header no decoder reads is not looked at (the caller checks the SHA-256 against the catalog's) ...
        await using (var writer = _store.NewCopyWriter())
        {
            var junkAfterMagic = Convert.FromHexString("ffd8ffe0deadbeefdeadbeefdeadbeefffd9");
            Assert.Equal(RealImages.Sha256(junkAfterMagic), (await Stage(writer, junkAfterMagic)).Sha256);
        }
        // ... but no magic number, a wrong length and the size limit still refuse.
        await using (var writer = _store.NewCopyWriter())
            Assert.Equal("not an image (unknown format)",
                (await Assert.ThrowsAsync<InvalidImageException>(() => Stage(writer, new byte[100]))).Message);
        await using (var writer = _store.NewCopyWriter())
            await Assert.ThrowsAsync<InvalidImageException>(() => Stage(writer, image.Bytes, expectedSize: image.Bytes.Length + 1));
        Assert.Empty(Directory.GetFiles(TempDir));
    }

    [Fact]
    public async Task TheFormatIsKnownOnceTwelveBytesArrivedAndBeforeTheUploadEnds()
    {
        var image = RealImages.Get("rocket.jpg");
        await using var writer = _store.NewWriter();

        await writer.WriteAsync(image.Bytes.AsMemory(0, 11));
        Assert.Null(writer.Format);
        await writer.WriteAsync(image.Bytes.AsMemory(11, 1));
        Assert.Equal(ImageFormat.Jpeg, writer.Format);
        await writer.WriteAsync(image.Bytes.AsMemory(12));
        var staged = await writer.FinishAsync(image.Bytes.Length);
        Assert.Equal(writer.Format, staged.Format);
    }

    [Fact]
    public async Task AJpegFollowedByAMotionPhotoVideoIsAcceptedAndItsMd5IsOfEveryByte()
    {
        // Issue 9: the old end-marker rule refused exactly what phones write.
        var image = RealImages.Get("rocket-motion-photo.jpg");
        Assert.True(image.Bytes.Length > 2 << 20);
        await using var writer = _store.NewWriter();
        var staged = await Stage(writer, image.Bytes, expectedSize: image.Bytes.Length);
        Assert.Equal(RealImages.Md5(image.Bytes), staged.Md5);
        Assert.Equal(image.Bytes.Length, staged.Size);
    }

    [Fact]
    public async Task ZeroPaddingAfterTheJpegEndMarkerIsAccepted()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var padded = rocket.Concat(new byte[1000]).ToArray();
        await using var writer = _store.NewWriter();
        var staged = await Stage(writer, padded, 7);
        Assert.Equal((640, 427, padded.Length), (staged.Width, staged.Height, staged.Size));
    }

    public static TheoryData<string, int> ImagesCutShort()
    {
        var data = new TheoryData<string, int>();
        foreach (var image in RealImages.All)
        {
            data.Add(image.Name, image.Bytes.Length - 1);
            data.Add(image.Name, image.Bytes.Length / 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ImagesCutShort))]
    public async Task AFrameCutShortIsRefusedByItsAnnouncedLength(string name, int length)
    {
        var image = RealImages.Get(name);
        var e = await AssertRefused(image.Bytes[..length], expectedSize: image.Bytes.Length);
        Assert.Equal($"truncated upload ({length} of {image.Bytes.Length} bytes)", e.Message);
    }

    [Fact]
    public async Task MoreBytesThanAnnouncedAreRefused()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var e = await AssertRefused(rocket, expectedSize: rocket.Length - 10);
        Assert.Equal($"upload longer than announced ({rocket.Length} of {rocket.Length - 10} bytes)", e.Message);
    }

    [Fact]
    public async Task ScikitImagesTruncatedJpegEndsInsideItsHeaderAndIsRefused()
    {
        // The first 400 bytes of a 100x100 JPEG: SOF0 parses, but the file stops before the first scan.
        var e = await AssertRefused(TestImages.Bytes("truncated.jpg"));
        Assert.Equal("truncated jpeg header", e.Message);
    }

    [Fact]
    public async Task NotAnImageIsRefusedAsSoonAsTwelveBytesArrived()
    {
        var text = TestImages.Bytes("not-an-image.txt");
        var writer = _store.NewWriter();
        for (int i = 0; i < 11; i++)
        {
            await writer.WriteAsync(text.AsMemory(i, 1));
        }
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => writer.WriteAsync(text.AsMemory(11, 1)).AsTask());
        Assert.Equal("not an image (unknown format)", e.Message);
        Assert.Empty(TempFolder.List(TempDir));
    }

    [Theory]
    [InlineData("not-an-image.txt")]
    [InlineData(null)]
    public async Task NotAnImageIsRefused(string? file)
    {
        var bytes = file is null ? "hello"u8.ToArray() : TestImages.Bytes(file);
        Assert.Equal("not an image (unknown format)", (await AssertRefused(bytes)).Message);
    }

    [Fact]
    public async Task AnEmptyUploadIsRefusedAndLeavesNoFile()
    {
        var writer = _store.NewWriter();
        await writer.WriteAsync(ReadOnlyMemory<byte>.Empty);
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => writer.FinishAsync());
        Assert.Equal("empty image", e.Message);
        Assert.Empty(TempFolder.List(TempDir));
    }

    [Theory]
    [InlineData("JPEG markers around noise", "ffd8ffe0deadbeefdeadbeefdeadbeefffd9", "jpeg")]
    [InlineData("PNG signature and IEND only", "89504e470d0a1a0a0000000049454e44ae426082", "png")]
    [InlineData("GIF version and trailer only", "4749463839610000000000003b", "gif")]
    [InlineData("BM and nothing else", "424d0000000000000000000000000000", "bmp")]
    [InlineData("RIFF WEBP without a chunk", "524946460400000057454250", "webp")]
    [InlineData("TIFF header pointing nowhere", "49492a00ffffff00", "tiff")]
    public async Task AHeaderNoDecoderReadsIsRefused(string what, string hex, string format)
    {
        var e = await AssertRefused(Convert.FromHexString(hex));
        Assert.Matches($"^(unreadable|truncated) {format} header$", e.Message);
        Assert.NotNull(what);
    }

    [Fact]
    public async Task AnUploadOfExactlyTheLimitIsAcceptedAndOneByteMoreIsRefusedBeforeItIsWritten()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var exact = new BlobStore(_dir.Path, rocket.Length);
        await using (var writer = exact.NewWriter())
        {
            Assert.Equal(rocket.Length, (await Stage(writer, rocket)).Size);
        }
        var tooSmall = new BlobStore(_dir.Path, rocket.Length - 1);
        var refused = tooSmall.NewWriter();
        await refused.WriteAsync(rocket.AsMemory(0, rocket.Length - 1));
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => refused.WriteAsync(rocket.AsMemory(^1)).AsTask());
        Assert.Equal($"image larger than {rocket.Length - 1} bytes", e.Message);
        Assert.Empty(TempFolder.List(TempDir));
    }

    [Fact]
    public async Task AbortDeletesTheTempFileAndMayBeRepeated()
    {
        var writer = _store.NewWriter();
        await writer.WriteAsync(TestImages.Bytes("rocket.jpg").AsMemory(0, 1000));
        Assert.Single(TempFolder.List(TempDir));

        writer.Abort();
        writer.Abort();
        Assert.Empty(TempFolder.List(TempDir));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(new byte[1]).AsTask());
    }

    [Fact]
    public async Task ARefusedUploadLeavesTheWriterAborted()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var writer = _store.NewWriter();
        await Assert.ThrowsAsync<InvalidImageException>(() => Stage(writer, rocket, 4096, rocket.Length + 1));
        Assert.Empty(TempFolder.List(TempDir));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.FinishAsync());
    }

    [Fact]
    public async Task ACancelledWriteAbortsTheWriter()
    {
        var writer = _store.NewWriter();
        await writer.WriteAsync(TestImages.Bytes("rocket.jpg").AsMemory(0, 1000));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => writer.WriteAsync(new byte[100_000], new CancellationToken(canceled: true)).AsTask());
        Assert.Empty(TempFolder.List(TempDir));
    }

    [Fact]
    public async Task DisposingAnUnfinishedWriterAbortsIt()
    {
        await using (var writer = _store.NewWriter())
        {
            await writer.WriteAsync(TestImages.Bytes("rocket.jpg").AsMemory(0, 1000));
        }
        Assert.Empty(TempFolder.List(TempDir));
    }

    [Fact]
    public async Task DisposingAFinishedButUncommittedWriterDropsTheStagedFile()
    {
        StagedBlob staged;
        await using (var writer = _store.NewWriter())
        {
            staged = await Stage(writer, TestImages.Bytes("rocket.jpg"));
            Assert.True(File.Exists(staged.TempFile));
        }
        Assert.False(File.Exists(staged.TempFile));
    }

    [Fact]
    public async Task DisposingACommittedWriterKeepsTheImage()
    {
        string stored;
        await using (var writer = _store.NewWriter())
        {
            stored = await _store.CommitAsync(await Stage(writer, TestImages.Bytes("rocket.jpg")), "2026-12-02/062423.jpg");
        }
        Assert.Equal(TestImages.Bytes("rocket.jpg"), File.ReadAllBytes(stored));
        Assert.Empty(TempFolder.List(TempDir));
    }

    [Fact]
    public async Task AbortAfterFinishDropsTheStagedFile()
    {
        var writer = _store.NewWriter();
        var staged = await Stage(writer, TestImages.Bytes("rocket.jpg"));
        writer.Abort();
        Assert.False(File.Exists(staged.TempFile));
    }

    [Fact]
    public async Task APartialUploadIsNeverVisibleOutsideTheTempFolder()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var writer = _store.NewWriter();
        await writer.WriteAsync(rocket.AsMemory(0, rocket.Length / 2));

        Assert.Equal([BlobStore.TempFolder], TempFolder.List(_dir.Path));
        var part = Assert.Single(TempFolder.List(TempDir));
        Assert.Throws<ArgumentException>(() => _store.Resolve($"{BlobStore.TempFolder}/{part}"));

        await Assert.ThrowsAsync<InvalidImageException>(() => writer.FinishAsync(rocket.Length));
        Assert.Equal([BlobStore.TempFolder], TempFolder.List(_dir.Path));
        Assert.Empty(TempFolder.List(TempDir));
    }

    private async Task<InvalidImageException> AssertRefused(byte[] bytes, long? expectedSize = null)
    {
        var writer = _store.NewWriter();
        var e = await Assert.ThrowsAsync<InvalidImageException>(() => Stage(writer, bytes, 4096, expectedSize));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.FinishAsync());
        Assert.Empty(TempFolder.List(TempDir));
        return e;
    }
}
