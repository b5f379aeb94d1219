using System.Security.Cryptography;

namespace ActorImages.Storage.Tests;

/// <summary>
/// <see cref="VerifyingStream"/>: a sound copy reads whole; a corrupt, truncated or overlong one never hands out its
/// last chunk, so a server streaming it can always abort before the transfer is complete.
/// </summary>
public sealed class VerifyingStreamTests : IDisposable
{
    private const int HoldBack = 1024;

    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0, 4096)]
    [InlineData(1, 1)]
    [InlineData(1023, 100)]
    [InlineData(1024, 777)]
    [InlineData(100_003, 777)]
    [InlineData(100_003, 65536)]
    public async Task ASoundCopyReadsWholeWhateverTheChunks(int size, int chunk)
    {
        var bytes = RandomNumberGenerator.GetBytes(size);
        await using var stream = new VerifyingStream(new MemoryStream(bytes), size, RealImages.Sha256(bytes), holdBackBytes: HoldBack);

        var (received, error) = await Drain(stream, chunk);

        Assert.Null(error);
        Assert.Equal(bytes, received);
        Assert.Equal(0, await stream.ReadAtLeastAsync(new byte[10], 1, throwOnEndOfStream: false)); // and stays at its end
    }

    [Fact]
    public async Task AFileOnDiskReadsWholeAndTheUppercaseDigestIsTheSame()
    {
        var bytes = RealImages.Get("rocket-motion-photo.jpg").Bytes;
        var file = _dir.Write("motion.jpg", bytes);
        await using var stream = new VerifyingStream(File.OpenRead(file), bytes.Length, RealImages.Sha256(bytes).ToUpperInvariant());

        var copy = new MemoryStream();
        await stream.CopyToAsync(copy, 81920);

        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task AnySingleFlippedByteFailsBeforeTheLastChunkIsReleased()
    {
        var bytes = RandomNumberGenerator.GetBytes(5000);
        var sha = RealImages.Sha256(bytes);
        for (var i = 0; i < bytes.Length; i++)
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= (byte)(1 << (i % 8));
            var reported = 0;
            await using var stream = new VerifyingStream(new MemoryStream(corrupt), corrupt.Length, sha,
                _ => reported++, HoldBack);

            var (received, error) = await Drain(stream, 300 + i % 700);

            Assert.IsType<CorruptBlobException>(error);
            Assert.True(received.Length <= bytes.Length - HoldBack, $"byte {i}: {received.Length} bytes handed out");
            Assert.Equal(1, reported);
            // Every later read fails the same way: nothing of the tail ever leaves.
            await Assert.ThrowsAsync<CorruptBlobException>(async () => _ = await stream.ReadAsync(new byte[HoldBack]));
            Assert.Equal(1, reported);
        }
    }

    [Fact]
    public void TheSynchronousReadFailsTheSameWay()
    {
        var bytes = RandomNumberGenerator.GetBytes(10_000);
        var sha = RealImages.Sha256(bytes);
        bytes[^1] ^= 0x80;
        using var stream = new VerifyingStream(new MemoryStream(bytes), bytes.Length, sha, holdBackBytes: HoldBack);

        var copy = new MemoryStream();
        Assert.Throws<CorruptBlobException>(() => stream.CopyTo(copy, 4096));
        Assert.True(copy.Length <= bytes.Length - HoldBack);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(500)]
    [InlineData(9_500)]
    [InlineData(9_999)]
    public async Task ATruncatedCopyFails(int kept)
    {
        var bytes = RandomNumberGenerator.GetBytes(10_000);
        var file = _dir.Write("short.bin", bytes.AsSpan(0, kept).ToArray());
        CorruptBlobException? reported = null;
        await using var stream = new VerifyingStream(File.OpenRead(file), bytes.Length, RealImages.Sha256(bytes),
            e => reported = e, HoldBack);

        var (received, error) = await Drain(stream, 4096);

        Assert.IsType<CorruptBlobException>(error);
        Assert.Same(error, reported);
        Assert.Contains("ended after", error.Message);
        Assert.True(received.Length <= bytes.Length - HoldBack);
    }

    [Fact]
    public async Task ACopyLongerThanTheCatalogSizeFails()
    {
        var bytes = RandomNumberGenerator.GetBytes(10_000);
        await using var stream = new VerifyingStream(new MemoryStream([.. bytes, 0]), bytes.Length,
            RealImages.Sha256(bytes), holdBackBytes: HoldBack);

        var (received, error) = await Drain(stream, 4096);

        Assert.IsType<CorruptBlobException>(error);
        Assert.Contains("longer", error.Message);
        Assert.True(received.Length <= bytes.Length - HoldBack);
    }

    [Fact]
    public async Task ASmallCopyIsCheckedWholeBeforeAnythingIsHandedOut()
    {
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var sha = RealImages.Sha256(bytes);

        await using (var sound = await VerifyingStream.ReadCheckedAsync(new MemoryStream(bytes), bytes.Length, sha))
        {
            var copy = new MemoryStream();
            await sound.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }
        var corrupt = (byte[])bytes.Clone();
        corrupt[123_456] ^= 1;
        await Assert.ThrowsAsync<CorruptBlobException>(() => VerifyingStream.ReadCheckedAsync(new MemoryStream(corrupt), bytes.Length, sha));
        await Assert.ThrowsAsync<CorruptBlobException>(() => VerifyingStream.ReadCheckedAsync(new MemoryStream(bytes[..^1]), bytes.Length, sha));
        await Assert.ThrowsAsync<CorruptBlobException>(() => VerifyingStream.ReadCheckedAsync(new MemoryStream([.. bytes, 7]), bytes.Length, sha));
    }

    [Fact]
    public void ABadDigestIsRefusedUpFront()
    {
        Assert.Throws<ArgumentException>(() => new VerifyingStream(new MemoryStream(), 0, "abc"));
        Assert.Throws<ArgumentException>(() => new VerifyingStream(new MemoryStream(), 0, new string('g', 64)));
    }

    /// <summary>Reads until the end or the first error, as a gateway copying to a socket does.</summary>
    private static async Task<(byte[] Received, Exception? Error)> Drain(Stream stream, int chunk)
    {
        var received = new MemoryStream();
        var buffer = new byte[chunk];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0) received.Write(buffer, 0, n);
            return (received.ToArray(), null);
        }
        catch (Exception e)
        {
            return (received.ToArray(), e);
        }
    }
}
