using ActorImages.Messages;

namespace ActorImages.Catalog;

/// <summary>A catalog entry before it is committed: everything but the id, which the commit assigns.</summary>
/// <param name="Md5">Lowercase hex MD5 (32 characters).</param>
/// <param name="Sha256">Lowercase hex SHA-256 (64 characters).</param>
/// <param name="Size">Size in bytes, ≥ 0.</param>
/// <param name="MediaType">Detected media type, e.g. <c>image/jpeg</c>.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Filename">The client's name, or the stored file's name (P1).</param>
/// <param name="Uploader">P2 user name, <c>tcp:&lt;ip&gt;</c>, <c>http:&lt;ip&gt;</c>.</param>
/// <param name="Protocol">How the image entered the cluster.</param>
/// <param name="ReceivedAt">Time of receipt; stored in UTC, truncated to the millisecond.</param>
/// <param name="Path">The relative path from <see cref="CatalogStore.ReserveNamesAsync"/>; unique.</param>
/// <param name="Replicas">The nodes holding a checked copy, in replica order.</param>
/// <param name="ImportKey">For <c>actorimages import</c>: the source's identity of the image (e.g.
/// <c>seed001:&lt;repo&gt;:&lt;id&gt;</c>); an entry whose key is already in the catalog is not added again. Null otherwise.</param>
public sealed record NewEntry(
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
    IReadOnlyList<Replica> Replicas,
    string? ImportKey = null);

/// <summary>One line of P2 <c>LIST</c> (docs/protocols.md, P2).</summary>
/// <param name="Id">The entry's catalog id (upload order).</param>
/// <param name="Filename">The entry's filename.</param>
/// <param name="Uploader">The entry's uploader.</param>
public sealed record UploadName(long Id, string Filename, string Uploader);

/// <summary>One image of P3 <c>LST</c> as the catalog knows it: one item per md5 (docs/protocols.md, P3).</summary>
/// <param name="Md5">Lowercase hex MD5.</param>
/// <param name="Filename">The filename of the md5's first entry ("the name registered first").</param>
/// <param name="FirstId">The catalog id of that first entry.</param>
/// <param name="Hosts">The advertised hosts holding any entry with this md5, without repeats, oldest entry's
/// replicas first and each entry's in replica order.</param>
public sealed record Md5Listing(string Md5, string Filename, long FirstId, IReadOnlyList<string> Hosts);

/// <summary>One page of a bounded scan (self-repair).</summary>
/// <param name="Entries">The entries of the page that matched, in id order.</param>
/// <param name="NextAfterId">The <c>afterId</c> of the next page, or null when the scan reached the end.</param>
public sealed record ScanPage(IReadOnlyList<CatalogEntry> Entries, long? NextAfterId);

/// <summary>Replicas held by one host.</summary>
/// <param name="Images">Replicas on that host.</param>
/// <param name="Bytes">Their bytes.</param>
public sealed record HostTotals(long Images, long Bytes);

/// <summary>Catalog totals for the cluster view and the metrics.</summary>
/// <param name="Images">Catalog entries.</param>
/// <param name="Bytes">Their bytes, counted once per entry.</param>
/// <param name="PerHost">Advertised host → its replicas; hosts holding nothing are left out.</param>
public sealed record CatalogStats(long Images, long Bytes, IReadOnlyDictionary<string, HostTotals> PerHost);
