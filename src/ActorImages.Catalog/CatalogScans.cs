using ActorImages.Messages;
using Npgsql;

namespace ActorImages.Catalog;

/// <summary>The catalog's listings and scans beyond single lookups; see <see cref="CatalogStore"/> for each contract.</summary>
internal static class CatalogScans
{
    public static async Task<IReadOnlyList<Md5Listing>> DistinctMd5PageAsync(
        NpgsqlDataSource dataSource, int offset, int limit, IReadOnlyCollection<string>? skip, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        // Item k from the newest is seq = md5s - k; the counter and the rows come from one snapshot, so a page
        // never straddles a commit. Hosts: every entry of the md5, oldest first, each in replica order.
        // Skipped md5s (listed elsewhere) are not counted: with the skipped items' positions p_0 < p_1 < … (position =
        // md5s - seq), the offset-th item not skipped is at position offset + #{i : p_i - i <= offset}, since p_i - i
        // (the items not skipped before p_i) never decreases. Without skips that is the offset itself.
        // Written as ORDER BY seq DESC LIMIT from a bound, not as a range of seq: the planner then knows the page is
        // small and walks the seq index backwards, where a range over a subquery's value looked large to it.
        await using var command = dataSource.CreateCommand("""
            SELECT m.md5, i.filename, m.first_id,
                   ARRAY(SELECT r.host FROM images e JOIN replicas r ON r.image_id = e.id
                         WHERE e.md5 = m.md5 ORDER BY e.id, r.position) AS hosts
            FROM md5_first_seen m JOIN images i ON i.id = m.first_id
            WHERE m.seq <= (SELECT md5s FROM catalog_counters WHERE id = 1) - $1
                  - (SELECT count(*) FROM (
                         SELECT c.md5s - s.seq - (row_number() OVER (ORDER BY s.seq DESC) - 1) AS before
                         FROM md5_first_seen s, catalog_counters c
                         WHERE c.id = 1 AND s.md5 = ANY($3::text[])) skipped
                     WHERE skipped.before <= $1)
              AND m.md5 NOT IN (SELECT unnest($3::text[]))
            ORDER BY m.seq DESC
            LIMIT $2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (long)offset });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)limit });
        command.Parameters.Add(new NpgsqlParameter { Value = (skip ?? []).ToArray() });
        var page = new List<Md5Listing>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var hosts = reader.GetFieldValue<string[]>(3).Distinct(StringComparer.Ordinal).ToArray();
            page.Add(new Md5Listing(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), hosts));
        }

        return page;
    }

    public static async Task<IReadOnlyList<CatalogEntry>> EntriesHeldByAsync(
        NpgsqlDataSource dataSource, string address, long afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        // The page's ids as an array looked up by the primary key: planned on a catalog of a few hundred rows, the form
        // `i.id IN (subquery)` hash-joined a sequential scan of images, and a plan its prepared statement keeps would
        // read the whole catalog for every page of the scrub and of self-repair as it grows (CatalogQueryTests).
        return await CatalogRows.QueryAsync(dataSource, CatalogRows.Select + """

            WHERE i.id = ANY(ARRAY(SELECT image_id FROM replicas WHERE address = $1 AND image_id > $2 ORDER BY image_id LIMIT $3))
            ORDER BY i.id
            """, cancellationToken, address, afterId, limit).ConfigureAwait(false);
    }

    public static async Task<ScanPage> OffFactorAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<string> upAddresses, int factor, int? mostCopies, long afterId,
        int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (mostCopies is { } most) ArgumentOutOfRangeException.ThrowIfLessThan(most, 1, nameof(mostCopies));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        // The examined page's last id first, then its matches: the cursor moves past a page with no match.
        batch.BatchCommands.Add(CatalogWrites.Command(
            "SELECT max(id), count(*) FROM (SELECT id FROM images WHERE id > $1 ORDER BY id LIMIT $2) p", afterId, limit));
        batch.BatchCommands.Add(CatalogWrites.Command(CatalogRows.Select + """

            WHERE i.id IN (SELECT id FROM images WHERE id > $1 ORDER BY id LIMIT $2)
              AND EXISTS (SELECT FROM replicas x WHERE x.image_id = i.id
                          HAVING count(*) FILTER (WHERE x.address = ANY($3)) < $4
                              OR (count(*) > $5 AND bool_and(x.address = ANY($3))))
            ORDER BY i.id
            """, afterId, limit, upAddresses.ToArray(), (long)factor, (long)(mostCopies ?? int.MaxValue)));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        long? last = reader.IsDBNull(0) ? null : reader.GetInt64(0);
        var examined = reader.GetInt64(1);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var entries = await CatalogRows.ReadAllAsync(reader, cancellationToken).ConfigureAwait(false);
        return new ScanPage(entries, examined < limit ? null : last);
    }

    public static async Task<CatalogStats> StatsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One transaction: the totals and the per-host rows come from one snapshot.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken)
            .ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT images, bytes FROM catalog_counters WHERE id = 1"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT host, images, bytes FROM host_totals WHERE images <> 0 ORDER BY host"));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var (images, bytes) = (reader.GetInt64(0), reader.GetInt64(1));
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var perHost = new SortedDictionary<string, HostTotals>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            perHost[reader.GetString(0)] = new HostTotals(reader.GetInt64(1), reader.GetInt64(2));
        }

        return new CatalogStats(images, bytes, perHost);
    }
}
