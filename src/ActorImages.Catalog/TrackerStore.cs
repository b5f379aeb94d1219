using System.Data;
using ActorImages.Messages;
using Npgsql;

namespace ActorImages.Catalog;

/// <summary>
/// The tracker state in PostgreSQL (docs/design.md, "Actors and services on every node"; docs/protocols.md, P3): peers
/// with their password hashes, holdings, registration times and sequences, and a version. The tracker singleton is its
/// only writer: it commits each batch here before it answers <c>OK</c>, so a hand-over or a crash loses no acknowledged
/// write, and a new singleton starts from <see cref="LoadAsync"/>.
/// </summary>
public sealed class TrackerStore
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>A store over <paramref name="dataSource"/>, whose schema <see cref="Migrations"/> has applied.</summary>
    /// <param name="dataSource">The database.</param>
    public TrackerStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>The tracker state's version: it grows with every committed batch (one row, one index lookup).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The version <see cref="LoadAsync"/> would return now.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<long> VersionAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT version FROM tracker_state WHERE id = 1");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Reads the whole tracker state from one snapshot.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The version and every registration, in sequence order.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<TrackerSnapshot> LoadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT version FROM tracker_state WHERE id = 1"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT ip, port, salt, hash, registered_at, sequence FROM peers ORDER BY sequence"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT ip, port, md5, name FROM peer_images ORDER BY ip, port, position"));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var version = reader.GetInt64(0);

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<(string Ip, int Port, string Salt, string Hash, DateTimeOffset At, long Sequence)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt64(5)));
        }

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var images = new Dictionary<(string, int), List<PeerImage>>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var key = (reader.GetString(0), reader.GetInt32(1));
            if (!images.TryGetValue(key, out var list))
            {
                images[key] = list = [];
            }

            list.Add(new PeerImage(reader.GetString(2), reader.GetString(3)));
        }

        var peers = rows.Select(r => new StoredPeer(
            new PeerRegistration(r.Ip, r.Port, images.GetValueOrDefault((r.Ip, r.Port)) ?? [], r.At, r.Sequence),
            r.Salt, r.Hash)).ToList();
        return new TrackerSnapshot(version, peers);
    }

    /// <summary>
    /// Commits a batch of changes in ONE transaction, in order, and bumps the version once. Sequences of the
    /// batch's registrations follow each other and exceed every earlier one, even one whose peer has left.
    /// </summary>
    /// <param name="writes">The changes, applied in order (a later write of an identity sees the earlier one).</param>
    /// <param name="cancellationToken">Cancels before the commit; a cancelled batch is not committed.</param>
    /// <returns>The new version and the sequence of each registration. An empty batch changes nothing and
    /// returns the current version.</returns>
    /// <exception cref="NpgsqlException">The database failed: before the commit (nothing of the batch committed) or
    /// while waiting for its flush (the batch may be committed, or lost in a crash); reload the state to know.</exception>
    public async Task<TrackerCommit> ApplyAsync(IReadOnlyList<TrackerWrite> writes, CancellationToken cancellationToken = default)
    {
        // The batch collapses to each identity's final state, so the transaction is five statements whatever its
        // size (a statement per write made a batch of 16 REGs cost 15-50 ms of parsing and planning): the rows of
        // every identity a REG or END touched are deleted (their holdings go with them), the last REG of each is
        // inserted again, and the final holdings of every identity a REG or UPD touched are written anew.
        var registers = writes.Count(w => w is TrackerWrite.Register);
        var rows = new Dictionary<(string Ip, int Port), (TrackerWrite.Register? Register, int K)>();
        var holdings = new Dictionary<(string Ip, int Port), IReadOnlyList<PeerImage>?>();
        var k = 0;
        foreach (var write in writes)
        {
            switch (write)
            {
                case TrackerWrite.Register r:
                    // The k-th registration of the batch gets (sequence before the batch) + k + 1.
                    rows[(r.Ip, r.Port)] = (r, k++);
                    holdings[(r.Ip, r.Port)] = r.Images;
                    break;
                case TrackerWrite.Update u:
                    holdings[(u.Ip, u.Port)] = u.Images;
                    break;
                case TrackerWrite.Remove d:
                    rows[(d.Ip, d.Port)] = (null, -1);
                    holdings[(d.Ip, d.Port)] = null;
                    break;
                default:
                    throw new ArgumentException($"Unknown tracker write {write.GetType().Name}", nameof(writes));
            }
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One transaction and its flush in one round trip, both done when the reader is (CatalogWrites explains).
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(CatalogWrites.WriteSettings());
        batch.BatchCommands.Add(writes.Count == 0
            ? CatalogWrites.Command("SELECT version, sequence FROM tracker_state WHERE id = 1")
            : CatalogWrites.Command(
                "UPDATE tracker_state SET version = version + 1, sequence = sequence + $1 WHERE id = 1 RETURNING version, sequence",
                (long)registers));
        if (rows.Count > 0)
        {
            batch.BatchCommands.Add(CatalogWrites.Command(
                "DELETE FROM peers p USING unnest($1::text[], $2::int[]) AS t(ip, port) WHERE p.ip = t.ip AND p.port = t.port",
                rows.Keys.Select(i => i.Ip).ToArray(), rows.Keys.Select(i => i.Port).ToArray()));
            var inserted = rows.Values.Where(v => v.Register is not null).Select(v => (Register: v.Register!, v.K)).ToList();
            if (inserted.Count > 0)
            {
                batch.BatchCommands.Add(CatalogWrites.Command("""
                    INSERT INTO peers (ip, port, salt, hash, registered_at, sequence)
                    SELECT t.ip, t.port, t.salt, t.hash, t.at, s.sequence - ($7 - 1 - t.k)
                    FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[])
                        AS t(ip, port, salt, hash, at, k),
                        (SELECT sequence FROM tracker_state WHERE id = 1) s
                    """,
                    inserted.Select(i => i.Register.Ip).ToArray(), inserted.Select(i => i.Register.Port).ToArray(),
                    inserted.Select(i => i.Register.Salt).ToArray(), inserted.Select(i => i.Register.Hash).ToArray(),
                    inserted.Select(i => i.Register.At.ToUniversalTime()).ToArray(), inserted.Select(i => (long)i.K).ToArray(),
                    (long)registers));
            }
        }

        var updated = holdings.Where(h => h.Value is not null).ToList();
        if (updated.Count > 0)
        {
            batch.BatchCommands.Add(CatalogWrites.Command(
                "DELETE FROM peer_images p USING unnest($1::text[], $2::int[]) AS t(ip, port) WHERE p.ip = t.ip AND p.port = t.port",
                updated.Select(h => h.Key.Ip).ToArray(), updated.Select(h => h.Key.Port).ToArray()));
            var images = updated.SelectMany(h => h.Value!.Select((image, position) => (h.Key.Ip, h.Key.Port, position, image))).ToList();
            batch.BatchCommands.Add(CatalogWrites.Command("""
                INSERT INTO peer_images (ip, port, position, md5, name)
                SELECT t.ip, t.port, t.position, t.md5, t.name
                FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[]) AS t(ip, port, position, md5, name)
                WHERE EXISTS (SELECT 1 FROM peers p WHERE p.ip = t.ip AND p.port = t.port)
                """,
                images.Select(i => i.Ip).ToArray(), images.Select(i => i.Port).ToArray(), images.Select(i => i.position).ToArray(),
                images.Select(i => i.image.Md5).ToArray(), images.Select(i => i.image.Name).ToArray()));
        }

        // Committed without waiting for the flush while the version row is held (WriteSettings, first), then flushed
        // outside it by a second transaction in the same round trip (CatalogWrites explains; the singleton's next
        // batch runs meanwhile).
        CatalogWrites.AppendFlush(batch);
        long version, last;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            // Past the settings' row: the version's follows.
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (version, last) = (reader.GetInt64(0), reader.GetInt64(1));
        } // disposing the reader reads up to the last ReadyForQuery: committed and flushed, or this threw

        var sequences = new long?[writes.Count];
        var next = last - registers + 1;
        for (var i = 0; i < writes.Count; i++)
        {
            sequences[i] = writes[i] is TrackerWrite.Register ? next++ : null;
        }

        return new TrackerCommit(version, sequences);
    }
}
