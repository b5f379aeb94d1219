using System.Globalization;
using ActorImages.Messages;
using Npgsql;

namespace ActorImages.Catalog;

/// <summary>
/// The cluster-wide catalog in PostgreSQL (docs/design.md, "The catalog"): one entry per stored upload, unique
/// names allocated in one place, read-your-writes for every node. Thread-safe; each call takes a pooled connection.
/// Every read is an index lookup or an index range scan, so its cost does not grow with the catalog.
/// </summary>
public sealed class CatalogStore
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>A store over <paramref name="dataSource"/>, whose schema <see cref="Migrations"/> has applied.</summary>
    /// <param name="dataSource">The database.</param>
    public CatalogStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>
    /// Allocates stored paths, unique forever across the cluster whichever node asks: <c>yyyy-MM-dd/HHmmss.ext</c>
    /// for the first image of a second (UTC), then <c>HHmmss-1.ext</c>, <c>HHmmss-2.ext</c> … (docs/protocols.md,
    /// P1 "Storage"). One statement for the whole batch; a path whose entry is never committed stays unused.
    /// </summary>
    /// <param name="requests">Per image: its time of receipt and its extension (<c>jpg</c> or <c>.jpg</c>; letters and
    /// digits, stored in lower case).</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>One relative path per request, in request order.</returns>
    /// <exception cref="ArgumentException">An extension is empty or not letters and digits.</exception>
    /// <exception cref="NpgsqlException">The database failed; nothing was reserved.</exception>
    public async Task<IReadOnlyList<string>> ReserveNamesAsync(
        IReadOnlyList<(DateTimeOffset ReceivedAt, string Extension)> requests, CancellationToken cancellationToken = default)
    {
        if (requests.Count == 0)
        {
            return [];
        }

        var bases = new string[requests.Count];
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < requests.Count; i++)
        {
            bases[i] = BaseName(requests[i].ReceivedAt, requests[i].Extension);
            counts[bases[i]] = counts.GetValueOrDefault(bases[i]) + 1;
        }

        // Keys in one order for every caller, so two batches lock their counters in the same order.
        var keys = counts.Keys.Order(StringComparer.Ordinal).ToArray();
        // Committed without waiting for the WAL flush: a reservation matters only to an entry that uses it, and that
        // entry's own (synchronous) commit flushes the WAL up to and past the reservation. A reservation lost with a
        // database crash was never used by a committed entry; the name it gave is of a second that has passed.
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One implicit transaction in one round trip (CatalogWrites explains).
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(CatalogWrites.SetLocal("synchronous_commit", "off"));
        batch.BatchCommands.Add(CatalogWrites.Command(ReserveSql, keys, keys.Select(k => counts[k]).ToArray()));
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            // The first result is set_config's one row; the reservation's rows follow.
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = reader.GetString(0);
                next[key] = reader.GetInt64(1) - counts[key];
            }
        } // committed (without waiting for the flush, above) once the reader is disposed, or this threw

        var paths = new string[requests.Count];
        for (var i = 0; i < paths.Length; i++)
        {
            paths[i] = PathFor(bases[i], next[bases[i]]++);
        }

        return paths;
    }

    /// <summary>Adds $2[k] to the counter of base $1[k]; returns each base's count after the addition.</summary>
    internal const string ReserveSql = """
        INSERT INTO name_counters AS c (base, used) SELECT * FROM unnest($1::text[], $2::bigint[])
        ON CONFLICT (base) DO UPDATE SET used = c.used + EXCLUDED.used
        RETURNING base, used
        """;

    /// <summary>The counter key of a receipt time and extension: <c>yyyy-MM-dd/HHmmss.ext</c> (UTC); every path
    /// <see cref="ReserveNamesAsync"/> gives for that time and extension is this base or <c>HHmmss-n.ext</c> of it.</summary>
    /// <param name="receivedAt">Time of receipt.</param>
    /// <param name="extension">A file extension of ASCII letters and digits, with or without the dot.</param>
    /// <returns>The key, e.g. <c>2026-12-02/062423.jpg</c>.</returns>
    /// <exception cref="ArgumentException">The extension is empty or holds other characters.</exception>
    public static string BaseName(DateTimeOffset receivedAt, string extension)
    {
        var ext = extension.TrimStart('.').ToLowerInvariant();
        if (ext.Length == 0 || !ext.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"Not a file extension: '{extension}'", nameof(extension));
        }

        return receivedAt.UtcDateTime.ToString("yyyy-MM-dd'/'HHmmss", CultureInfo.InvariantCulture) + "." + ext;
    }

    /// <summary>The n-th path of a base (n from 0): the base itself, then <c>HHmmss-n.ext</c>.</summary>
    internal static string PathFor(string baseName, long n)
    {
        if (n == 0)
        {
            return baseName;
        }

        var dot = baseName.LastIndexOf('.');
        return string.Concat(baseName.AsSpan(0, dot), "-", n.ToString(CultureInfo.InvariantCulture), baseName.AsSpan(dot));
    }

    /// <summary>
    /// Commits a batch of entries in ONE transaction (group commit, docs/design.md "Registry"): all or none. An
    /// entry whose <see cref="NewEntry.ImportKey"/> is already in the catalog is skipped and answered with the
    /// entry that has it. Once this returns, every node's next read sees the entries.
    /// </summary>
    /// <param name="entries">The entries; each <see cref="NewEntry.Path"/> from <see cref="ReserveNamesAsync"/>.</param>
    /// <param name="cancellationToken">Cancels before the commit; a cancelled batch is not committed.</param>
    /// <returns>The committed entries with their ids (increasing in batch order), in batch order.</returns>
    /// <exception cref="ArgumentException">An md5 or sha256 that is not lowercase hex of 32 / 64 digits, a negative
    /// size, an empty path, two replicas on one node, or a NUL character in a text (<see cref="Validate"/>); checked
    /// before anything is written.</exception>
    /// <exception cref="PostgresException">A path is already taken; nothing of the batch was committed.</exception>
    /// <exception cref="NpgsqlException">The database failed: before the commit (nothing of the batch committed) or
    /// while waiting for its flush (the batch may be committed, or lost in a crash); the caller keeps its files, as for
    /// any commit whose answer was lost.</exception>
    public Task<IReadOnlyList<CatalogEntry>> CommitAsync(IReadOnlyList<NewEntry> entries, CancellationToken cancellationToken = default) =>
        CatalogWrites.CommitAsync(_dataSource, entries, cancellationToken);

    /// <summary>Checks one entry as <see cref="CommitAsync"/> does before it writes anything, so that a caller batching
    /// entries can refuse a bad one alone instead of failing its whole batch.</summary>
    /// <param name="entry">The entry.</param>
    /// <exception cref="ArgumentException">An md5 or sha256 that is not lowercase hex of 32 / 64 digits, a negative
    /// size, an empty path, two replicas on one node, or a NUL character in any text (PostgreSQL's text holds none).
    /// </exception>
    public static void Validate(NewEntry entry) => CatalogWrites.Validate(entry);

    /// <summary>Replaces an entry's replica set, whatever it holds now (a state set from outside: tests, tools; the nodes'
    /// own changes go through <see cref="ChangeReplicasAsync"/>).</summary>
    /// <param name="imageId">The entry's catalog id.</param>
    /// <param name="replicas">The new replica set, in replica order; addresses distinct.</param>
    /// <param name="cancellationToken">Cancels the transaction.</param>
    /// <returns>False when no entry has that id (nothing changed).</returns>
    /// <exception cref="ArgumentException">Two replicas on one node (the same address).</exception>
    /// <exception cref="NpgsqlException">The database failed; nothing changed.</exception>
    public async Task<bool> SetReplicasAsync(long imageId, IReadOnlyList<Replica> replicas, CancellationToken cancellationToken = default) =>
        await SetReplicasAsync([(imageId, replicas)], cancellationToken).ConfigureAwait(false) == 1;

    /// <summary>Replaces the replica sets of many entries in one transaction, whatever they hold now (as
    /// <see cref="ChangeReplicasAsync"/> with a set given for each). The host totals move by the net difference of all
    /// of them.</summary>
    /// <param name="changes">Each entry's catalog id and its new replica set, in replica order; ids distinct.</param>
    /// <param name="cancellationToken">Cancels the transaction.</param>
    /// <returns>How many of the ids named an entry (the others changed nothing).</returns>
    /// <exception cref="ArgumentException">Two replicas of one entry on one node, or an id twice.</exception>
    /// <exception cref="NpgsqlException">The database failed; nothing changed.</exception>
    public async Task<int> SetReplicasAsync(IReadOnlyList<(long ImageId, IReadOnlyList<Replica> Replicas)> changes,
        CancellationToken cancellationToken = default)
    {
        // ToDictionary refuses an id twice (ArgumentException)
        var sets = changes.ToDictionary(c => c.ImageId, c => c.Replicas);
        return await ChangeReplicasAsync(sets.Keys, entry => sets[entry.Id], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Changes the replica sets of many entries in one transaction, each from its set as the catalog holds it under the
    /// entry's row lock (a read-modify-write no concurrent change can interleave with: two nodes recording copies of
    /// one entry at once both land, where a read then a separate write would keep only the second). The host totals
    /// move by the net difference.
    /// </summary>
    /// <param name="imageIds">The entries' catalog ids; ids without an entry are skipped.</param>
    /// <param name="change">Given an entry as it is now, its new replica set in replica order (addresses distinct), or
    /// null to leave it. Called while the entries' rows are locked: keep it quick and free of I/O.</param>
    /// <param name="cancellationToken">Cancels the transaction.</param>
    /// <returns>How many entries changed.</returns>
    /// <exception cref="ArgumentException"><paramref name="change"/> gave two replicas on one node.</exception>
    /// <exception cref="NpgsqlException">The database failed; nothing changed.</exception>
    public Task<int> ChangeReplicasAsync(IReadOnlyCollection<long> imageIds, Func<CatalogEntry, IReadOnlyList<Replica>?> change,
        CancellationToken cancellationToken = default) =>
        CatalogWrites.ChangeReplicasAsync(_dataSource, imageIds, change, cancellationToken);

    /// <summary>The oldest entry with these bytes (P3/P4 <c>GET &lt;md5&gt;</c>).</summary>
    /// <param name="md5">Lowercase hex MD5.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The entry, or null.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<CatalogEntry?> FindByMd5Async(string md5, CancellationToken cancellationToken = default) =>
        (await CatalogRows.QueryAsync(_dataSource, CatalogRows.Select + " WHERE i.md5 = $1 ORDER BY i.id LIMIT 1", cancellationToken, md5)
            .ConfigureAwait(false)).FirstOrDefault();

    /// <summary>The oldest entry with this filename: "where several entries share the filename, the oldest one"
    /// (docs/protocols.md, P2 DOWNLOAD/VIEW).</summary>
    /// <param name="filename">The exact filename (case-sensitive).</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The entry, or null (always for a name holding a NUL character, which no entry can have).</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<CatalogEntry?> FindByFilenameAsync(string filename, CancellationToken cancellationToken = default) =>
        filename.Contains('\0') ? null : (await CatalogRows.QueryAsync(_dataSource, CatalogRows.Select + " WHERE i.filename = $1 ORDER BY i.id LIMIT 1", cancellationToken, filename)
            .ConfigureAwait(false)).FirstOrDefault();

    /// <summary>The entries stored under any of these paths (the orphan sweep asks for one directory page at once;
    /// a path is unique, so at most one entry per path).</summary>
    /// <param name="paths">Stored relative paths, <c>/</c>-separated.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The entries found, in no particular order; paths without one are absent.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<IReadOnlyList<CatalogEntry>> EntriesByPathsAsync(IReadOnlyCollection<string> paths, CancellationToken cancellationToken = default) =>
        paths.Count == 0 ? [] : await CatalogRows.QueryAsync(_dataSource, CatalogRows.Select + " WHERE i.path = ANY($1)", cancellationToken,
            (object)paths.ToArray()).ConfigureAwait(false);

    /// <summary>The entry with this catalog id.</summary>
    /// <param name="id">The catalog id.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The entry, or null.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<CatalogEntry?> FindByIdAsync(long id, CancellationToken cancellationToken = default) =>
        (await CatalogRows.QueryAsync(_dataSource, CatalogRows.Select + " WHERE i.id = $1", cancellationToken, id)
            .ConfigureAwait(false)).FirstOrDefault();

    /// <summary>One page of entries, newest first (HTTP API pages, P2 HISTORY): keyset pagination on the id, one
    /// query. With a cursor, the page is empty unless the cursor's own entry exists (checked in the same query, an
    /// index lookup): an empty page then means the end of the catalog or a cursor it never had, which a caller that
    /// must tell them apart asks <see cref="FindByIdAsync"/> about — only then, so a page costs one round trip.</summary>
    /// <param name="limit">Page size, ≥ 1.</param>
    /// <param name="beforeId">The id of the last entry of the previous page (only older entries follow), or null
    /// for the newest page.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>Up to <paramref name="limit"/> entries, newest first; fewer at the end of the catalog; none for a
    /// cursor the catalog does not hold.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> &lt; 1.</exception>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<IReadOnlyList<CatalogEntry>> NewestAsync(int limit, long? beforeId, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return beforeId is { } cursor
            ? await CatalogRows.QueryAsync(_dataSource, CatalogRows.Select
                + " WHERE i.id < $1 AND EXISTS (SELECT 1 FROM images cursor_entry WHERE cursor_entry.id = $1) ORDER BY i.id DESC LIMIT $2",
                cancellationToken, cursor, limit).ConfigureAwait(false)
            : await CatalogRows.QueryAsync(_dataSource, CatalogRows.Select + " ORDER BY i.id DESC LIMIT $1",
                cancellationToken, limit).ConfigureAwait(false);
    }

    /// <summary>The newest entries with an id above <paramref name="afterId"/>, newest first: what was committed
    /// since an entry was seen. Ids grow in commit order (every commit takes the catalog's counter row before it
    /// inserts), so nothing committed later can have a smaller id. One index range scan; none when nothing is new.</summary>
    /// <param name="afterId">The largest id already seen (0 for none).</param>
    /// <param name="limit">At most this many, ≥ 1.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The entries, newest first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> &lt; 1.</exception>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<IReadOnlyList<CatalogEntry>> NewerThanAsync(long afterId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return await CatalogRows.QueryAsync(_dataSource, CatalogRows.Select + " WHERE i.id > $1 ORDER BY i.id DESC LIMIT $2",
            cancellationToken, afterId, limit).ConfigureAwait(false);
    }

    /// <summary>Filename and uploader of the newest entries, newest first, for P2 <c>LIST</c>: the caller keeps as
    /// many as fit the legacy client's 1 MiB message (docs/protocols.md, P2).</summary>
    /// <param name="limit">At most this many, ≥ 1.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The names, newest first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> &lt; 1.</exception>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<IReadOnlyList<UploadName>> NewestNamesAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var command = _dataSource.CreateCommand("SELECT id, filename, uploader FROM images ORDER BY id DESC LIMIT $1");
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var names = new List<UploadName>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            names.Add(new UploadName(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return names;
    }

    /// <summary>
    /// One page of the catalog's images for P3 <c>LST</c> and <c>LST &lt;offset&gt;</c>: one item per md5, newest
    /// first (by the md5's first commit), with every host holding it (docs/protocols.md, P3). Items are numbered
    /// densely at commit (<c>md5_first_seen.seq</c>), so any page is an index range scan, however deep.
    /// </summary>
    /// <param name="offset">Items to skip from the newest, ≥ 0, counting only items not in <paramref name="skip"/>.</param>
    /// <param name="limit">Page size, ≥ 1.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <param name="skip">Lowercase md5s listed elsewhere (the peers' items and the node's head of LST): left out, and
    /// not counted by <paramref name="offset"/>, so pages of the rest follow them without gaps or repeats (each costs
    /// an index lookup per page, and the page's rows are checked against them by a hash).</param>
    /// <returns>Up to <paramref name="limit"/> items; empty past the end.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative offset, or a limit &lt; 1.</exception>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public Task<IReadOnlyList<Md5Listing>> DistinctMd5PageAsync(int offset, int limit, CancellationToken cancellationToken = default,
        IReadOnlyCollection<string>? skip = null) =>
        CatalogScans.DistinctMd5PageAsync(_dataSource, offset, limit, skip, cancellationToken);

    /// <summary>The entries a node holds a replica of, in id order (self-repair, graceful leave): keyset pages.</summary>
    /// <param name="address">The node's cluster address.</param>
    /// <param name="afterId">Only entries with a larger id; 0 for the first page.</param>
    /// <param name="limit">Page size, ≥ 1.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>Up to <paramref name="limit"/> entries; the last one's id is the next page's <paramref name="afterId"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> &lt; 1.</exception>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public Task<IReadOnlyList<CatalogEntry>> EntriesHeldByAsync(string address, long afterId, int limit, CancellationToken cancellationToken = default) =>
        CatalogScans.EntriesHeldByAsync(_dataSource, address, afterId, limit, cancellationToken);

    /// <summary>
    /// Examines the next <paramref name="limit"/> entries after <paramref name="afterId"/> and returns those with
    /// fewer than <paramref name="factor"/> replicas on <paramref name="upAddresses"/> (self-repair copies them), and
    /// those with more than <paramref name="mostCopies"/> replicas, every one of them on <paramref name="upAddresses"/>
    /// (self-repair trims them; an entry with a replica on a member not Up is never a surplus). Bounded by entries
    /// examined, not found, so a pass over a healthy catalog is many cheap pages, never one long scan.
    /// </summary>
    /// <param name="upAddresses">Cluster addresses of the members that are Up.</param>
    /// <param name="factor">The replication factor, ≥ 1.</param>
    /// <param name="mostCopies">The most replicas an entry should have, ≥ 1 (the factor, or the Up members when
    /// fewer); null finds no surplus.</param>
    /// <param name="afterId">Examine entries with a larger id; 0 to start.</param>
    /// <param name="limit">Entries to examine, ≥ 1.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The page's entries with too few or too many replicas, and where the next page starts.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/>, <paramref name="mostCopies"/> or
    /// <paramref name="limit"/> &lt; 1.</exception>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public Task<ScanPage> OffFactorAsync(IReadOnlyCollection<string> upAddresses, int factor, int? mostCopies,
        long afterId, int limit, CancellationToken cancellationToken = default) =>
        CatalogScans.OffFactorAsync(_dataSource, upAddresses, factor, mostCopies, afterId, limit, cancellationToken);

    /// <summary>Catalog totals and replicas per host, kept by every commit (no scan of the catalog).</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The totals.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public Task<CatalogStats> StatsAsync(CancellationToken cancellationToken = default) =>
        CatalogScans.StatsAsync(_dataSource, cancellationToken);

    /// <summary>The number of catalog entries (kept by every commit).</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The number of entries.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT images FROM catalog_counters WHERE id = 1");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Adds <paramref name="count"/> synthetic entries for benchmarks at catalog scale (issue: "a million images"):
    /// distinct random md5s, plausible sizes and names (<c>synthetic-0000001.jpg</c> …), paths reserved like any
    /// other, <paramref name="factor"/> of <paramref name="holders"/> per entry. One transaction of binary COPYs.
    /// The files do not exist: a GET of one is a miss on every node.
    /// </summary>
    /// <param name="count">Entries to add, ≥ 0.</param>
    /// <param name="holders">The replicas to spread entries over (rotating), or null for three made-up nodes
    /// <c>127.0.0.1</c>…<c>127.0.0.3</c>.</param>
    /// <param name="factor">Replicas per entry, 1 … holders.</param>
    /// <param name="start">Receipt time of the first entry; entries follow 10 ms apart. Null: so that the last
    /// entry is received now.</param>
    /// <param name="cancellationToken">Cancels the fill; nothing is kept.</param>
    /// <returns>The id of the first entry added, or 0 when <paramref name="count"/> is 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative count, or a factor outside 1 … holders.</exception>
    /// <exception cref="NpgsqlException">The database failed; nothing was kept.</exception>
    public Task<long> FillSyntheticAsync(
        long count, IReadOnlyList<Replica>? holders = null, int factor = 2, DateTimeOffset? start = null, CancellationToken cancellationToken = default) =>
        SyntheticFill.RunAsync(_dataSource, count, holders, factor, start, cancellationToken);
}
