namespace ActorImages.Messages;

/// <summary>
/// One stored upload in the cluster-wide catalog (docs/design.md, "The catalog"). Several entries may share an md5
/// when the same bytes were uploaded twice; each keeps its own filename and uploader, as the seed-001 repository did.
/// </summary>
/// <param name="Id">Catalog id, unique cluster-wide and increasing with commit order; shown to P2 clients as
/// <c>ID: &lt;id&gt;</c> and used as the HTTP page cursor.</param>
/// <param name="Md5">Lowercase hex MD5 of the bytes (32 characters): the legacy id of P3 and P4.</param>
/// <param name="Sha256">Lowercase hex SHA-256 of the bytes (64 characters), checked whenever bytes move.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="MediaType">Detected media type, e.g. <c>image/jpeg</c>.</param>
/// <param name="Width">Width in pixels as the image is shown, from its header: after the quarter turn its orientation
/// asks for (ImageProbe).</param>
/// <param name="Height">Height in pixels as the image is shown, from its header.</param>
/// <param name="Filename">The name the client gave (P2, HTTP) or the stored file's name (P1).</param>
/// <param name="Uploader">P2 user name, <c>tcp:&lt;peer-ip&gt;</c> for P1, <c>http:&lt;peer-ip&gt;</c> for HTTP.</param>
/// <param name="Protocol">How the image entered the cluster.</param>
/// <param name="ReceivedAt">Time of receipt (UTC), millisecond precision.</param>
/// <param name="Path">The file under every holder's data directory, '/'-separated, e.g. <c>2026-12-02/062423-1.jpg</c>:
/// allocated once by the catalog, so it is the same on every replica (docs/protocols.md, P1 "Storage").</param>
/// <param name="Replicas">The nodes holding a committed, fsynced, SHA-256-checked copy.</param>
public sealed record CatalogEntry(
    long Id,
    string Md5,
    string Sha256,
    long Size,
    string MediaType,
    int Width,
    int Height,
    string Filename,
    string Uploader,
    SourceProtocol Protocol,
    DateTimeOffset ReceivedAt,
    string Path,
    IReadOnlyList<Replica> Replicas) : IActorImagesMessage
{
    /// <summary>The advertised hosts of the nodes holding a copy, in replica order.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IEnumerable<string> Hosts => Replicas.Select(r => r.Host);

    /// <summary>This entry with <paramref name="replicas"/> in place of its own.</summary>
    /// <param name="replicas">The new replica set.</param>
    /// <returns>A copy of this entry.</returns>
    public CatalogEntry WithReplicas(IReadOnlyList<Replica> replicas) => this with { Replicas = replicas };
}

/// <summary>One copy of an image on one node's disk, at the entry's <see cref="CatalogEntry.Path"/>.</summary>
/// <param name="Address">The holding node's cluster address, e.g. <c>akka.tcp://ActorImages@127.0.0.2:25520</c>.</param>
/// <param name="Host">That node's advertised host: the address legacy clients reach its listeners on.</param>
public sealed record Replica(string Address, string Host) : IActorImagesMessage;

/// <summary>The way an image entered the cluster; shown in the catalog and the viewer.</summary>
public enum SourceProtocol
{
    /// <summary>docs/protocols.md, P1: TCP ingest of length-prefixed frames (seed 000 cameras).</summary>
    P1Tcp,

    /// <summary>docs/protocols.md, P2: WebSocket <c>UPLOAD</c> (seed 001 clients).</summary>
    P2WebSocket,

    /// <summary>The HTTP API and the web viewer's upload.</summary>
    Http,

    /// <summary><c>actorimages import</c> from an old system's data or another cluster.</summary>
    Import,
}

/// <summary>Published on the cluster-wide <c>images</c> topic after an entry committed (docs/design.md).</summary>
/// <param name="Entry">The committed catalog entry.</param>
public sealed record ImageStored(CatalogEntry Entry) : IActorImagesMessage;
