using ActorImages.Node.Repair;
using ActorImages.Storage;

namespace ActorImages.Node.Transfer;

/// <summary>
/// Opens this node's copy of an image for a reader (<see cref="ImageReader"/>, <c>GET /internal/blobs</c>) so that
/// it is read once, hashed while it is served (issue 9 §2 "Hashing", issue 10 §3), and a corrupt copy is never
/// delivered whole:
/// <list type="bullet">
/// <item>up to <see cref="FullCheckBytes"/> the whole copy is read into memory and checked before anything is
/// returned, so a bad small copy is simply not offered and the reader goes to another holder;</item>
/// <item>above it the copy is returned as a <see cref="VerifyingStream"/>: its last chunk is held back until the
/// SHA-256 matches, and a mismatch fails the read that would return it, so every gateway aborts the transfer
/// before the client has all the bytes.</item>
/// </list>
/// A copy found bad either way is deleted (only if the file is still the one that was read: the scrub may have put
/// a sound one there meanwhile) and reported to the scrub (<see cref="ScrubRequests"/>), which restores it from
/// another replica within one <c>scrub-pace</c>; until then reads go to the other holders. Thread-safe: each
/// reader hashes its own stream on its own thread, with no actor involved.
/// </summary>
public sealed class LocalCopies
{
    /// <summary>Copies up to this size (1 MiB) are checked whole before they are served: cheap to buffer, and the
    /// largest message a legacy P2 client takes (docs/protocols.md, P2), so such a client never sees a transfer
    /// fail halfway.</summary>
    public const long FullCheckBytes = 1 << 20;

    private readonly BlobStore _blobs;
    private readonly ScrubRequests _scrub;
    private readonly NodeMetrics _metrics;
    private readonly ILogger<LocalCopies> _log;

    /// <summary>Creates the service.</summary>
    /// <param name="blobs">This node's blob store.</param>
    /// <param name="scrub">Where bad copies are reported for a restore.</param>
    /// <param name="metrics">Counts bad copies (<c>actorimages_errors_total{kind="corrupt_read"}</c>).</param>
    /// <param name="log">Log.</param>
    public LocalCopies(BlobStore blobs, ScrubRequests scrub, NodeMetrics metrics, ILogger<LocalCopies> log)
    {
        _blobs = blobs;
        _scrub = scrub;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Opens this node's copy at <paramref name="path"/>.</summary>
    /// <param name="path">The stored relative path.</param>
    /// <param name="size">The catalog's size in bytes, or null to take the file's own (the SHA-256 covers it).</param>
    /// <param name="sha256">The catalog's SHA-256.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>Exactly the image's bytes, checked as described above, for the caller to dispose; null when this
    /// node has no copy or a bad one (then deleted and reported).</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is refused by <see cref="BlobStore.Resolve"/>.</exception>
    /// <exception cref="IOException">The copy exists but cannot be read.</exception>
    public async Task<Stream?> OpenAsync(string path, long? size, string sha256, CancellationToken ct)
    {
        // A read through a node that holds no copy is the common miss (a third of P2's downloads on three nodes with
        // two copies each): a stat answers it without the exception an open would throw; the catch is for a copy
        // deleted between the two calls.
        if (!_blobs.Exists(path)) return null;
        BlobReadStream file;
        try
        {
            file = _blobs.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var expected = size ?? file.Length;
        if (file.Length != expected)
        {
            Discard(path, file, $"{file.Length} bytes, catalog {expected}");
            await file.DisposeAsync();
            return null;
        }
        if (expected > FullCheckBytes)
        {
            try
            {
                return new VerifyingStream(file, expected, sha256, e => Discard(path, file, e.Message));
            }
            catch
            {
                // a malformed sha256: the file is not left open for the finalizer
                await file.DisposeAsync();
                throw;
            }
        }
        await using (file)
        {
            try
            {
                return await VerifyingStream.ReadCheckedAsync(file, expected, sha256, ct);
            }
            catch (CorruptBlobException e)
            {
                Discard(path, file, e.Message);
                return null;
            }
        }
    }

    /// <summary>Deletes the bad copy that <paramref name="opened"/> read, if the path still names that file, and
    /// reports it to the scrub.</summary>
    private void Discard(string path, BlobReadStream opened, string problem)
    {
        _metrics.Error("corrupt_read");
        string outcome;
        try
        {
            var file = _blobs.Resolve(path);
            if (File.GetLastWriteTimeUtc(opened.Handle) == File.GetLastWriteTimeUtc(file))
            {
                File.Delete(file);
                outcome = "deleted it";
            }
            else
            {
                outcome = "another file has taken its place meanwhile";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            outcome = "could not delete it: " + e.Message;
        }
        _log.LogError("This node's copy {Path} is corrupt ({Problem}) and was not served whole; {Outcome}; the scrub restores it from another replica",
            path, problem, outcome);
        _scrub.Report(path);
    }
}
