using System.Globalization;
using ActorImages.Messages;
using Npgsql;
using NpgsqlTypes;

namespace ActorImages.Catalog;

/// <summary>
/// Fills the catalog with synthetic entries for benchmarks at catalog scale (<see cref="CatalogStore.FillSyntheticAsync"/>).
/// Binary COPY into every table of the catalog, in one transaction that holds the catalog_counters row like any
/// commit, so the ids, the md5 numbering, the names and the totals are exactly what real commits would have made.
/// </summary>
internal static class SyntheticFill
{
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(10);

    private static readonly Replica[] DefaultHolders =
    [
        new("akka.tcp://ActorImages@127.0.0.1:25520", "127.0.0.1"),
        new("akka.tcp://ActorImages@127.0.0.2:25520", "127.0.0.2"),
        new("akka.tcp://ActorImages@127.0.0.3:25520", "127.0.0.3"),
    ];

    public static async Task<long> RunAsync(
        NpgsqlDataSource dataSource, long count, IReadOnlyList<Replica>? holders, int factor, DateTimeOffset? start,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        holders ??= DefaultHolders;
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(factor, holders.Count);
        if (count == 0)
        {
            return 0;
        }

        var first = CatalogRows.ToStoredTime(start ?? DateTimeOffset.UtcNow - (Spacing * (count - 1)));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var md5Base = (long)(await ScalarAsync(connection, "SELECT md5s FROM catalog_counters WHERE id = 1 FOR UPDATE", cancellationToken)
            .ConfigureAwait(false))!;
        // A block of ids: nobody else takes one while we hold the counters row (every commit takes it first).
        var firstId = (long)(await ScalarAsync(connection, "SELECT nextval('images_id_seq')", cancellationToken).ConfigureAwait(false))!;
        await ScalarAsync(connection, $"SELECT setval('images_id_seq', {firstId + count - 1})", cancellationToken).ConfigureAwait(false);
        var nextSuffix = await ReserveAsync(connection, first, count, cancellationToken).ConfigureAwait(false);

        var random = new Random();
        var md5 = new byte[16];
        var sha = new byte[32];
        var sizes = new long[count];
        // One COPY at a time on a connection: the md5s are kept and written after the images.
        var md5s = new string[count];
        await using (var images = await connection.BeginBinaryImportAsync(
            "COPY images (id, md5, sha256, size, media_type, width, height, filename, uploader, protocol, received_at, path) FROM STDIN (FORMAT BINARY)",
            cancellationToken).ConfigureAwait(false))
        {
            for (long i = 0; i < count; i++)
            {
                var id = firstId + i;
                var at = first + (Spacing * i);
                random.NextBytes(md5);
                random.NextBytes(sha);
                md5s[i] = Convert.ToHexStringLower(md5);
                sizes[i] = 20_000 + random.NextInt64(5_000_000);
                var (uploader, protocol) = (i % 3) switch
                {
                    0 => ("tcp:10.0." + (i % 200) + ".7", SourceProtocol.P1Tcp),
                    1 => ("user" + (i % 50), SourceProtocol.P2WebSocket),
                    _ => ("http:10.1.0." + (i % 200), SourceProtocol.Http),
                };
                var baseName = CatalogStore.BaseName(at, "jpg");
                await images.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(id, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(md5s[i], NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(Convert.ToHexStringLower(sha), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(sizes[i], NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync("image/jpeg", NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(1920, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(1080, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync("synthetic-" + id.ToString("D7", CultureInfo.InvariantCulture) + ".jpg", NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(uploader, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(protocol.ToString(), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(at, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
                await images.WriteAsync(CatalogStore.PathFor(baseName, nextSuffix[baseName]++), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            }

            await images.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var seen = await connection.BeginBinaryImportAsync(
            "COPY md5_first_seen (md5, seq, first_id) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            for (long i = 0; i < count; i++)
            {
                await seen.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await seen.WriteAsync(md5s[i], NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await seen.WriteAsync(md5Base + i + 1, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await seen.WriteAsync(firstId + i, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            }

            await seen.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        var perHost = await WriteReplicasAsync(connection, holders, factor, firstId, sizes, cancellationToken).ConfigureAwait(false);
        await using (var totals = new NpgsqlBatch(connection, transaction))
        {
            totals.BatchCommands.Add(CatalogWrites.Command(
                "UPDATE catalog_counters SET md5s = md5s + $1, images = images + $1, bytes = bytes + $2 WHERE id = 1",
                count, sizes.Sum()));
            totals.BatchCommands.Add(CatalogWrites.Command("""
                INSERT INTO host_totals AS h (host, images, bytes)
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) ORDER BY 1
                ON CONFLICT (host) DO UPDATE SET images = h.images + EXCLUDED.images, bytes = h.bytes + EXCLUDED.bytes
                """, perHost.Keys.ToArray(), perHost.Values.Select(v => v.Images).ToArray(), perHost.Values.Select(v => v.Bytes).ToArray()));
            await totals.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        // Fresh statistics at once, not when autovacuum gets to it: the plans of the lookups depend on them.
        await ScalarAsync(connection, "ANALYZE images, replicas, md5_first_seen", cancellationToken).ConfigureAwait(false);
        return firstId;
    }

    /// <summary>Reserves every name the fill uses, per second of receipt; returns each base's first free suffix.</summary>
    private static async Task<Dictionary<string, long>> ReserveAsync(
        NpgsqlConnection connection, DateTime first, long count, CancellationToken cancellationToken)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            var key = CatalogStore.BaseName(first + (Spacing * i), "jpg");
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        await using var command = new NpgsqlCommand(CatalogStore.ReserveSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = counts.Keys.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = counts.Values.ToArray() });
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            next[reader.GetString(0)] = reader.GetInt64(1) - counts[reader.GetString(0)];
        }

        return next;
    }

    private static async Task<SortedDictionary<string, HostTotals>> WriteReplicasAsync(
        NpgsqlConnection connection, IReadOnlyList<Replica> holders, int factor, long firstId, long[] sizes,
        CancellationToken cancellationToken)
    {
        var perHost = new SortedDictionary<string, HostTotals>(StringComparer.Ordinal);
        await using var replicas = await connection.BeginBinaryImportAsync(
            "COPY replicas (image_id, position, address, host) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        for (long i = 0; i < sizes.Length; i++)
        {
            for (var p = 0; p < factor; p++)
            {
                // Rotating, so every holder gets about factor/holders of the catalog, as rendezvous hashing would.
                var holder = holders[(int)((i + p) % holders.Count)];
                await replicas.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await replicas.WriteAsync(firstId + i, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await replicas.WriteAsync((short)p, NpgsqlDbType.Smallint, cancellationToken).ConfigureAwait(false);
                await replicas.WriteAsync(holder.Address, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await replicas.WriteAsync(holder.Host, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                var had = perHost.GetValueOrDefault(holder.Host, new HostTotals(0, 0));
                perHost[holder.Host] = new HostTotals(had.Images + 1, had.Bytes + sizes[i]);
            }
        }

        await replicas.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return perHost;
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
