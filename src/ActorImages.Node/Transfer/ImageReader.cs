using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Gateways;
using ActorImages.Storage;

namespace ActorImages.Node.Transfer;

/// <summary>An opened image: its catalog entry and a stream of exactly <see cref="CatalogEntry.Size"/> bytes, checked
/// against the catalog's SHA-256 before they are returned (up to <see cref="LocalCopies.FullCheckBytes"/>) or while
/// they are read (larger: the last chunk is held back until the digest matches, else the read throws
/// <see cref="CorruptBlobException"/>, so the caller must abort its transfer rather than complete it).</summary>
/// <param name="Entry">The catalog entry.</param>
/// <param name="Content">The bytes; the caller disposes it.</param>
public sealed record OpenedImage(CatalogEntry Entry, Stream Content) : IAsyncDisposable
{
    /// <inheritdoc />
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>
/// The one entry point of every read, whatever the protocol: find an image by md5 or by name in the catalog, then
/// open this node's copy if it has one, else a copy from a node that holds it (docs/protocols.md, P4: "every cluster
/// node serves GET for every image"). Each copy is read once and hashed as it is served (<see cref="LocalCopies"/>,
/// <see cref="VerifyingStream"/>): an image up to <see cref="LocalCopies.FullCheckBytes"/> is checked whole before
/// it is returned, so a corrupt copy of it is skipped for the next holder and the client never notices; a larger
/// one is returned at once and checked on the way, its last chunk held back until the SHA-256 matches, so a corrupt
/// one fails the transfer before it is complete (the client retries; the bad copy is gone by then). A P2 client is
/// never sent <c>SIZE_INFO</c> for a missing copy: the copy is open (or a holder answered 200) before this returns.
/// Every holder gets the time of one replica copy (<see cref="NodeSettings.ReplicationDeadline"/>) to answer, and to
/// send the whole image when it is checked whole: one that does not (frozen, overloaded, cut off) is passed over like
/// one without a good copy, and a read that no holder answers ends in <see cref="ImageUnavailableException"/> (HTTP
/// 503), not in an error that escapes or a wait as long as the client's. A larger image streamed from a holder fails
/// with an <see cref="IOException"/> when the holder sends nothing for <see cref="NodeSettings.ReplicationTimeout"/>,
/// so the gateway aborts the transfer (README, "Failure and recovery").
/// </summary>
public sealed class ImageReader
{
    private readonly CatalogStore _catalog;
    private readonly LocalCopies _local;
    private readonly ReplicaTransfer _transfer;
    private readonly Membership _membership;
    private readonly NodeSettings _settings;
    private readonly ILogger<ImageReader> _log;

    /// <summary>Creates the reader.</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="local">This node's copies, checked while read.</param>
    /// <param name="transfer">Fetches from other nodes.</param>
    /// <param name="membership">Who is up, so live holders are asked first.</param>
    /// <param name="settings">Node settings: the time a holder gets (<see cref="NodeSettings.ReplicationDeadline"/>).</param>
    /// <param name="log">Log.</param>
    public ImageReader(CatalogStore catalog, LocalCopies local, ReplicaTransfer transfer, Membership membership,
        NodeSettings settings, ILogger<ImageReader> log)
    {
        _settings = settings;
        _catalog = catalog;
        _local = local;
        _transfer = transfer;
        _membership = membership;
        _log = log;
    }

    /// <summary>Opens the oldest image with this md5.</summary>
    /// <param name="md5">32 lowercase hex characters.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The opened image, or null when the catalog has none.</returns>
    /// <exception cref="ImageUnavailableException">The catalog has it, but no holder answered with a good copy.</exception>
    public async Task<OpenedImage?> OpenByMd5Async(string md5, CancellationToken ct) =>
        await _catalog.FindByMd5Async(md5, ct) is { } entry ? await OpenAsync(entry, ct) : null;

    /// <summary>Opens the oldest image with this filename (docs/protocols.md, P2: as the seed did).</summary>
    /// <param name="filename">The name as the client gave it.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The opened image, or null when the catalog has none.</returns>
    /// <exception cref="ImageUnavailableException">The catalog has it, but no holder answered with a good copy.</exception>
    public async Task<OpenedImage?> OpenByNameAsync(string filename, CancellationToken ct) =>
        await _catalog.FindByFilenameAsync(filename, ct) is { } entry ? await OpenAsync(entry, ct) : null;

    /// <summary>Opens the bytes of <paramref name="entry"/>.</summary>
    /// <param name="entry">A catalog entry.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The opened image.</returns>
    /// <exception cref="ImageUnavailableException">No holder answered with a good copy.</exception>
    public async Task<OpenedImage> OpenAsync(CatalogEntry entry, CancellationToken ct)
    {
        try
        {
            if (await _local.OpenAsync(entry.Path, entry.Size, entry.Sha256, ct) is { } local)
                return new OpenedImage(entry, local);
        }
        catch (IOException e)
        {
            // This node's disk failed the read (a corrupt copy is no exception: LocalCopies discards it).
            _log.LogWarning("Reading this node's copy of {Md5} failed: {Error}; trying the other holders", entry.Md5, e.Message);
        }
        var patience = _settings.ReplicationDeadline(entry.Size);
        foreach (var replica in _membership.Current.OtherHoldersUpFirst(entry))
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(patience);
            try
            {
                if (await _transfer.OpenAsync(replica.Host, entry.Path, entry.Sha256, deadline.Token) is not { } remote) continue;
                if (entry.Size > LocalCopies.FullCheckBytes)
                {
                    // Checked again here, end to end: the holder hashes too, but the bytes crossed a network. Read at
                    // the client's pace from here on, each read bounded in time, and the holder's time for all of them
                    // (the waits for its bytes, not the client's pauses) bounded by that of a replica copy.
                    var host = replica.Host;
                    var idle = _settings.ReplicationTimeout;
                    var guarded = new IdleTimeoutStream(remote, idle, ownsInner: true, waitBudget: patience,
                        timedOut: () => new IOException($"{host} sent nothing for {idle.TotalSeconds:0.###} s, or kept " +
                            $"this read waiting {patience.TotalSeconds:0.###} s in all"));
                    return new OpenedImage(entry, new VerifyingStream(guarded, entry.Size, entry.Sha256));
                }
                await using (remote)
                    return new OpenedImage(entry, await VerifyingStream.ReadCheckedAsync(remote, entry.Size, entry.Sha256, deadline.Token));
            }
            // ReplicaTransfer answers a holder it cannot reach with null; what is left is a broken or silent one.
            catch (Exception e) when (e is IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                var error = e is OperationCanceledException ? $"no answer within {patience.TotalSeconds:0.###} s" : e.Message;
                _log.LogWarning("Reading {Md5} from {Host} failed: {Error}; trying the next holder", entry.Md5, replica.Host, error);
            }
        }
        throw new ImageUnavailableException($"no holder of {entry.Md5} ({string.Join(", ", entry.Hosts)}) has a good copy");
    }
}

/// <summary>The catalog lists an image, but no node holding it answered with a good copy now.</summary>
/// <param name="message">Which image and which holders.</param>
public sealed class ImageUnavailableException(string message) : Exception(message);
