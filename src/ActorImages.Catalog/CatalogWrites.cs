using ActorImages.Messages;
using Npgsql;

namespace ActorImages.Catalog;

/// <summary>
/// The catalog's writes: a batch commit and a replica change, each one transaction. Every commit first locks the
/// single <c>catalog_counters</c> row, so catalog commits run one at a time cluster-wide: ids then grow in commit
/// order, the dense md5 numbering behind P3 <c>LST &lt;offset&gt;</c> has no gaps, and the totals stay exact. The
/// cost is one row lock per batch, and a batch is everything a node has pending (group commit, docs/design.md
/// "Registry"), so the cluster commits batches, not rows, one at a time.
/// <para>Every write here (and the tracker's, <see cref="TrackerStore"/>) is an <see cref="NpgsqlBatch"/> sent without
/// an explicit transaction: PostgreSQL runs the statements before the batch's one Sync message as a single implicit
/// transaction and commits it at the Sync, before it answers ReadyForQuery — all statements or none. That is one
/// network round trip where BEGIN … COMMIT takes two, and a row lock taken in the batch is held only while the server
/// works, never across a round trip to the node and the node's wait for a thread to send COMMIT (measured under load:
/// bin/bench prints the batches' time).</para>
/// <para>A catalog commit is not flushed while it holds the counter row: PostgreSQL releases a transaction's locks
/// after its commit record is flushed, so with synchronous_commit every batch cluster-wide waited for the fsync of
/// the one before it (sampled under three-node P1 load: two thirds of the catalog's backends were waiting for the
/// counter row while its holder ran or fsynced). The batch commits with synchronous_commit off, which frees the row
/// as soon as the commit record is written, and a second transaction sent in the same round trip
/// (<see cref="AppendFlush"/>) then waits, outside the lock, until the WAL is flushed past it; only then does the
/// caller hear of the commit, so nothing is acknowledged before it is durable, and concurrent batches share their
/// fsyncs. Ids still grow in commit order. Another node may read an entry
/// in the moment between the two (its uploader has no answer yet); a database crash in that moment loses it with
/// every later commit, as WAL is flushed in order.</para>
/// </summary>
internal static class CatalogWrites
{
    private const string InsertBatch = """
        WITH input AS (
            SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::int[], $7::text[],
                                 $8::text[], $9::text[], $10::timestamptz[], $11::text[], $12::text[])
                WITH ORDINALITY AS t(md5, sha256, size, media_type, width, height, filename, uploader, protocol,
                                     received_at, path, import_key, ord)),
        ins AS (
            INSERT INTO images (md5, sha256, size, media_type, width, height, filename, uploader, protocol,
                                received_at, path, import_key)
            SELECT md5, sha256, size, media_type, width, height, filename, uploader, protocol, received_at, path,
                   import_key
            FROM input ORDER BY ord
            ON CONFLICT (import_key) WHERE import_key IS NOT NULL DO NOTHING
            RETURNING id, md5, size, path),
        rep AS (
            INSERT INTO replicas (image_id, position, address, host)
            SELECT ins.id, r.position, r.address, r.host
            FROM unnest($13::text[], $14::smallint[], $15::text[], $16::text[]) AS r(path, position, address, host)
            JOIN ins ON ins.path = r.path
            RETURNING image_id, host),
        per_host AS (
            INSERT INTO host_totals AS h (host, images, bytes)
            SELECT rep.host, count(*), sum(ins.size) FROM rep JOIN ins ON ins.id = rep.image_id
            GROUP BY rep.host ORDER BY rep.host
            ON CONFLICT (host) DO UPDATE SET images = h.images + EXCLUDED.images, bytes = h.bytes + EXCLUDED.bytes),
        firsts AS (
            SELECT DISTINCT ON (md5) md5, id FROM ins
            WHERE NOT EXISTS (SELECT 1 FROM md5_first_seen m WHERE m.md5 = ins.md5)
            ORDER BY md5, id),
        seen AS (
            INSERT INTO md5_first_seen (md5, seq, first_id)
            SELECT f.md5, c.md5s + row_number() OVER (ORDER BY f.id), f.id
            FROM firsts f, (SELECT md5s FROM catalog_counters WHERE id = 1) c),
        bump AS (
            UPDATE catalog_counters SET md5s = md5s + (SELECT count(*) FROM firsts),
                                        images = images + (SELECT count(*) FROM ins),
                                        bytes = bytes + (SELECT coalesce(sum(size), 0) FROM ins)
            WHERE id = 1)
        SELECT id, path FROM ins
        """;

    public static async Task<IReadOnlyList<CatalogEntry>> CommitAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<NewEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return [];
        }

        foreach (var entry in entries)
        {
            Validate(entry);
        }

        var n = entries.Count;
        var times = new DateTime[n];
        var replicaCount = entries.Sum(e => e.Replicas.Count);
        var (rPath, rPosition, rAddress, rHost) = (new string[replicaCount], new short[replicaCount], new string[replicaCount], new string[replicaCount]);
        var k = 0;
        for (var i = 0; i < n; i++)
        {
            times[i] = CatalogRows.ToStoredTime(entries[i].ReceivedAt);
            for (var p = 0; p < entries[i].Replicas.Count; p++, k++)
            {
                (rPath[k], rPosition[k], rAddress[k], rHost[k]) = (entries[i].Path, (short)p, entries[i].Replicas[p].Address, entries[i].Replicas[p].Host);
            }
        }

        var importKeys = entries.Select(e => e.ImportKey).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One transaction and its flush in one round trip (see the class comment): the counter row is locked only while
        // the server runs the statements.
        await using var batch = new NpgsqlBatch(connection);
        // Planned once per connection, committed without waiting for the flush, which the transaction AppendFlush adds
        // waits for once the counter row is free (WriteSettings; the class comment says why).
        batch.BatchCommands.Add(WriteSettings());
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT 1 FROM catalog_counters WHERE id = 1 FOR UPDATE"));
        batch.BatchCommands.Add(Command(InsertBatch,
            entries.Select(e => e.Md5).ToArray(), entries.Select(e => e.Sha256).ToArray(), entries.Select(e => e.Size).ToArray(),
            entries.Select(e => e.MediaType).ToArray(), entries.Select(e => e.Width).ToArray(), entries.Select(e => e.Height).ToArray(),
            entries.Select(e => e.Filename).ToArray(), entries.Select(e => e.Uploader).ToArray(),
            entries.Select(e => e.Protocol.ToString()).ToArray(), times, entries.Select(e => e.Path).ToArray(), importKeys,
            rPath, rPosition, rAddress, rHost));
        var keys = importKeys.OfType<string>().Distinct().ToArray();
        if (keys.Length > 0)
        {
            // A separate statement sees the rows the insert just made: skipped entries are answered with what exists.
            batch.BatchCommands.Add(Command(CatalogRows.SelectWithImportKey + " WHERE i.import_key = ANY($1)", (object)keys));
        }

        AppendFlush(batch);

        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var existing = new Dictionary<string, CatalogEntry>(StringComparer.Ordinal);
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            // Past set_config's row and the counter row's: the insert's ids follow.
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ids[reader.GetString(1)] = reader.GetInt64(0);
            }

            if (keys.Length > 0)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    existing[reader.GetString(14)] = CatalogRows.Read(reader);
                }
            }
        } // disposing the reader reads up to the last ReadyForQuery: committed and flushed, or this threw

        var committed = new CatalogEntry[n];
        for (var i = 0; i < n; i++)
        {
            var e = entries[i];
            // Not inserted means its import key was already there (a taken path fails the whole batch instead).
            committed[i] = ids.TryGetValue(e.Path, out var id)
                ? new CatalogEntry(id, e.Md5, e.Sha256, e.Size, e.MediaType, e.Width, e.Height, e.Filename, e.Uploader,
                    e.Protocol, new DateTimeOffset(times[i]), e.Path, e.Replicas.ToArray())
                : existing[e.ImportKey!];
        }

        return committed;
    }

    public static void Validate(NewEntry entry)
    {
        // PostgreSQL's text holds no NUL: one such name would fail every entry of its batch.
        foreach (var text in (string?[])[entry.Filename, entry.Uploader, entry.MediaType, entry.Path, entry.ImportKey,
                     .. entry.Replicas.SelectMany(r => (string[])[r.Address, r.Host])])
        {
            if (text is not null && text.Contains('\0'))
                throw new ArgumentException($"a name holds a NUL character, which the catalog cannot store: '{text.Replace('\0', '_')}'", nameof(entry));
        }

        if (!IsLowerHex(entry.Md5, 32) || !IsLowerHex(entry.Sha256, 64))
        {
            throw new ArgumentException($"md5 and sha256 must be lowercase hex of 32 and 64 digits: {entry.Md5} {entry.Sha256}", nameof(entry));
        }

        if (entry.Size < 0 || string.IsNullOrEmpty(entry.Path))
        {
            throw new ArgumentException($"Size must be ≥ 0 and the path set: {entry.Size} '{entry.Path}'", nameof(entry));
        }

        ValidateReplicas(entry.Replicas);
    }

    private static void ValidateReplicas(IReadOnlyList<Replica> replicas)
    {
        if (replicas.Select(r => r.Address).Distinct(StringComparer.Ordinal).Count() != replicas.Count)
        {
            throw new ArgumentException($"A node holds at most one replica: {string.Join(", ", replicas.Select(r => r.Address))}", nameof(replicas));
        }
    }

    private static bool IsLowerHex(string value, int length) =>
        value.Length == length && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>
    /// Changes replica sets from what the catalog holds under the entries' row locks: in one transaction it locks the
    /// image rows (in id order, as a commit does), reads the entries — after the lock, so a concurrent change is
    /// either committed and seen or waits for this one — and writes what <paramref name="change"/> makes of each.
    /// Two nodes recording copies of one entry at once thus both land (a read then a separate write lost the first).
    /// </summary>
    public static async Task<int> ChangeReplicasAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<long> imageIds, Func<CatalogEntry, IReadOnlyList<Replica>?> change,
        CancellationToken cancellationToken)
    {
        if (imageIds.Count == 0) return 0;
        var ids = imageIds.Distinct().ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        List<CatalogEntry> entries;
        await using (var read = new NpgsqlBatch(connection))
        {
            read.BatchCommands.Add(LockImages(ids));
            // READ COMMITTED: this statement's snapshot is taken after the locks are held
            read.BatchCommands.Add(Command(CatalogRows.Select + " WHERE i.id = ANY($1) ORDER BY i.id", (object)ids));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) { }
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            entries = await CatalogRows.ReadAllAsync(reader, cancellationToken).ConfigureAwait(false);
        }
        var changes = new List<(long ImageId, IReadOnlyList<Replica> Replicas)>();
        foreach (var entry in entries)
        {
            if (change(entry) is { } replicas) changes.Add((entry.Id, replicas));
        }
        if (changes.Count > 0)
        {
            CheckReplicaChanges(changes);
            await using var write = new NpgsqlBatch(connection);
            AddReplicaWrites(write, changes);
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return changes.Count;
    }

    private static void CheckReplicaChanges(IReadOnlyList<(long ImageId, IReadOnlyList<Replica> Replicas)> changes)
    {
        foreach (var change in changes) ValidateReplicas(change.Replicas);
        if (changes.Select(c => c.ImageId).Distinct().Count() != changes.Count)
            throw new ArgumentException("An image appears twice in one replica change", nameof(changes));
    }

    /// <summary>Locks the image rows, in id order: the same lock order as a commit, so a repair and an ingest never
    /// deadlock. Returns one row per id found.</summary>
    private static NpgsqlBatchCommand LockImages(IEnumerable<long> ids) =>
        Command("SELECT id FROM images WHERE id = ANY($1) ORDER BY id FOR UPDATE", (object)ids.ToArray());

    /// <summary>Appends the statements that replace the replica sets (after <see cref="LockImages"/>): the host totals
    /// in host order, moved by the net difference in one statement, then the rows.</summary>
    private static void AddReplicaWrites(NpgsqlBatch batch, IReadOnlyList<(long ImageId, IReadOnlyList<Replica> Replicas)> changes)
    {
        var ids = changes.Select(c => c.ImageId).ToArray();
        // One row per new replica, flattened: image, position, address, host.
        var rowIds = new List<long>();
        var positions = new List<int>();
        var addresses = new List<string>();
        var hosts = new List<string>();
        foreach (var (imageId, replicas) in changes)
            for (var k = 0; k < replicas.Count; k++)
            {
                rowIds.Add(imageId);
                positions.Add(k);
                addresses.Add(replicas[k].Address);
                hosts.Add(replicas[k].Host);
            }
        batch.BatchCommands.Add(Command("""
            WITH delta AS (
                SELECT x.host, sum(x.d) AS n, sum(x.d * i.size) AS b FROM (
                    SELECT image_id, host, -1 AS d FROM replicas WHERE image_id = ANY($1)
                    UNION ALL SELECT t.image_id, t.host, 1 FROM unnest($2::bigint[], $3::text[]) AS t(image_id, host)) x
                JOIN images i ON i.id = x.image_id
                GROUP BY x.host HAVING sum(x.d) <> 0 OR sum(x.d * i.size) <> 0)
            INSERT INTO host_totals AS h (host, images, bytes)
            SELECT host, n, b FROM delta ORDER BY host
            ON CONFLICT (host) DO UPDATE SET images = h.images + EXCLUDED.images, bytes = h.bytes + EXCLUDED.bytes
            """, ids, rowIds.ToArray(), hosts.ToArray()));
        batch.BatchCommands.Add(Command("DELETE FROM replicas WHERE image_id = ANY($1)", (object)ids));
        batch.BatchCommands.Add(Command("""
            INSERT INTO replicas (image_id, position, address, host)
            SELECT t.image_id, t.position, t.address, t.host
            FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[]) AS t(image_id, position, address, host)
            WHERE EXISTS (SELECT 1 FROM images WHERE id = t.image_id)
            """, rowIds.ToArray(), positions.ToArray(), addresses.ToArray(), hosts.ToArray()));
    }

    /// <summary>
    /// Ends the transaction of the statements in <paramref name="batch"/> so far and appends a second one that returns
    /// only once the first is durable, both sent in one round trip. The last statement so far gets an error barrier
    /// (<see cref="NpgsqlBatchCommand.AppendErrorBarrier"/>: a Sync message after it), so PostgreSQL commits the
    /// statements up to it as one implicit transaction — all or none; its error is still thrown to the reader — and
    /// then runs the flush transaction: one WAL record (a transactional logical-decoding message, which no one
    /// decodes), committed with the session's synchronous_commit, so PostgreSQL flushes the WAL up to its commit
    /// record, which follows every earlier commit of this connection. Concurrent flushes share one fsync
    /// (PostgreSQL's group commit). A transaction that only takes an id writes no WAL and is not flushed; this one is
    /// (measured: one <c>wal_sync</c> per call). Disposing the batch's reader reads up to the flush's ReadyForQuery.
    /// </summary>
    /// <param name="batch">A batch of at least one statement, sent without an explicit transaction.</param>
    /// <exception cref="InvalidOperationException">the batch is empty</exception>
    internal static void AppendFlush(NpgsqlBatch batch)
    {
        if (batch.BatchCommands.Count == 0) throw new InvalidOperationException("nothing to flush");
        batch.BatchCommands[^1].AppendErrorBarrier = true;
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_logical_emit_message(true, 'actorimages', 'flush')"));
    }

    /// <summary>
    /// The first statement of a write batch (the catalog's commit, the tracker's): its transaction commits with
    /// synchronous_commit off (<see cref="AppendFlush"/> then waits for the WAL), and its statements run on plans made
    /// once per pooled connection (auto-prepared, <see cref="CatalogDatabase"/>), not once per batch: a custom plan of
    /// the catalog's commit cost 0.26 ms of planning per batch on a warm connection, spent while the batch held the
    /// counter row (pgbench, 6 connections of one-entry batches: 950 commits/s planned each time, 2,520 prepared). A
    /// plan kept must not depend on when it was made: a generic plan made while md5_first_seen (or the tracker's
    /// peers and peer_images) held a few hundred rows hash-joins a sequential scan of the table, and kept doing so for
    /// every batch as it grew (7,288 scans reading 68 million rows in two minutes of P1 at 8084efb). With sequential
    /// scans off for the transaction, every table is reached by its index whatever the statistics said
    /// (CatalogCommitTests, TrackerStoreTests). Its result is one row, which the reader steps past.
    /// </summary>
    internal static NpgsqlBatchCommand WriteSettings() =>
        new("SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
            + "set_config('enable_seqscan', 'off', true), set_config('synchronous_commit', 'off', true)");

    /// <summary><c>SET LOCAL</c> for a batch sent without BEGIN (class comment): <c>set_config(setting, value, true)</c>,
    /// which lasts until the batch's implicit transaction ends. Its result is one row, which the reader steps past.</summary>
    internal static NpgsqlBatchCommand SetLocal(string setting, string value) =>
        Command("SELECT set_config($1, $2, true)", setting, value);

    /// <summary>A statement with positional parameters $1, $2 …; pass a lone array as <c>(object)array</c>, or
    /// <c>params</c> would spread its elements over $1, $2 ….</summary>
    internal static NpgsqlBatchCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }
}
