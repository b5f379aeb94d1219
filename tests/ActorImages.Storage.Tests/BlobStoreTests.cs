using System.Globalization;
using ActorImages.Testing;
using static ActorImages.Storage.Tests.Staging;

namespace ActorImages.Storage.Tests;

public sealed class BlobStoreTests : IDisposable
{
    private static readonly DateTimeOffset Received =
        DateTimeOffset.Parse("2026-11-22T14:30:05.750Z", CultureInfo.InvariantCulture);

    private readonly TempFolder _dir = new();
    private readonly BlobStore _store;

    public BlobStoreTests() => _store = new BlobStore(_dir.Path, 64L << 20);

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Images() => RealImages.Names();

    [Theory]
    [MemberData(nameof(Images))]
    public async Task EveryRealImageIsCommittedUnderItsUtcDateAndTimeWithIdenticalBytes(string name)
    {
        var image = RealImages.Get(name);
        await using var writer = _store.NewWriter();
        var staged = await Stage(writer, image.Bytes, expectedSize: image.Bytes.Length);
        var relative = BlobPaths.RelativePath(BlobPaths.Day(Received), BlobPaths.StoredName(Received, staged.Format, 0));

        var stored = await _store.CommitAsync(staged, relative);

        Assert.Equal(Path.Combine(_dir.Path, "2026-11-22", "143005." + image.Format.Extension()), stored);
        Assert.Equal(image.Bytes, File.ReadAllBytes(stored));
        Assert.True(_store.Exists(relative));
        Assert.False(File.Exists(staged.TempFile), "the temp file is gone");
        Assert.Empty(TempFolder.List(_store.TempDir));
        await using var read = _store.OpenRead(relative);
        var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(image.Bytes, copy.ToArray());
    }

    /// <summary>A file accepted as an existing copy is touched, so that the orphan sweep's grace (by last-write time)
    /// covers it until the catalog lists this node for it; another file under the name is left as it is.</summary>
    [Fact]
    public async Task AFileAcceptedAsTheCopyIsTouchedAndAnotherFileIsNot()
    {
        var bytes = TestImages.Bytes("rocket.jpg");
        await using var writer = _store.NewWriter();
        var staged = await Stage(writer, bytes, expectedSize: bytes.Length);
        var file = await _store.CommitAsync(staged, "2026-11-22/143005.jpg");
        var old = DateTime.UtcNow.AddHours(-2);
        File.SetLastWriteTimeUtc(file, old);

        Assert.False(await _store.HoldsCopyAsync("2026-11-22/143005.jpg", new string('0', 64)));
        Assert.Equal(old, File.GetLastWriteTimeUtc(file));
        Assert.True(await _store.HoldsCopyAsync("2026-11-22/143005.jpg", staged.Sha256));
        Assert.InRange(File.GetLastWriteTimeUtc(file), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.Null(await _store.HoldsCopyAsync("2026-11-22/nothing.jpg", staged.Sha256));
    }

    /// <summary>A day folder removed from outside while the store runs is made again by the next image placed in it.</summary>
    [Fact]
    public async Task AFolderRemovedFromOutsideIsMadeAgain()
    {
        var bytes = TestImages.Bytes("rocket.jpg");
        await using (var first = _store.NewWriter())
            await _store.CommitAsync(await Stage(first, bytes, expectedSize: bytes.Length), "2026-11-22/143005.jpg");
        Directory.Delete(Path.Combine(_dir.Path, "2026-11-22"), recursive: true);

        await using var second = _store.NewWriter();
        var stored = await _store.CommitAsync(await Stage(second, bytes, expectedSize: bytes.Length), "2026-11-22/143006.jpg");
        Assert.Equal(bytes, File.ReadAllBytes(stored));
    }

    [Fact]
    public async Task ATakenNameIsNeverOverwrittenAndTheStagedBlobWaitsForTheNextSuffix()
    {
        var first = await Commit("rocket.jpg", "2026-11-22/143005.jpg");
        await using var writer = _store.NewWriter();
        var second = await Stage(writer, RealImages.Get("rocket-progressive.jpg").Bytes);

        await Assert.ThrowsAnyAsync<IOException>(() => _store.CommitAsync(second, "2026-11-22/143005.jpg"));

        Assert.Equal(TestImages.Bytes("rocket.jpg"), File.ReadAllBytes(first));
        Assert.True(File.Exists(second.TempFile), "the caller may try the next name");
        var next = await _store.CommitAsync(second, "2026-11-22/143005-1.jpg");
        Assert.Equal(RealImages.Get("rocket-progressive.jpg").Bytes, File.ReadAllBytes(next));
    }

    [Fact]
    public async Task ACommitThatKeepsTheTempFileLeavesItForReadersUntilTheWriterIsDisposed()
    {
        var bytes = TestImages.Bytes("rocket.jpg");
        var writer = _store.NewWriter();
        var staged = await Stage(writer, bytes);

        var stored = await _store.CommitAsync(staged, "2026-11-22/143005.jpg", keepTempFile: true);

        Assert.Equal(bytes, File.ReadAllBytes(stored));
        Assert.Equal(bytes, File.ReadAllBytes(staged.TempFile));
        await writer.DisposeAsync();
        Assert.False(File.Exists(staged.TempFile), "the writer deletes the temp name");
        Assert.Equal(bytes, File.ReadAllBytes(stored));
    }

    [Fact]
    public async Task AStagedBlobIsCommittedAtMostOnce()
    {
        await using var writer = _store.NewWriter();
        var staged = await Stage(writer, TestImages.Bytes("rocket.jpg"));
        await _store.CommitAsync(staged, "2026-11-22/143005.jpg");

        await Assert.ThrowsAnyAsync<IOException>(() => _store.CommitAsync(staged, "2026-11-22/143005-1.jpg"));
        Assert.Equal(["143005.jpg"], TempFolder.List(Path.Combine(_dir.Path, "2026-11-22")));
    }

    [Fact]
    public async Task AReplacementTakesTheNameOfACorruptCopyWhileAnOpenReaderKeepsTheOldBytes()
    {
        var stored = await Commit("rocket.jpg", "2026-11-22/143005.jpg");
        var corrupt = TestImages.Bytes("rocket.jpg");
        corrupt[^100] ^= 0xFF;
        File.WriteAllBytes(stored, corrupt);
        await using var oldReader = _store.OpenRead("2026-11-22/143005.jpg");
        await using var writer = _store.NewCopyWriter();
        var staged = await Stage(writer, TestImages.Bytes("rocket.jpg"));

        var replaced = await _store.ReplaceAsync(staged, "2026-11-22/143005.jpg");

        Assert.Equal(stored, replaced);
        Assert.Equal(TestImages.Bytes("rocket.jpg"), File.ReadAllBytes(stored));
        Assert.Empty(TempFolder.List(_store.TempDir));
        var old = new MemoryStream();
        await oldReader.CopyToAsync(old);
        Assert.Equal(corrupt, old.ToArray());
    }

    [Fact]
    public async Task AReplacementOfAMissingCopyCreatesItAndItsFolder()
    {
        await using var writer = _store.NewCopyWriter();
        var staged = await Stage(writer, TestImages.Bytes("chelsea.png"));

        var replaced = await _store.ReplaceAsync(staged, "2026-11-23/010203.png");

        Assert.Equal(TestImages.Bytes("chelsea.png"), File.ReadAllBytes(replaced));
        Assert.Equal(["010203.png"], TempFolder.List(Path.Combine(_dir.Path, "2026-11-23")));
        Assert.Empty(TempFolder.List(_store.TempDir));
        await Assert.ThrowsAnyAsync<IOException>(() => _store.ReplaceAsync(staged, "2026-11-23/010204.png"));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.ReplaceAsync(staged, "../escaped.png"));
    }

    [Fact]
    public async Task ConcurrentCommitsOfTheSameNameStoreExactlyOneAndOverwriteNothing()
    {
        var staged = await StageMany(16);
        using var start = new Barrier(staged.Count);
        var results = await Task.WhenAll(staged.Select(blob => Task.Run(async () =>
        {
            start.SignalAndWait();
            try
            {
                await _store.CommitAsync(blob, "2026-11-22/143005.png");
                return blob;
            }
            catch (IOException)
            {
                return null;
            }
        })));

        var winner = Assert.Single(results, blob => blob is not null);
        Assert.Equal(winner!.Sha256, (await BlobVerifier.ComputeAsync(_store.Resolve("2026-11-22/143005.png"))).Sha256);
    }

    [Fact]
    public async Task ConcurrentCommitsThatTryTheNextSuffixEachGetTheirOwnName()
    {
        // What the catalog does when a name is taken (docs/protocols.md, P1: the second becomes -1, then -2, ...).
        var staged = await StageMany(24);
        using var start = new Barrier(staged.Count);
        var stored = await Task.WhenAll(staged.Select(blob => Task.Run(async () =>
        {
            start.SignalAndWait();
            for (int suffix = 0; ; suffix++)
            {
                var name = BlobPaths.StoredName(Received, ImageFormat.Png, suffix);
                try
                {
                    return (blob, path: await _store.CommitAsync(blob, BlobPaths.RelativePath("2026-11-22", name)));
                }
                catch (IOException) when (suffix < 100)
                {
                }
            }
        })));

        Assert.Equal(24, stored.Select(s => s.path).Distinct().Count());
        foreach (var (blob, path) in stored)
        {
            Assert.Equal(blob.Sha256, (await BlobVerifier.ComputeAsync(path)).Sha256);
        }
        Assert.Empty(TempFolder.List(_store.TempDir));
    }

    [Fact]
    public async Task LeftoverTempFilesAreRemovedAtStart()
    {
        var kept = await Commit("rocket.jpg", "2026-11-22/143005.jpg");
        File.WriteAllBytes(Path.Combine(_store.TempDir, "upload-1.part"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(_store.TempDir, "upload-2.part"), []);
        Directory.CreateDirectory(Path.Combine(_store.TempDir, "stray", "deeper"));
        File.WriteAllBytes(Path.Combine(_store.TempDir, "stray", "deeper", "file"), [4]);

        var restarted = new BlobStore(_dir.Path, 64L << 20);
        Assert.Equal(3, restarted.RemoveLeftoverTempFiles());
        Assert.Empty(TempFolder.List(_store.TempDir));
        Assert.True(File.Exists(kept), "committed images stay");
    }

    [Fact]
    public void TheConstructorCreatesTheDataDirectoryAndItsTempFolder()
    {
        var fresh = _dir.Combine("node-2", "data-dir");
        var created = new BlobStore(fresh + "/", 1);
        Assert.True(Directory.Exists(Path.Combine(fresh, ".tmp")));
        Assert.Equal(fresh, created.DataDir);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlobStore(fresh, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlobStore(fresh, 1, 0));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("..")]
    [InlineData("../outside.jpg")]
    [InlineData("data/../../outside.jpg")]
    [InlineData("2026-11-22/../../..")]
    [InlineData("/etc/passwd")]
    [InlineData("./..")]
    [InlineData("data/./../../x")]
    [InlineData("\\\\server\\share")]
    [InlineData("..\\outside.jpg")]
    [InlineData("2026-11-22/143005.jpg\0.txt")]
    [InlineData("2026-11-22//143005.jpg")]
    [InlineData(".tmp/upload-1.part")]
    public void ResolveRefusesPathsOutsideTheDataDirectory(string relativePath)
    {
        Assert.Throws<ArgumentException>(() => _store.Resolve(relativePath));
        Assert.Throws<ArgumentException>(() => _store.Exists(relativePath));
        Assert.Throws<ArgumentException>(() => _store.Delete(relativePath));
    }

    [Fact]
    public async Task ACommitToAnEscapingPathIsRefusedAndWritesNothingOutside()
    {
        await using var writer = _store.NewWriter();
        var staged = await Stage(writer, TestImages.Bytes("rocket.jpg"));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.CommitAsync(staged, "../escaped.jpg"));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_dir.Path)!, "escaped.jpg")));
        Assert.True(File.Exists(staged.TempFile));
    }

    [Fact]
    public async Task ResolveOpenAndDeleteFindACommittedImage()
    {
        var stored = await Commit("chelsea.png", "2026-11-22/143005.png");
        Assert.Equal(stored, _store.Resolve("2026-11-22/143005.png"));
        Assert.True(_store.Delete("2026-11-22/143005.png"));
        Assert.False(File.Exists(stored));
        Assert.False(_store.Delete("2026-11-22/143005.png"));
        Assert.Throws<FileNotFoundException>(() => _store.OpenRead("2026-11-22/143005.png"));
    }

    [Fact]
    public void TheStoreNamesOneThumbnailAndOnePreviewPerMd5AndRefusesOtherNames()
    {
        const string md5 = "0123456789abcdef0123456789abcdef";
        Assert.Equal(Path.Combine(_dir.Path, "thumbnails", md5 + ".jpg"), _store.ThumbnailPath(md5));
        Assert.Equal(Path.Combine(_dir.Path, "previews", md5 + ".jpg"), _store.PreviewPath(md5));
        foreach (var bad in new[] { "../../etc/passwd", "0123456789ABCDEF0123456789ABCDEF", "abc", "", md5 + "\n" })
        {
            Assert.Throws<ArgumentException>(() => _store.ThumbnailPath(bad));
            Assert.Throws<ArgumentException>(() => _store.PreviewPath(bad));
        }
    }

    [Fact]
    public void TempPathsAreFreshNamesInsideTheTempFolder()
    {
        var a = _store.NewTempPath(".source");
        Assert.NotEqual(a, _store.NewTempPath(".source"));
        Assert.Equal(_store.TempDir, Path.GetDirectoryName(a));
        Assert.EndsWith(".source", a);
        Assert.False(File.Exists(a));
        Assert.Throws<ArgumentException>(() => _store.NewTempPath("/../x"));
    }

    private async Task<string> Commit(string name, string relativePath)
    {
        await using var writer = _store.NewWriter();
        return await _store.CommitAsync(await Stage(writer, TestImages.Bytes(name)), relativePath);
    }

    // PNGs only, so all compete for the same names; several photos, so contents differ.
    private async Task<List<StagedBlob>> StageMany(int count)
    {
        var pngs = RealImages.All.Where(image => image.Format == ImageFormat.Png).ToList();
        var staged = new List<StagedBlob>();
        for (int i = 0; i < count; i++)
        {
            staged.Add(await Stage(_store.NewWriter(), pngs[i % pngs.Count].Bytes));
        }
        return staged;
    }
}
