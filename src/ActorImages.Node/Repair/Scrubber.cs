using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Transfer;
using ActorImages.Storage;

namespace ActorImages.Node.Repair;

/// <summary>The result of checking one copy.</summary>
public enum ScrubOutcome
{
    /// <summary>The file is there and its SHA-256 is the catalog's.</summary>
    Sound,
    /// <summary>It was missing or corrupt and a sound copy from another replica took its place.</summary>
    Restored,
    /// <summary>It is missing or corrupt and no other replica gave a sound copy now; the next cycle tries again.</summary>
    Failed,
}

/// <summary>
/// Checks one of this node's copies against the catalog's SHA-256 and restores a missing or corrupt one from another
/// replica (docs/design.md, "Membership and failure"): the sound bytes are fetched over HTTP by
/// <see cref="ReplicaFetcher"/> (the holder hashes its copy as it sends and breaks off a bad one before its end;
/// hashed again while written), compared with the catalog, fsynced, and only then put in place by
/// <see cref="BlobStore.ReplaceAsync"/> — a rename over the bad file, so a reader sees the old file or the new one, never a
/// partial one. Every replica keeps the image under the same
/// path, so the catalog does not change. A bad copy is never served whole meanwhile: reads hash it as they go and
/// abort before its last chunk (<see cref="LocalCopies"/>), which also deletes it and reports it here through
/// <see cref="ScrubRequests"/>.
/// </summary>
public sealed class Scrubber
{
    private readonly BlobStore _blobs;
    private readonly Membership _membership;
    private readonly ReplicaFetcher _fetcher;
    private readonly CatalogStore _catalog;
    private readonly NodeMetrics _metrics;
    private readonly ILogger<Scrubber> _log;

    /// <summary>Creates the service.</summary>
    /// <param name="blobs">This node's blob store.</param>
    /// <param name="membership">Who is Up: live holders are asked first.</param>
    /// <param name="fetcher">Fetches sound copies.</param>
    /// <param name="catalog">The catalog, for the entry of a reported path.</param>
    /// <param name="metrics">Counts restores.</param>
    /// <param name="log">Log.</param>
    public Scrubber(BlobStore blobs, Membership membership, ReplicaFetcher fetcher,
        CatalogStore catalog, NodeMetrics metrics, ILogger<Scrubber> log)
    {
        _catalog = catalog;
        _blobs = blobs;
        _membership = membership;
        _fetcher = fetcher;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Checks and restores the copy at <paramref name="path"/> that a reader reported bad
    /// (<see cref="ScrubRequests"/>), if the catalog lists it on this node.</summary>
    /// <param name="path">The stored relative path.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>What was found and done; null when the catalog does not list that path on this node.</returns>
    /// <exception cref="Npgsql.NpgsqlException">The catalog could not be read (the scrub's cycle comes to the copy
    /// later).</exception>
    public async Task<ScrubOutcome?> CheckPathAsync(string path, CancellationToken ct)
    {
        var self = _membership.Current.Self;
        var entry = (await _catalog.EntriesByPathsAsync([path], ct)).FirstOrDefault(e => e.Replicas.Any(r => r.Address == self));
        return entry is null ? null : await CheckAsync(entry, ct);
    }

    /// <summary>Checks this node's copy of <paramref name="entry"/> and restores it when it is bad.</summary>
    /// <param name="entry">A catalog entry that lists this node as a holder.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>What was found and done.</returns>
    public async Task<ScrubOutcome> CheckAsync(CatalogEntry entry, CancellationToken ct)
    {
        var file = _blobs.Resolve(entry.Path);
        string problem;
        try
        {
            var digest = await BlobVerifier.ComputeAsync(file, ct);
            if (digest.Size == entry.Size && string.Equals(digest.Sha256, entry.Sha256, StringComparison.OrdinalIgnoreCase))
                return ScrubOutcome.Sound;
            problem = $"corrupt (SHA-256 {digest.Sha256}, catalog {entry.Sha256})";
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            problem = "missing";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = "unreadable: " + e.Message;
        }
        _metrics.Error("bad_replica");
        _log.LogError("Scrub: this node's copy of {Md5} ({Path}) is {Problem}; restoring it from another replica",
            entry.Md5, entry.Path, problem);
        var outcome = await RestoreAsync(entry, ct);
        _metrics.Copy("scrub", outcome == ScrubOutcome.Restored ? "ok" : "failed");
        return outcome;
    }

    private async Task<ScrubOutcome> RestoreAsync(CatalogEntry entry, CancellationToken ct)
    {
        var sources = _membership.Current.OtherHoldersUpFirst(entry);
        var source = await _fetcher.FetchAsync(entry, sources.Select(r => r.Host),
            (staged, token) => _blobs.ReplaceAsync(staged, entry.Path, token), "Scrub", ct);
        if (source is not null)
        {
            _log.LogInformation("Scrub restored {Md5} ({Path}) from {Host}", entry.Md5, entry.Path, source);
            return ScrubOutcome.Restored;
        }
        _log.LogError("Scrub could not restore {Md5} ({Path}): no other holder ({Holders}) gave a sound copy; trying again next cycle",
            entry.Md5, entry.Path, string.Join(", ", sources.Select(r => r.Host)));
        return ScrubOutcome.Failed;
    }
}
