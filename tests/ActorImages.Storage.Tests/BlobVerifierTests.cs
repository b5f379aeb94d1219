using System.Security.Cryptography;

namespace ActorImages.Storage.Tests;

public sealed class BlobVerifierTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task TheDigestOfAFileEqualsTheOneShotDigestOfItsBytes()
    {
        var bytes = RealImages.Get("rocket-motion-photo.jpg").Bytes;
        var file = _dir.Write("motion.jpg", bytes);

        var digest = await BlobVerifier.ComputeAsync(file);

        Assert.Equal(new BlobDigest(bytes.Length, RealImages.Md5(bytes), RealImages.Sha256(bytes)), digest);
        Assert.True(await BlobVerifier.MatchesAsync(file, digest.Sha256.ToUpperInvariant()));
    }

    [Fact]
    public async Task AChangedOrMissingFileDoesNotMatch()
    {
        var bytes = RealImages.Get("chelsea.webp").Bytes;
        var file = _dir.Write("a.webp", bytes);
        var sha = RealImages.Sha256(bytes);
        bytes[^1] ^= 1;
        File.WriteAllBytes(file, bytes);

        Assert.False(await BlobVerifier.MatchesAsync(file, sha));
        Assert.False(await BlobVerifier.MatchesAsync(_dir.Combine("missing.webp"), sha));
        await Assert.ThrowsAsync<FileNotFoundException>(() => BlobVerifier.ComputeAsync(_dir.Combine("missing.webp")));
    }

    [Fact]
    public void TheHasherGivesTheSameDigestWhateverTheChunks()
    {
        var bytes = RandomNumberGenerator.GetBytes(100_003);
        using var hasher = new BlobHasher();
        for (int offset = 0; offset < bytes.Length; offset += 997)
        {
            hasher.Append(bytes.AsSpan(offset, Math.Min(997, bytes.Length - offset)));
        }
        Assert.Equal(new BlobDigest(bytes.Length, RealImages.Md5(bytes), RealImages.Sha256(bytes)), hasher.Finish());
    }
}
