using ActorImages.Testing;

namespace ActorImages.Storage.Tests;

public sealed class BlobReadStreamTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private string FileOf(byte[] bytes)
    {
        var file = Path.Combine(_dir.Path, "blob.bin");
        File.WriteAllBytes(file, bytes);
        return file;
    }

    private static byte[] Bytes(int n)
    {
        var bytes = new byte[n];
        new Random(n).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task AsynchronousReadsAreCompleteWhenTheyReturnAndYieldTheFileInOrder()
    {
        var bytes = Bytes(300_000);
        await using var stream = BlobReadStream.Open(FileOf(bytes), FileShare.Read);
        var copy = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = stream.ReadAsync(buffer.AsMemory());
            Assert.True(read.IsCompleted, "the read ran on the caller's thread");
            var n = await read;
            if (n == 0) break;
            copy.Write(buffer, 0, n);
        }

        Assert.Equal(bytes, copy.ToArray());
        Assert.Equal(bytes.Length, stream.Position);
    }

    [Fact]
    public async Task ItSeeksAndKeepsTheLengthItWasOpenedWith()
    {
        var bytes = Bytes(10_000);
        var file = FileOf(bytes);
        await using var stream = BlobReadStream.Open(file, FileShare.ReadWrite);
        await using (var append = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
            append.Write(new byte[100]);

        Assert.Equal(10_000, stream.Length);
        Assert.Equal(9_000, stream.Seek(-1_000, SeekOrigin.End));
        var tail = new byte[1_000];
        Assert.Equal(1_000, await stream.ReadAsync(tail));
        Assert.Equal(bytes[9_000..], tail);
        stream.Position = 10;
        Assert.Equal(bytes[10], (byte)stream.ReadByte());
        Assert.Throws<IOException>(() => stream.Seek(-1, SeekOrigin.Begin));
        Assert.Equal(11, stream.Position);
    }

    [Fact]
    public async Task AFileDeletedWhileOpenIsStillReadWhole()
    {
        var bytes = Bytes(200_000);
        var file = FileOf(bytes);
        await using var stream = BlobReadStream.Open(file, FileShare.Read | FileShare.Delete);
        File.Delete(file);

        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task ACancelledReadReadsNothing()
    {
        await using var stream = BlobReadStream.Open(FileOf(Bytes(1_000)), FileShare.Read);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.ReadAtLeastAsync(new byte[10], 10, cancellationToken: cancelled.Token));
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public void AMissingFileIsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => BlobReadStream.Open(Path.Combine(_dir.Path, "none"), FileShare.Read));
}
