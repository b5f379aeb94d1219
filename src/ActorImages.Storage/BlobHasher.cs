using System.Buffers;
using System.Security.Cryptography;

namespace ActorImages.Storage;

/// <summary>The size and digests of a blob's bytes.</summary>
/// <param name="Size">size in bytes</param>
/// <param name="Md5">lowercase hex MD5 (32 characters): the legacy id (docs/protocols.md, P3 and P4)</param>
/// <param name="Sha256">lowercase hex SHA-256 (64 characters): what a replica is verified by</param>
public sealed record BlobDigest(long Size, string Md5, string Sha256);

/// <summary>
/// MD5 and SHA-256 of a byte stream, computed as it passes in chunks of any size, so a blob is never held whole in
/// memory: for an upload while it is written (<see cref="BlobWriter"/>), and for a file by the scrub. Not
/// thread-safe: one per stream.
/// </summary>
public sealed class BlobHasher : IDisposable
{
    private readonly IncrementalHash? _md5;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Creates a hasher.</summary>
    /// <param name="withMd5">false for a copy of a catalogued image, which is checked by its SHA-256 alone
    /// (<see cref="BlobStore.NewCopyWriter"/>): <see cref="Finish"/> then gives an empty MD5, and the MD5 pass (the
    /// slower of the two on this machine's CPUs) is not spent.</param>
    public BlobHasher(bool withMd5 = true)
    {
        if (withMd5) _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    }

    /// <summary>Bytes appended so far.</summary>
    public long Size { get; private set; }

    /// <summary>Appends the next bytes of the stream.</summary>
    /// <param name="bytes">the next bytes, any length</param>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        _md5?.AppendData(bytes);
        _sha256.AppendData(bytes);
        Size += bytes.Length;
    }

    /// <summary>The digest of every byte appended so far; the hasher starts over afterwards.</summary>
    /// <returns>size and lowercase hex digests (the MD5 empty when the hasher was made without it)</returns>
    public BlobDigest Finish()
    {
        var digest = new BlobDigest(Size, _md5 is null ? "" : Convert.ToHexStringLower(_md5.GetHashAndReset()),
            Convert.ToHexStringLower(_sha256.GetHashAndReset()));
        Size = 0;
        return digest;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _md5?.Dispose();
        _sha256.Dispose();
    }
}

/// <summary>
/// Computes a stored file's size, MD5 and SHA-256 by streaming it, on a thread-pool thread rather than the caller's:
/// how the scrub checks a copy, and how an incoming replica is compared with a file already under its name. Reads
/// do not use it: a copy being served is hashed as it streams (<see cref="VerifyingStream"/>). Memory stays at one
/// 1 MiB buffer whatever the file's size. Thread-safe (no state).
/// </summary>
public static class BlobVerifier
{
    /// <summary>Read size: large enough that a 64 MiB file is 64 reads, small enough to stay off the large-object
    /// heap through the pool.</summary>
    private const int BufferBytes = 1 << 20;

    /// <summary>Size and digests of <paramref name="path"/>.</summary>
    /// <param name="path">the file</param>
    /// <param name="cancellationToken">stops between reads</param>
    /// <returns>size in bytes and lowercase hex MD5 and SHA-256</returns>
    /// <exception cref="IOException">the file cannot be read (<see cref="FileNotFoundException"/> when missing)</exception>
    /// <exception cref="OperationCanceledException">cancelled</exception>
    public static Task<BlobDigest> ComputeAsync(string path, CancellationToken cancellationToken = default) =>
        // Hashing is CPU work: a thread-pool thread does it with plain reads, the caller's thread stays free.
        Task.Run(() => Compute(path, cancellationToken), cancellationToken);

    /// <summary>Whether <paramref name="path"/> holds bytes whose SHA-256 is <paramref name="sha256"/>.</summary>
    /// <param name="path">the file</param>
    /// <param name="sha256">expected lowercase or uppercase hex SHA-256</param>
    /// <param name="cancellationToken">stops between reads</param>
    /// <returns>true when the digest matches; false when it differs or the file is missing</returns>
    /// <exception cref="IOException">the file exists but cannot be read</exception>
    /// <exception cref="OperationCanceledException">cancelled</exception>
    public static async Task<bool> MatchesAsync(string path, string sha256,
        CancellationToken cancellationToken = default)
    {
        try
        {
            var digest = await ComputeAsync(path, cancellationToken).ConfigureAwait(false);
            return string.Equals(digest.Sha256, sha256, StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    private static BlobDigest Compute(string path, CancellationToken cancellationToken)
    {
        using var hasher = new BlobHasher();
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            Options = FileOptions.SequentialScan,
            BufferSize = 0,
        });
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            int read;
            while ((read = file.Read(buffer, 0, BufferBytes)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                hasher.Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hasher.Finish();
    }
}
