using System.Buffers;
using ActorImages.Messages;
using ActorImages.Node.Config;
using ActorImages.Storage;

namespace ActorImages.Node.Transfer;

/// <summary>
/// Fetches a sound copy of an image from the nodes that hold it into this node's store: the pull side of
/// <see cref="ReplicaTransfer"/>, used by the scrub (a missing or corrupt copy) and by self-repair (a copy this node
/// is to gain; docs/design.md, "Membership and failure"). The holder hashes its copy while it sends it and breaks a
/// bad one off before its end; the bytes are written through a <see cref="BlobWriter"/> (hashed while written) and
/// compared with the catalog's SHA-256 before the caller puts them in place, so a partial or corrupt copy never
/// becomes a file under its name. Thread-safe.
/// </summary>
public sealed class ReplicaFetcher
{
    /// <summary>Bytes read from the response and written to the temp file at a time (80 KiB).</summary>
    private const int ChunkBytes = 81920;

    private readonly NodeSettings _settings;
    private readonly BlobStore _blobs;
    private readonly ReplicaTransfer _transfer;
    private readonly ILogger<ReplicaFetcher> _log;

    /// <summary>Creates the service.</summary>
    /// <param name="settings">Node settings (the copy deadline per size).</param>
    /// <param name="blobs">This node's blob store: where fetched copies are staged.</param>
    /// <param name="transfer">Opens the holders' copies.</param>
    /// <param name="log">Log.</param>
    public ReplicaFetcher(NodeSettings settings, BlobStore blobs, ReplicaTransfer transfer, ILogger<ReplicaFetcher> log)
    {
        _settings = settings;
        _blobs = blobs;
        _transfer = transfer;
        _log = log;
    }

    /// <summary>
    /// Asks each host in turn for its copy of <paramref name="entry"/> until one gives a copy whose size and SHA-256
    /// are the catalog's, and hands that copy, still in its temp file, to <paramref name="place"/> (which commits or
    /// renames it; the temp file is deleted afterwards whatever it did). A host that has no good copy, fails, or
    /// takes longer than the copy deadline for the size (<see cref="NodeSettings.ReplicationDeadline"/>) is logged
    /// as a warning and the next one is asked.
    /// </summary>
    /// <param name="entry">The catalog entry: path, size and SHA-256 of the wanted copy.</param>
    /// <param name="hosts">Hosts that hold a copy, best first.</param>
    /// <param name="place">Puts the checked copy in place; an <see cref="IOException"/> from it counts as that host's
    /// failure (the next host is asked), other exceptions propagate.</param>
    /// <param name="reason">Names the caller in log lines (<c>Scrub</c>, <c>repair</c>).</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The host whose copy was placed, or null when none gave a sound copy.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public async Task<string?> FetchAsync(CatalogEntry entry, IEnumerable<string> hosts,
        Func<StagedBlob, CancellationToken, Task> place, string reason, CancellationToken ct)
    {
        foreach (var host in hosts)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(_settings.ReplicationDeadline(entry.Size));
            try
            {
                await using var stream = await _transfer.OpenAsync(host, entry.Path, entry.Sha256, deadline.Token);
                if (stream is null) continue;
                await using var writer = _blobs.NewCopyWriter();
                // Pooled: repair fetches thousands of copies a second after a node is lost.
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
                StagedBlob staged;
                try
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
                        await writer.WriteAsync(buffer.AsMemory(0, read), deadline.Token);
                    staged = await writer.FinishAsync(entry.Size, deadline.Token);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                if (!string.Equals(staged.Sha256, entry.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    _log.LogWarning("{Reason}: the copy of {Md5} from {Host} has another SHA-256; trying the next holder",
                        reason, entry.Md5, host);
                    continue;
                }
                await place(staged, deadline.Token);
                return host;
            }
            catch (Exception e) when (e is IOException or InvalidImageException or HttpRequestException
                                          || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                _log.LogWarning("{Reason}: fetching {Md5} from {Host} failed: {Error}", reason, entry.Md5, host, e.Message);
            }
        }
        return null;
    }
}
