using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Storage;

namespace ActorImages.Node.Transfer;

/// <summary>An opened image: its catalog entry and a stream of exactly <see cref="CatalogEntry.Size"/> checked bytes.</summary>
/// <param name="Entry">The catalog entry.</param>
/// <param name="Content">The bytes; the caller disposes it.</param>
public sealed record OpenedImage(CatalogEntry Entry, Stream Content) : IAsyncDisposable
{
    /// <inheritdoc />
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>
/// The one entry point of every read, whatever the protocol: find an image by md5 or by name in the catalog, then
/// open this node's copy if it has a good one, else a copy from a node that holds it (docs/protocols.md, P4: "every
/// cluster node serves GET for every image"). The bytes are in hand — a local file checked against its SHA-256, or a
/// holder that checked its copy and answered 200 — before anything is returned, so a P2 client is never sent
/// <c>SIZE_INFO</c> for bytes that cannot follow.
/// </summary>
public sealed class ImageReader
{
    private readonly CatalogStore _catalog;
    private readonly BlobStore _blobs;
    private readonly ReplicaTransfer _transfer;
    private readonly Membership _membership;

    /// <summary>Creates the reader.</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="blobs">This node's blob store.</param>
    /// <param name="transfer">Fetches from other nodes.</param>
    /// <param name="membership">Who is up, so live holders are asked first.</param>
    public ImageReader(CatalogStore catalog, BlobStore blobs, ReplicaTransfer transfer, Membership membership)
    {
        _catalog = catalog;
        _blobs = blobs;
        _transfer = transfer;
        _membership = membership;
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
        if (_blobs.Exists(entry.Path)
            && await BlobVerifier.MatchesAsync(_blobs.Resolve(entry.Path), entry.Sha256, ct))
            return new OpenedImage(entry, _blobs.OpenRead(entry.Path));
        foreach (var replica in _membership.Current.OtherHoldersUpFirst(entry))
        {
            if (await _transfer.OpenAsync(replica.Host, entry.Path, entry.Sha256, ct) is { } stream)
                return new OpenedImage(entry, stream);
        }
        throw new ImageUnavailableException($"no holder of {entry.Md5} ({string.Join(", ", entry.Hosts)}) has a good copy");
    }
}

/// <summary>The catalog lists an image, but no node holding it answered with a good copy now.</summary>
/// <param name="message">Which image and which holders.</param>
public sealed class ImageUnavailableException(string message) : Exception(message);
